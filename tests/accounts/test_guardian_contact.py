"""A guardian's e-mail address: only the office changes it once set (page, API, admin, roster import
alike); each change is audited, revokes the child's guardian links and tells the former address; a
consent given through a link records the address the link was sent to."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.guardian import Purpose, guardian_link_make
from accounts.models import ConsentEvent, GuardianContactChange, StudentProfile
from tests import factories
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db

OLD, NEW = "old.parent@family.example", "new.parent@family.example"


@pytest.fixture
def pupil(teacher: Any) -> StudentProfile:
    student = factories.StudentFactory.create(created_by=teacher, guardian_email=OLD, consent_given=False)
    factories.EnrollmentFactory.create(course=factories.CourseFactory.create(teacher=teacher), student=student)
    return student


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_a_teacher_cannot_redirect_the_guardians_address_through_the_api(teacher_api: Any,
                                                                          pupil: StudentProfile) -> None:
    response = teacher_api.patch(f"/api/v1/students/{pupil.pk}/", {"guardian_email": "me@evil.example"},
                                 format="json")
    assert response.status_code == 403 and response.json()["error_code"] == "GUARDIAN_CONTACT_OFFICE_ONLY"
    pupil.refresh_from_db()
    assert pupil.guardian_email == OLD and not GuardianContactChange.objects.exists()


def test_a_teacher_gives_a_first_address_audited(teacher_api: Any, teacher: Any) -> None:
    student = factories.StudentFactory.create(created_by=teacher, guardian_email="")
    response = teacher_api.patch(f"/api/v1/students/{student.pk}/", {"guardian_email": NEW}, format="json")
    assert response.status_code == 200 and response.json()["guardian_email"] == NEW
    change = GuardianContactChange.objects.get(student=student)
    assert (change.old_email, change.new_email, change.changed_by, change.channel) == ("", NEW, teacher, "api")


def test_the_office_changes_the_address_audited_links_revoked_former_address_told(
        admin_api: Any, admin_user: Any, client: Any, pupil: StudentProfile,
        django_capture_on_commit_callbacks: Any) -> None:
    old_link = _path(guardian_link_make(student=pupil, purpose=Purpose.ATTENDANCE))
    assert client.get(old_link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.patch(f"/api/v1/students/{pupil.pk}/", {"guardian_email": NEW}, format="json")
    assert response.status_code == 200
    change = GuardianContactChange.objects.get(student=pupil)
    assert (change.old_email, change.new_email, change.changed_by_username, change.channel) == (
        OLD, NEW, admin_user.username, "api")
    refused = client.get(old_link)
    assert refused.status_code == 403 and b"withdrawn by the school" in refused.content
    (notice,) = [m for m in mail.outbox if m.to == [OLD]]
    assert "no longer" in notice.body and NEW not in notice.body  # the new address is not given away
    pupil.refresh_from_db()
    assert client.get(_path(guardian_link_make(student=pupil, purpose=Purpose.ATTENDANCE))).status_code == 200


def test_the_office_page_changes_the_address_through_the_same_service(client_for: ClientFor, admin_user: Any,
                                                                      pupil: StudentProfile) -> None:
    response = client_for(admin_user).post(f"/office/students/{pupil.pk}/", {
        "student_number": pupil.student_number, "first_name": pupil.first_name, "last_name": pupil.last_name,
        "guardian_email": NEW, "username": "", "email": ""})
    assert response.status_code == 302
    change = GuardianContactChange.objects.get(student=pupil)
    assert (change.old_email, change.new_email, change.channel) == (OLD, NEW, "page")


def test_the_admin_changes_the_address_through_the_same_service(client_for: ClientFor, admin_user: Any,
                                                                pupil: StudentProfile) -> None:
    office = client_for(admin_user)
    form = {"student_number": pupil.student_number, "first_name": "Renamed", "last_name": pupil.last_name,
            "guardian_email": NEW, "user": "", "_save": "Save"}
    for prefix in ("consent_events", "guardian_contact_changes", "erasure_receipts"):
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = office.post(f"/admin/accounts/studentprofile/{pupil.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    pupil.refresh_from_db()
    assert (pupil.first_name, pupil.guardian_email) == ("Renamed", NEW)
    assert GuardianContactChange.objects.get(student=pupil).channel == "admin"


def _roster(client: Any, course_id: int, text: str) -> str:
    upload = SimpleUploadedFile("roster.csv", text.encode(), content_type="text/csv")
    return client.post(f"/courses/{course_id}/roster/", {"file": upload}, follow=True).content.decode()


def test_a_teachers_roster_cannot_redirect_an_address_and_the_row_is_reported(
        client_for: ClientFor, teacher: Any, pupil: StudentProfile) -> None:
    course = pupil.courses.get()
    page = _roster(client_for(teacher), course.pk,
                   f"student_number,first_name,last_name,guardian_email\n{pupil.student_number},Re,Named,{NEW}\n"
                   "NEW-1,Ann,Able,ann.parent@family.example\n")
    assert "Line 2 not imported" in page and "office" in page
    pupil.refresh_from_db()
    assert (pupil.guardian_email, pupil.first_name) == (OLD, pupil.first_name)
    assert StudentProfile.objects.get(student_number="NEW-1").guardian_email == "ann.parent@family.example"
    assert not GuardianContactChange.objects.exists()


def test_the_offices_roster_changes_an_address_audited(client_for: ClientFor, admin_user: Any,
                                                      pupil: StudentProfile) -> None:
    upload = SimpleUploadedFile("roster.csv", (f"student_number,first_name,last_name,guardian_email\n"
                                               f"{pupil.student_number},A,B,{NEW}\n").encode(), "text/csv")
    client_for(admin_user).post("/office/students/import/", {"file": upload})
    change = GuardianContactChange.objects.get(student=pupil)
    assert (change.old_email, change.new_email, change.channel, change.changed_by) == (OLD, NEW, "import",
                                                                                       admin_user)


def test_consent_through_a_link_records_the_address_it_was_sent_to(client: Any, pupil: StudentProfile) -> None:
    link = _path(guardian_link_make(student=pupil, purpose=Purpose.CONSENT))
    assert client.post(link, {"consent": "give"}).status_code == 200
    event = ConsentEvent.objects.get(student=pupil, action="grant")
    assert (event.given_by, event.channel, event.link_sent_to) == ("guardian", "guardian_link", OLD)
