"""Tokens in URLs (guardian links, the check-in QR code) are sealed: nothing in them is readable, and
each purpose has its own key."""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import re
import zlib
from typing import Any

import pytest

from accounts.guardian import Purpose, guardian_token_make
from attendance.checkin.services import checkin_token_make, checkin_window_create
from attendance.register import services
from school.sealed import TokenExpired, TokenInvalid, seal, unseal
from tests import factories

pytestmark = pytest.mark.django_db


def readable_parts(token: str) -> str:
    """Everything a curious reader gets out of a token by decoding its pieces (base64, then zlib)."""
    found = [token]
    for piece in re.split(r"[.:]", token):
        try:
            raw = base64.urlsafe_b64decode(piece.lstrip(".") + "=" * (-len(piece) % 4))
        except (binascii.Error, ValueError):
            continue
        found.append(raw.decode("latin-1"))
        with contextlib.suppress(zlib.error):
            found.append(zlib.decompress(raw).decode("latin-1"))
    return "\n".join(found)


def test_a_guardian_link_names_nobody(teacher: Any) -> None:
    student = factories.StudentFactory.create(created_by=teacher, guardian_email="mum@family.example")
    for purpose in Purpose:
        visible = readable_parts(guardian_token_make(student=student, purpose=purpose))
        assert '"s"' not in visible and '"v"' not in visible and "family.example" not in visible


def test_a_check_in_code_names_no_session_or_window(teacher: Any) -> None:
    course = factories.CourseFactory.create(teacher=teacher)
    session = services.session_create(course=course, date=datetime.date(2026, 11, 20), by=teacher)
    window = checkin_window_create(session=session, by=teacher)
    visible = readable_parts(checkin_token_make(window=window))
    assert '"s"' not in visible and '"w"' not in visible


def test_a_sealed_token_opens_only_for_its_purpose_and_age(time_machine: Any) -> None:
    time_machine.move_to(datetime.datetime(2026, 11, 20, 9, tzinfo=datetime.UTC), tick=False)
    token = seal({"student": 7}, purpose="one")
    assert unseal(token, purpose="one", max_age=datetime.timedelta(minutes=1)) == {"student": 7}
    with pytest.raises(TokenInvalid):
        unseal(token, purpose="two")
    with pytest.raises(TokenInvalid):
        unseal(token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB"), purpose="one")
    with pytest.raises(TokenInvalid):
        unseal("not a token ☃", purpose="one")
    time_machine.shift(datetime.timedelta(minutes=2))
    with pytest.raises(TokenExpired):
        unseal(token, purpose="one", max_age=datetime.timedelta(minutes=1))
