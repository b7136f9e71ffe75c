"""Live register in a real headless Chromium whose fake camera plays a video composed at test time from
the photos of ../shared/faces: the students in view become present after the required frames, a
student seen in a single frame does not."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attendance.models import AttendanceRecord, LiveEvidence
from attendance.register import services
from school.clock import school_today
from tests.attendance.live_frames import frame_scene
from tests.browser.y4m import write_y4m
from tests.classroom import make_class

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", "/tmp/smart-attendance-artifacts"))
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
FPS = 2  # a frame lasts half a second: the page, one picture a second at most, cannot see one twice
SECONDS = 40  # the video loops after this: longer than the test needs


# Where Obama and Biden sit, frame after frame, from their seats (dx, dy pixels): people move a little,
# and live mode counts a frame only when a face moved (a still picture is one piece of evidence). Seven
# places in turn: two frames the page sends one after the other are rarely the same place.
MOVES = ((0, 0), (4, 0), (4, 4), (0, 4), (-4, 2), (2, -3), (-3, -3))


def camera_video(faces: Path, path: Path) -> Path:
    """Obama and Biden in every frame, moving a little; Kit Harington in the first frame only. Every frame
    also differs by sensor noise, as a real camera's do (noise alone is not movement)."""
    with_kit = frame_scene(faces, ("obama", "biden", "kit_harington"), 31).pixels
    places = [frame_scene(faces, ("obama", "biden"), 32, (("obama", dx, dy), ("biden", -dy, dx))).pixels
              for dx, dy in MOVES]
    rng = np.random.default_rng(5)

    def frames() -> Iterator[np.ndarray]:
        yield with_kit
        for index in range(FPS * SECONDS - 1):
            without = places[index % len(places)]
            noise = rng.integers(-3, 4, size=without.shape, dtype=np.int16)
            yield np.clip(without.astype(np.int16) + noise, 0, 255).astype(np.uint8)

    return write_y4m(path, frames(), fps=FPS)


@pytest.fixture
def chromium_with_camera(faces: Path, tmp_path: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    video = camera_video(faces, tmp_path / "classroom.y4m")
    with sync_playwright() as running:
        browser = running.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            *BROWSER_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        yield browser
        browser.close()


def test_live_register_marks_the_students_in_view(chromium_with_camera: Any, live_server: Any, teacher: Any,
                                                  faces: Path, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    enrolled = make_class(teacher=teacher, faces=faces)
    session = services.session_create(course=enrolled.course, date=school_today(), label="Live", by=teacher)
    page = chromium_with_camera.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", teacher.username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")

    page.click("[data-live-start]")
    page.wait_for_selector("[data-live-box]", timeout=60_000)  # the first answered frame, with its boxes
    page.wait_for_function("document.querySelectorAll('[data-live-marked]').length >= 2", timeout=120_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "20-live-register.png"), full_page=True)
    page.click("[data-live-stop]")
    page.wait_for_selector("[data-live-status]:has-text('Live register stopped.')")

    marked = sorted(page.locator("[data-live-marked]").all_inner_texts())
    assert marked == ["Barack Obama — present", "Joe Biden — present"]
    assert page.locator("[data-live-present]").inner_text() == "2"
    assert page.locator('[data-live-box="present"]').count() >= 2
    statuses = {r.student_id: r.status for r in AttendanceRecord.objects.filter(session=session)}
    assert statuses[enrolled.students["obama"].pk] == "present"
    assert statuses[enrolled.students["biden"].pk] == "present"
    # Kit was in view for half a second: at most one frame saw him, which changes nothing.
    assert statuses[enrolled.students["kit_harington"].pk] == "unmarked"
    kit = LiveEvidence.objects.filter(session=session, student=enrolled.students["kit_harington"]).first()
    assert kit is None or kit.confident_frames + kit.uncertain_frames <= 1
    assert session.live_runs.get().ended_reason == "stopped"
    assert page.locator("[data-live-reload]").is_visible()


def test_live_register_stops_by_itself_when_everyone_is_present(chromium_with_camera: Any, live_server: Any,
                                                                teacher: Any, faces: Path, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    enrolled = make_class(teacher=teacher, faces=faces, enrol=("obama", "biden"))
    enrolled.course.enrollments.exclude(student__in=[enrolled.students["obama"], enrolled.students["biden"]]).delete()
    session = services.session_create(course=enrolled.course, date=school_today(), label="Live", by=teacher)
    page = chromium_with_camera.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", teacher.username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")

    page.click("[data-live-start]")
    page.wait_for_selector("[data-live-status]:has-text('Everyone is present')", timeout=120_000)

    assert page.locator("[data-live-start]").is_visible() and not page.locator("[data-live-stop]").is_visible()
    assert session.live_runs.get().ended_reason == "everyone_present"
    assert page.evaluate("document.documentElement.scrollWidth") <= 400  # fits a phone
    page.screenshot(path=str(ARTIFACTS / "21-live-everyone-present-phone.png"), full_page=True)
