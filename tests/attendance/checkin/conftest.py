"""Fixtures of the self check-in tests: a session of the enrolled class with an open window, on a
school network that is the test client's own address."""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any

import pytest

from attendance.checkin import services as checkin
from attendance.models import AttendanceSession, CheckinWindow
from attendance.register import services
from tests.attendance.checkin.phones import SCHOOL_NETWORK
from tests.classroom import EnrolledClass


@pytest.fixture(autouse=True)
def school_network(settings: Any) -> None:
    settings.CHECKIN_NETWORKS = (ipaddress.ip_network(SCHOOL_NETWORK),)


@pytest.fixture
def session(enrolled_class: EnrolledClass, teacher: Any) -> AttendanceSession:
    return services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 20), by=teacher)


@pytest.fixture
def window(session: AttendanceSession, teacher: Any) -> CheckinWindow:
    return checkin.checkin_window_create(session=session, by=teacher, minutes=10)
