"""Guardians' signed links: attendance (read-only) and consent; single-purpose, expiring, revocable."""

from __future__ import annotations

import datetime
import re
import time
from unittest import mock

import pytest
from django.core import mail

from accounts.guardian import Purpose, guardian_token_make
from recognition.models import FaceEmbedding
from school.models import OutboxMessage
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory
from tests.people_data import finalised_session, stored_face

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


@pytest.fixture
def child(teacher):
    course = CourseFactory(teacher=teacher, name="Chemistry", code="CHEM-1")
    child = StudentFactory(created_by=teacher, first_name="Tom")
    sibling = StudentFactory(created_by=teacher, first_name="Zed")
    EnrollmentFactory(course=course, student=child)
    EnrollmentFactory(course=course, student=sibling)
    finalised_session(course, DAY, {child: ("absent", "manual", None), sibling: ("present", "face", 0.33)})
    return child


def _url(student, purpose):
    prefix = "attendance" if purpose is Purpose.ATTENDANCE else "consent"
    return f"/guardian/{prefix}/{guardian_token_make(student=student, purpose=purpose)}/"


def test_attendance_link_shows_the_childs_attendance_read_only(client, child):
    page = client.get(_url(child, Purpose.ATTENDANCE))
    assert page.status_code == 200
    html = page.content.decode()
    assert child.full_name in html and "Chemistry" in html and "Absent" in html
    assert "Zed" not in html and "<form" not in html.split("<main")[1]


def test_tampered_link_is_refused(client, child):
    url = _url(child, Purpose.ATTENDANCE)
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    response = client.get(tampered)
    assert response.status_code == 403 and b"not valid" in response.content


def test_link_of_another_purpose_is_refused(client, child):
    token = guardian_token_make(student=child, purpose=Purpose.ATTENDANCE)
    assert client.get(f"/guardian/consent/{token}/").status_code == 403
    consent_token = guardian_token_make(student=child, purpose=Purpose.CONSENT)
    assert client.get(f"/guardian/attendance/{consent_token}/").status_code == 403


def test_expired_link_is_refused(client, child, settings):
    settings.GUARDIAN_LINK_MAX_AGE_DAYS = 30
    with mock.patch("time.time", return_value=time.time() - 31 * 86400):
        old = _url(child, Purpose.ATTENDANCE)
    response = client.get(old)
    assert response.status_code == 403 and b"expired" in response.content
    with mock.patch("time.time", return_value=time.time() - 29 * 86400):
        recent = _url(child, Purpose.ATTENDANCE)
    assert client.get(recent).status_code == 200


def test_revoked_links_are_refused_and_new_ones_work(client, teacher, child):
    old = _url(child, Purpose.ATTENDANCE)
    old_consent = _url(child, Purpose.CONSENT)
    client.force_login(teacher)
    assert client.post(f"/students/{child.pk}/guardian/revoke/").status_code == 302
    client.logout()
    response = client.get(old)
    assert response.status_code == 403 and b"withdrawn by the school" in response.content
    assert client.get(old_consent).status_code == 403
    child.refresh_from_db()
    assert client.get(_url(child, Purpose.ATTENDANCE)).status_code == 200


def test_absence_email_carries_a_working_attendance_link(client, teacher, child, settings,
                                                        django_capture_on_commit_callbacks):
    from attendance.register.notices import session_finalized

    settings.SITE_URL = "https://attendance.school.example"
    session = finalised_session(child.courses.get(), DAY + datetime.timedelta(days=1),
                                {child: ("absent", "manual", None)})
    with django_capture_on_commit_callbacks(execute=True):
        session_finalized(session_id=session.pk, before={})
    (message,) = [m for m in mail.outbox if m.subject.startswith("Absence")]
    link = re.search(r"https://attendance\.school\.example(/guardian/attendance/\S+/)", message.body).group(1)
    assert client.get(link).status_code == 200


