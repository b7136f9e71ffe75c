"""People's own doors in a real headless Chromium on a phone-sized screen: a student logs in to their
own page and downloads their data; a teacher who forgot the password resets it from the e-mail."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from tests.browser.test_take_attendance import BROWSER_ARGS, CHROMIUM, browser, playwright, shot  # noqa: F401
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory
from tests.people_data import finalised_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def _phone(browser: Any) -> Any:  # noqa: F811
    return browser.new_context(viewport=PHONE, accept_downloads=True, is_mobile=True).new_page()


def test_student_on_a_phone_sees_own_attendance_and_downloads_data(browser, live_server, teacher,  # noqa: F811
                                                                   student_user):
    course = CourseFactory(teacher=teacher, code="GEO-7", name="Geography")
    me = StudentFactory(user=student_user, created_by=teacher)
    EnrollmentFactory(course=course, student=me)
    finalised_session(course, datetime.date(2026, 3, 2), {me: ("present", "face", 0.4412)})
    page = _phone(browser)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", student_user.username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/me/")
    assert "Geography" in page.content() and "Face match, distance 0.441" in page.content()
    # Phone-first: the page itself never scrolls sideways (wide tables scroll inside their card).
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "student-me-phone")
    with page.expect_download() as download_info:
        page.click("text=Download my data (JSON)")
    document = json.loads(Path(download_info.value.path()).read_text())
    assert document["attendance"][0]["records"][0]["evidence"]["distance"] == 0.441


def test_teacher_resets_a_forgotten_password_in_the_browser(browser, live_server, teacher):  # noqa: F811
    page = _phone(browser)
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Forgotten password?")
    page.fill("input[name=email]", teacher.email)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/password/reset/sent/$"))
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[-1].body).group(0)
    page.goto(re.sub(r"^https?://[^/]+", live_server.url, link))
    page.fill("input[name=new_password1]", "phone-chosen-pass-2026")
    page.fill("input[name=new_password2]", "phone-chosen-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/reset/done/$"))
    page.click("a.button.primary")
    page.fill("input[name=username]", teacher.username)
    page.fill("input[name=password]", "phone-chosen-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    shot(page, "teacher-after-reset")
