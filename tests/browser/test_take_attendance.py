"""A teacher's day in a real headless Chromium (Debian's), driven by Playwright.

Screenshots of each step go to $ARTIFACTS_DIR (default /tmp/smart-attendance-artifacts), outside
the repository.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounts.models import TeacherSettings
from tests.classroom import make_class

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", "/tmp/smart-attendance-artifacts"))


BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
    yield browser
    browser.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, live_server: Any, user: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_take_attendance_from_login_to_report(browser: Any, live_server: Any, teacher: Any, faces: Path,
                                              settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    enrolled = make_class(teacher=teacher, faces=faces)
    # Biden's match on this photo (0.42) then waits for the teacher: the confirm step is exercised.
    TeacherSettings.objects.create(user=teacher, confident_threshold="0.40", uncertain_threshold="0.60")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(30_000)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", teacher.username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    shot(page, "01-login")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text().startswith("Good day")
    shot(page, "02-dashboard")

    page.locator(".rows li", has_text=enrolled.course.code).get_by_role("link", name="Take attendance").click()
    page.click("text=Open the session")
    page.wait_for_selector("[data-upload-form]")
    shot(page, "03-session-empty")

    page.set_input_files("input#photos", str(faces / "probes/obama_and_biden.jpg"))
    page.click("[data-upload-form] button[type=submit]")
    page.wait_for_selector(".progress-list li")  # the per-photo progress row
    shot(page, "04-uploading")
    page.wait_for_selector("[data-face-box]", timeout=60_000)  # the page reloads with the boxes
    boxes = page.locator("[data-face-box]")
    assert boxes.count() == 3
    labels = sorted(boxes.nth(i).inner_text() for i in range(3))
    assert labels[0].startswith("Barack Obama ·") and labels[1].startswith("Joe Biden ·")
    assert labels[2].startswith("Unknown")
    assert page.locator('[data-face-box="present"]').count() == 1
    assert page.locator('[data-face-box="pending"]').count() == 1
    assert page.locator('[data-face-box="unknown"]').count() == 1
    shot(page, "05-boxes")

    page.locator("#pending").get_by_role("button", name="Confirm").click()
    page.wait_for_selector("text=Joe Biden: present.")
    assert page.locator('[data-face-box="pending"]').count() == 1  # the box keeps the machine's verdict
    assert page.locator("#pending").count() == 0
    shot(page, "06-confirmed")

    page.click("text=Finalise the session")
    page.wait_for_selector("text=Session finalised: 3 absent")
    session_url = page.url
    shot(page, "07-finalised")

    page.click(f"text=Report of {enrolled.course.code}")
    page.wait_for_selector("svg.chart")
    rows = {page.locator("tbody tr").nth(i).get_attribute("data-student"):
            page.locator("tbody tr").nth(i).locator("td.rate").inner_text()
            for i in range(page.locator("tbody tr").count())}
    assert rows["Barack Obama"] == "100%" and rows["Joe Biden"] == "100%" and rows["Kit Harington"] == "0%"
    assert re.search(r"course average\s+40%", page.locator("h2").first.inner_text())
    shot(page, "08-report")

    # Enrolling a face: a refused photo is explained in words, a good one is enrolled.
    kit = enrolled.students["kit_harington"]
    kit.face_embeddings.all().delete()
    page.goto(f"{live_server.url}/students/{kit.pk}/")
    page.set_input_files("input#face-photo", str(faces / "groups/two_people.jpg"))
    page.click("#enrol button[type=submit]")
    page.wait_for_selector(".progress-list li.failed")
    assert "an enrolment photo must show exactly one person" in page.locator(".progress-list li").inner_text()
    shot(page, "09-enrol-refused")
    page.set_input_files("input#face-photo", str(faces / "people/kit_harington/john2.jpeg"))
    page.click("#enrol button[type=submit]")
    page.wait_for_selector("text=Face enrolled for Kit Harington")
    page.wait_for_selector("#faces img", timeout=10_000)  # reloaded with the thumbnail
    assert kit.face_embeddings.count() == 1
    shot(page, "10-enrolled")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.context.add_cookies(page.context.cookies())
    for name, url in (("11-report-phone", page.url), ("12-session-phone", session_url)):
        phone.goto(url)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{url} scrolls sideways on a phone ({width}px)"
        shot(phone, name)


def _student_page(browser: Any, live_server: Any, teacher: Any, faces: Path, settings: Any) -> tuple[Any, Any]:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    enrolled = make_class(teacher=teacher, faces=faces, enrol=())
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    log_in(page, live_server, teacher)
    page.goto(f"{live_server.url}/students/{enrolled.students['rose_leslie'].pk}/")
    return page, enrolled


def test_the_camera_refused_falls_back_to_the_file_picker(browser: Any, live_server: Any, teacher: Any,
                                                          faces: Path, settings: Any) -> None:
    page, _ = _student_page(browser, live_server, teacher, faces, settings)
    page.click("#enrol [data-camera-start]")
    message = page.locator("#enrol [data-camera-message]")
    message.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#enrol [data-camera-message]').textContent.length > 0")
    assert "choose a photo file instead" in message.inner_text()
    shot(page, "13-camera-refused")


def test_a_photo_taken_with_the_camera_is_checked_by_the_quality_gate(playwright: Any, live_server: Any,
                                                                       teacher: Any, faces: Path,
                                                                       settings: Any) -> None:
    # Chromium's fake camera (a test pattern, no face), with the permission granted.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*BROWSER_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    try:
        page, enrolled = _student_page(browser, live_server, teacher, faces, settings)
        page.click("#enrol [data-camera-start]")
        page.wait_for_selector("#enrol [data-camera]:not([hidden])")
        page.wait_for_function("document.querySelector('#enrol video').videoWidth > 0")
        page.click("#enrol [data-camera-shoot]")
        page.wait_for_selector("#enrol .progress-list li.failed")
        assert "No face was found in the photo" in page.locator("#enrol .progress-list li").inner_text()
        shot(page, "14-camera-no-face")
    finally:
        browser.close()
    assert not enrolled.students["rose_leslie"].face_embeddings.exists()


def test_reviewing_a_30_face_photo_on_a_phone(browser: Any, live_server: Any, teacher: Any, faces: Path,
                                              settings: Any, tmp_path: Path) -> None:
    """A 12 MP phone photo of 30 people and a poster, reviewed on a 390 px screen: the boxes are
    found, tapping one opens that face's crop, nothing is preselected, an assignment and a "not a
    student" go through, and nothing scrolls sideways."""
    import datetime

    from attendance.register.services import session_create
    from tests import scenes

    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    enrolled = make_class(teacher=teacher, faces=faces)
    session = session_create(course=enrolled.course, date=datetime.date(2026, 11, 23), label="P1", by=teacher)
    scene = scenes.phone_photo(faces)
    photo = tmp_path / "classroom.jpg"
    photo.write_bytes(scene.jpeg(90))

    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.set_default_timeout(60_000)
    log_in(page, live_server, teacher)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.set_input_files("input#photos", str(photo))
    page.click("[data-upload-form] button[type=submit]")
    page.wait_for_selector("[data-face-box]", timeout=120_000)
    assert page.locator("[data-face-box]").count() == len(scene.faces) == 31
    assert page.locator('[data-face-box="present"]').count() == 5  # the five enrolled people
    cards = page.locator("#unknown .face-card")
    assert cards.count() == 26  # 25 strangers and the poster
    page.wait_for_function("[...document.querySelectorAll('#unknown img.crop')].slice(0, 4)"
                           ".every(img => img.complete && img.naturalWidth > 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    shot(page, "15-phone-30-faces")

    # Tapping a box on the photo opens that face's card.
    box = page.locator('a[data-face-box="unknown"]').nth(3)
    target = box.get_attribute("href")
    box.click()
    page.wait_for_function(f"location.hash === '{target}'")
    card = page.locator(f"{target}.face-card")
    assert card.is_visible() and card.locator("select").input_value() == ""
    shot(page, "16-phone-face-opened")

    card.locator("select").select_option(label="Kit Harington")
    card.get_by_role("button", name="Assign").click()
    page.wait_for_selector("text=Kit Harington marked present.")
    # Kit was already recognised on this photo: one face per student per photo, so the face first
    # matched to Kit becomes unknown as the assigned one leaves the review (issue 9 item 18).
    assert page.locator("#unknown .face-card").count() == 26

    page.locator("#unknown .face-card").first.get_by_role("button", name="Not a student").click()
    page.wait_for_selector("text=dismissed: not a student")
    assert page.locator("#unknown .face-card").count() == 25
    assert page.locator('[data-face-box="dismissed"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    shot(page, "17-phone-after-review")