def test_teacher_sends_a_consent_link_and_the_guardian_withdraws(client, teacher, child,
                                                                 django_capture_on_commit_callbacks):
    stored_face(child)
    client.force_login(teacher)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/students/{child.pk}/guardian/consent-link/").status_code == 302
    assert OutboxMessage.objects.get(to=child.guardian_email).kind == "guardian_link"
    link = re.search(r"https?://[^/\s]+(/guardian/consent/\S+/)", mail.outbox[0].body).group(1)
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and b"consent given" in page.content
    unconfirmed = client.post(link, {"consent": "withdraw"})
    assert unconfirmed.status_code == 400 and FaceEmbedding.objects.filter(student=child).exists()
    done = client.post(link, {"consent": "withdraw", "confirm": "on"})
    assert done.status_code == 200 and b"Consent withdrawn" in done.content
    child.refresh_from_db()
    assert not child.consent_given and not FaceEmbedding.objects.filter(student=child).exists()
    again = client.post(link, {"consent": "give"})
    assert again.status_code == 200
    child.refresh_from_db()
    assert child.consent_given


def test_consent_link_needs_a_guardian_address(client, teacher):
    student = StudentFactory(created_by=teacher, guardian_email="")
    client.force_login(teacher)
    response = client.post(f"/students/{student.pk}/guardian/consent-link/", follow=True)
    assert b"guardian&#x27;s e-mail address first" in response.content and mail.outbox == []


def test_another_teacher_cannot_send_or_revoke(client, other_teacher, child):
    client.force_login(other_teacher)
    assert client.post(f"/students/{child.pk}/guardian/consent-link/").status_code == 404
    assert client.post(f"/students/{child.pk}/guardian/revoke/").status_code == 404


def test_daily_summary_carries_one_attendance_link_per_child(client, child, django_capture_on_commit_callbacks):
    from attendance.register.daily_mail import guardian_summaries_queue
    from school.selectors import school_settings_get

    settings_row = school_settings_get()
    settings_row.guardian_daily_summary = True
    settings_row.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert guardian_summaries_queue(day=DAY) >= 1
    (message,) = [m for m in mail.outbox if m.to == [child.guardian_email]]
    links = re.findall(r"https?://[^/\s]+(/guardian/attendance/\S+/)", message.body)
    assert len(links) == 1 and client.get(links[0]).status_code == 200


def test_guardian_consent_goes_into_the_history_with_an_erasure_receipt(client, child):
    from accounts.models import ConsentEvent, ErasureReceipt

    stored_face(child)
    link = _url(child, Purpose.CONSENT)
    page = client.get(link)
    assert b'id="consent-text"' in page.content and b"version" in page.content
    client.post(link, {"consent": "withdraw", "confirm": "on"})
    event = ConsentEvent.objects.filter(student=child).latest("created_at")
    assert (event.action, event.given_by, event.channel, event.recorded_by) == (
        "withdraw", "guardian", "guardian_link", None)
    receipt = ErasureReceipt.objects.get(student=child, consent_event=event)
    assert receipt.embeddings_deleted == 1 and receipt.photos_deleted == 1
    shown = client.get(link).content.decode()  # the family sees the receipt
    assert 'id="erasure-receipts"' in shown and receipt.summary in shown


def test_a_sent_absence_email_leaves_no_working_link_in_the_outbox(client, child, settings,
                                                                   django_capture_on_commit_callbacks):
    from attendance.register.notices import session_finalized

    settings.SITE_URL = "https://attendance.school.example"
    session = finalised_session(child.courses.get(), DAY + datetime.timedelta(days=1),
                                {child: ("absent", "manual", None)})
    with django_capture_on_commit_callbacks(execute=True):
        session_finalized(session_id=session.pk, before={})
    (delivered,) = [m for m in mail.outbox if m.subject.startswith("Absence")]
    assert "/guardian/attendance/" in delivered.body  # the family got the link
    kept = OutboxMessage.objects.get(kind="absence", to=child.guardian_email)
    assert kept.status == "sent" and "was marked absent" in kept.body
    assert "/guardian/" not in kept.body and "(link removed once sent)" in kept.body


def test_a_sent_daily_summary_leaves_no_working_link_in_the_outbox(child, django_capture_on_commit_callbacks):
    from attendance.register.daily_mail import guardian_summaries_queue
    from school.selectors import school_settings_get

    settings_row = school_settings_get()
    settings_row.guardian_daily_summary = True
    settings_row.save()
    with django_capture_on_commit_callbacks(execute=True):
        guardian_summaries_queue(day=DAY)
    kept = OutboxMessage.objects.get(kind="daily_summary", to=child.guardian_email)
    assert kept.status == "sent" and child.full_name in kept.body and "/guardian/" not in kept.body
