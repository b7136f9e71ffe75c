"""Self check-in in a real headless Chromium: the teacher opens a window and the QR code rotates; a
student on a phone-sized screen follows the code, logs in, does the liveness step in front of the phone's
camera and is checked in; the teacher confirms another student's pending check-in with one tap.

The phone's fake camera plays a video composed at test time from two real photos of Obama turned about
24° to each side, alternating every second, as a head turn in front of the camera would."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from attendance.checkin import services as checkin
from attendance.models import AttendanceRecord, CheckinAttempt, CheckinWindow
from attendance.register import services
from school.clock import school_today
from tests import factories
from tests.browser.y4m import write_y4m
from tests.classroom import make_class

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", "/tmp/smart-attendance-artifacts"))
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
PASSWORD = "correct-horse-battery-staple"
TURN = ("people/obama/obama2.jpg", "probes/obama1.jpg")  # about -24° and +24° of yaw; not the enrolled photo
FPS = 1  # one pose a second: the page's pictures, 0.7 to 1.8 s apart, catch both


def head_turn_video(faces: Path, path: Path, seconds: int = 60) -> Path:
    """The two poses, each fitted into a 640x480 picture, alternating, with a little sensor noise."""
    poses = []
    for relative in TURN:
        photo = Image.open(faces / relative).convert("RGB")
        photo.thumbnail((640, 480))
        canvas = Image.new("RGB", (640, 480), (90, 90, 90))
        canvas.paste(photo, ((640 - photo.width) // 2, (480 - photo.height) // 2))
        poses.append(np.asarray(canvas))
    rng = np.random.default_rng(19)

    def frames() -> Iterator[np.ndarray]:
        for index in range(seconds * FPS):
            noise = rng.integers(-3, 4, size=poses[0].shape, dtype=np.int16)
            yield np.clip(poses[index % 2].astype(np.int16) + noise, 0, 255).astype(np.uint8)

    return write_y4m(path, frames(), fps=FPS)


@pytest.fixture
def chromium(faces: Path, tmp_path: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    video = head_turn_video(faces, tmp_path / "head-turn.y4m")
    with sync_playwright() as running:
        browser = running.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            *BROWSER_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
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
    settings.CHECKIN_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
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
    phone.wait_for_selector("[data-liveness-start]")  # the camera step replaces the photo field
    assert phone.locator("input#selfie").is_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    phone.click("[data-liveness-start]")
    phone.wait_for_function("document.querySelector('[data-liveness-step]').textContent.includes('left')")
    phone.screenshot(path=str(ARTIFACTS / "31-checkin-liveness.png"), full_page=True)
    phone.wait_for_selector("[data-checkin-outcome]", timeout=90_000)
    phone.screenshot(path=str(ARTIFACTS / "32-checkin-phone.png"), full_page=True)
    attempt = CheckinAttempt.objects.get(session=session, student=obama)
    assert attempt.outcome == "present", attempt.reason
    record = AttendanceRecord.objects.get(session=session, student=obama)
    assert record.status == "present" and record.source == "self"

    # Biden sends one old photo from an app: pending, and the teacher decides on his selfie with one tap.
    biden = enrolled.students["biden"]
    biden.user = factories.StudentUserFactory(username="joe")
    biden.save(update_fields=["user"])
    old_photo = (faces / "people/biden/biden2.jpg").read_bytes()
    pending = checkin.checkin_submit(window=window, user=biden.user, selfie=old_photo, device_id="app-1",
                                     client_address="127.0.0.1")
    assert pending.attempt.outcome == "pending"

    desk.reload()
    desk.wait_for_selector(".checkin-log li")
    assert "Barack Obama" in desk.locator(".checkin-log").inner_text()
    desk.wait_for_function("document.querySelector('[data-checkin-review] img').naturalWidth > 0")
    desk.screenshot(path=str(ARTIFACTS / "33-checkin-review.png"), full_page=True)
    desk.click("[data-checkin-review] button[value=present]")
    desk.wait_for_selector("text=Joe Biden: present.")
    assert AttendanceRecord.objects.get(session=session, student=biden).status == "present"
    desk.click("#checkin form[action$='/checkin/close/'] button")
    desk.wait_for_selector("text=Self check-in closed.")
    assert desk.locator("[data-checkin-qr]").count() == 0
