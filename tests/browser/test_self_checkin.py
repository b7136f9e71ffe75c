"""Self check-in in a real headless Chromium: the teacher opens a window and the QR code rotates; a
student on a phone-sized screen follows the code, logs in, sends a selfie and is checked in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attendance.checkin import services as checkin
from attendance.models import AttendanceRecord, CheckinWindow
from attendance.register import services
from school.clock import school_today
from tests import factories
from tests.classroom import make_class

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", "/tmp/smart-attendance-artifacts"))
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        browser = running.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield browser
        browser.close()


def log_in(page: Any, url: str, username: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_student_checks_in_with_a_selfie_from_the_rotating_code(chromium: Any, live_server: Any, teacher: Any,
                                                                  faces: Path, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    settings.CHECKIN_QR_ROTATE_SECONDS = 5
    enrolled = make_class(teacher=teacher, faces=faces)
    obama = enrolled.students["obama"]
    obama.user = factories.StudentUserFactory(username="barack")
    obama.save(update_fields=["user"])
    session = services.session_create(course=enrolled.course, date=school_today(), label="QR", by=teacher)

    desk = chromium.new_page(viewport={"width": 1200, "height": 900})
    desk.goto(f"{live_server.url}/accounts/login/")
    log_in(desk, live_server.url, teacher.username)
    desk.wait_for_url(f"{live_server.url}/")
    desk.goto(f"{live_server.url}/sessions/{session.pk}/")
    desk.click("#checkin button[type=submit]")  # Open check-in
    desk.wait_for_selector("[data-checkin-qr]")
    desk.wait_for_function("document.querySelector('[data-checkin-qr]').naturalWidth > 0")
    first = desk.get_attribute("[data-checkin-qr]", "src")
    desk.wait_for_function(f"document.querySelector('[data-checkin-qr]').getAttribute('src') !== '{first}'",
                           timeout=15_000)  # the code rotates
    desk.wait_for_function("document.querySelector('[data-checkin-qr]').naturalWidth > 0")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    desk.screenshot(path=str(ARTIFACTS / "30-checkin-qr.png"), full_page=True)

    # What the phone's camera app opens: the URL in the code (a fresh token, as the screen shows).
    window = CheckinWindow.objects.get(session=session)
    phone = chromium.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto(f"{live_server.url}/checkin/{checkin.checkin_token_make(window=window)}/")
    phone.wait_for_selector("input[name=username]")  # the login page, the scan remembered
    log_in(phone, live_server.url, "barack")
    phone.wait_for_selector("input#selfie[capture=user]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    phone.set_input_files("input#selfie", str(faces / "probes/obama1.jpg"))
    phone.click("[data-checkin-form] button[type=submit]")
    phone.wait_for_selector('[data-checkin-outcome="present"]')
    phone.screenshot(path=str(ARTIFACTS / "31-checkin-phone.png"), full_page=True)
    record = AttendanceRecord.objects.get(session=session, student=obama)
    assert record.status == "present" and record.source == "self"

    desk.reload()
    desk.wait_for_selector(".checkin-log li")
    assert "Barack Obama" in desk.locator(".checkin-log").inner_text()
    desk.click("#checkin form[action$='/checkin/close/'] button")
    desk.wait_for_selector("text=Self check-in closed.")
    assert desk.locator("[data-checkin-qr]").count() == 0
