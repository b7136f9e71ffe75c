"""Reports beyond one course: the office's school-wide report, a student across courses, a course's
register through the API, CSV and real PDFs (rendered with poppler to check they are not blank)."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from attendance.register import periods, services
from school.models import Closure, Term
from tests.attendance.school_day import DAY, held, in_london, school_time, timetabled_course  # noqa: F401
from tests.conftest import ClientFor

# The clock stands at DAY 15:00 from the start of each test, before any fixture: the JWTs of
# teacher_api and admin_api are issued in that time too.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_london"),
              pytest.mark.time_machine(school_time(DAY, 15), tick=False)]


@pytest.fixture
def school(teacher: Any, other_teacher: Any) -> dict[str, Any]:
    """Two courses; pupil 0 of history absent three times in a row up to today; today one register is
    finalised (history, pupil 1 absent) and one is missing (art). Today is DAY, 15:00 (the module's clock)."""
    history = timetabled_course(teacher=teacher, periods=((9, 10),))
    art = timetabled_course(teacher=other_teacher, code="ART-2", periods=((11, 12),))
    for offset in (3, 2, 1):
        held(history.course, DAY - datetime.timedelta(days=offset), ["absent", "present", "present"], teacher)
    today = periods.session_for_slot(slot=history.slots[0], date=DAY, by=teacher)
    for student, status in zip(sorted(history.students, key=lambda s: s.last_name), ["excused", "absent", "late"],
                               strict=True):
        services.record_correct(record=today.records.get(student=student), status=status, by=teacher)
    services.session_finalize(session=today, by=teacher)
    return {"history": history, "art": art, "today": today}


def pdf_checked(content: bytes, tmp_path: Path) -> str:
    """Renders the PDF's first page with poppler: the PNG must not be blank; returns the PDF's text."""
    assert content.startswith(b"%PDF-")
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm (poppler-utils) is required: .ci/run installs it")
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True, timeout=60)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    darkest, lightest = page.getextrema()
    assert lightest > 200 and darkest < 100, "the first page is blank"
    inked = sum(page.histogram()[:128])
    assert inked > 0.002 * page.width * page.height
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout


def test_the_office_sees_the_whole_school_today(admin_user: Any, school: dict[str, Any], client_for: ClientFor) -> None:
    page = client_for(admin_user).get("/office/report/")
    assert page.status_code == 200
    report = page.context["report"]
    assert [p.course.code for p in report.taken] == ["HIST-8B"]
    assert [(p.course.code, p.state) for p in report.missing] == [("ART-2", "not_taken")]
    history = sorted(school["history"].students, key=lambda s: s.last_name)
    assert [a.student for a in report.absentees] == [history[1]]
    # Pupil 0: absent three days running, then excused today (excused neither counts nor breaks the run).
    assert [(s.student, s.absences) for s in report.streaks] == [(history[0], 3)]
    assert history[0] in [r.student for r in report.at_risk]
    text = page.content.decode()
    assert "Registers missing (1)" in text and history[1].full_name in text
    assert 'role="img"' in text  # the at-risk rates are drawn


def test_the_school_report_is_for_the_office_only(teacher: Any, school: dict[str, Any], client_for: ClientFor) -> None:
    for url in ("/office/report/", "/office/calendar/", "/office/outbox/", "/office/settings/"):
        assert client_for(teacher).get(url).status_code == 403, url


def test_the_school_report_downloads_as_csv_and_pdf(admin_user: Any, school: dict[str, Any], tmp_path: Path,
                                                    client_for: ClientFor) -> None:
    client = client_for(admin_user)
    history = sorted(school["history"].students, key=lambda s: s.last_name)
    csv_response = client.get("/office/report/?format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    body = csv_response.content.decode()
    assert "# Registers missing" in body and "ART-2" in body and history[1].student_number in body
    pdf_response = client.get(f"/office/report/?date={DAY.isoformat()}&format=pdf")
    assert pdf_response["Content-Type"] == "application/pdf"
    text = pdf_checked(pdf_response.content, tmp_path)
    assert "School attendance" in text and history[1].full_name in text and history[0].full_name in text
    assert "ART-2" in text


def test_a_holiday_shows_on_the_school_report(admin_user: Any, school: dict[str, Any], client_for: ClientFor) -> None:
    Closure.objects.create(name="Founders' day", starts_on=DAY, ends_on=DAY)
    report = client_for(admin_user).get("/office/report/").context["report"]
    assert report.closure.name == "Founders' day" and report.missing == []


def test_a_students_report_across_courses(teacher: Any, admin_user: Any, school: dict[str, Any],
                                          tmp_path: Path, client_for: ClientFor) -> None:
    pupil = sorted(school["history"].students, key=lambda s: s.last_name)[2]
    from tests import factories

    factories.EnrollmentFactory(course=school["art"].course, student=pupil)
    held(school["art"].course, DAY - datetime.timedelta(days=1), ["present"] * 4, school["art"].course.teacher)
    page = client_for(admin_user).get(f"/students/{pupil.pk}/report/")
    assert page.status_code == 200
    courses = {course.code: counts for course, counts in page.context["report"].courses}
    assert set(courses) == {"HIST-8B", "ART-2"}
    assert (courses["HIST-8B"].present, courses["HIST-8B"].late) == (3, 1)
    # The teacher of history sees only history.
    mine = client_for(teacher).get(f"/students/{pupil.pk}/report/").context["report"]
    assert [c.code for c, _ in mine.courses] == ["HIST-8B"]
    csv_body = client_for(admin_user).get(f"/students/{pupil.pk}/report/?format=csv").content.decode()
    assert "# By course" in csv_body and "ART-2" in csv_body
    text = pdf_checked(client_for(admin_user).get(f"/students/{pupil.pk}/report/?format=pdf").content, tmp_path)
    assert pupil.full_name in text and "HIST-8B" in text


def test_someone_elses_student_report_is_404(other_teacher: Any, school: dict[str, Any], client_for: ClientFor) -> None:
    pupil = school["history"].students[0]
    assert client_for(other_teacher).get(f"/students/{pupil.pk}/report/").status_code == 404


def test_the_course_report_downloads_as_pdf(teacher: Any, other_teacher: Any, school: dict[str, Any],
                                            tmp_path: Path, client_for: ClientFor) -> None:
    course = school["history"].course
    response = client_for(teacher).get(f"/courses/{course.pk}/report.pdf")
    text = pdf_checked(response.content, tmp_path)
    assert course.code in text and school["history"].students[0].last_name in text
    assert client_for(other_teacher).get(f"/courses/{course.pk}/report.pdf").status_code == 404


def test_the_register_of_a_course_through_the_api(teacher_api: Any, other_teacher_api: Any,
                                                  school: dict[str, Any]) -> None:
    course = school["history"].course
    url = f"/api/v1/courses/{course.pk}/register/"
    body = teacher_api.get(url, {"from": (DAY - datetime.timedelta(days=3)).isoformat(), "to": DAY.isoformat()}).json()
    assert len(body["sessions"]) == 4 and body["sessions"][-1] == f"{DAY.isoformat()} Period 09:00"
    marks = {row["student_number"]: row["marks"] for row in body["students"]}
    first, second, third = sorted(school["history"].students, key=lambda s: s.last_name)
    assert marks[first.student_number] == ["A", "A", "A", "E"]
    assert marks[third.student_number] == ["P", "P", "P", "L"]
    assert marks[second.student_number] == ["P", "P", "P", "A"]
    only_today = teacher_api.get(url, {"from": DAY.isoformat(), "to": DAY.isoformat(), "format": "csv"})
    assert only_today["Content-Type"].startswith("text/csv")
    lines = only_today.content.decode().splitlines()
    assert lines[0].endswith(f"{DAY.isoformat()} Period 09:00") and len(lines) == 4
    assert other_teacher_api.get(url).status_code == 404
    bad = teacher_api.get(url, {"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 400 and "from" in str(bad.json())
    assert teacher_api.get(url, {"from": "yesterday"}).status_code == 400


def test_the_calendar_through_the_api(admin_api: Any, teacher_api: Any) -> None:
    created = admin_api.post("/api/v1/calendar/terms/", {"name": "Autumn", "starts_on": "2026-09-01",
                                                         "ends_on": "2026-12-18"}, format="json")
    assert created.status_code == 201, created.content
    overlap = admin_api.post("/api/v1/calendar/terms/", {"name": "Bad", "starts_on": "2026-12-01",
                                                         "ends_on": "2027-01-18"}, format="json")
    assert overlap.status_code == 409 and overlap.json()["error_code"] == "TERM_OVERLAP"
    holiday = admin_api.post("/api/v1/calendar/closures/", {"name": "Half term", "kind": "holiday",
                                                            "starts_on": "2026-10-26", "ends_on": "2026-10-30"},
                             format="json")
    assert holiday.status_code == 201
    backwards = admin_api.post("/api/v1/calendar/closures/", {"name": "X", "kind": "closure",
                                                              "starts_on": "2026-10-30", "ends_on": "2026-10-26"},
                               format="json")
    assert backwards.status_code == 400 and backwards.json()["error_code"] == "INVALID_DATE_RANGE"
    assert [c["name"] for c in teacher_api.get("/api/v1/calendar/closures/").json()["results"]] == ["Half term"]
    assert teacher_api.post("/api/v1/calendar/closures/", {"name": "Mine", "kind": "holiday", "starts_on":
                                                           "2026-11-02", "ends_on": "2026-11-02"},
                            format="json").status_code == 403
    assert admin_api.delete(f"/api/v1/calendar/closures/{holiday.json()['id']}/").status_code == 204


def test_the_office_calendar_page_adds_and_removes_entries(admin_user: Any, client_for: ClientFor) -> None:
    client = client_for(admin_user)
    response = client.post("/office/calendar/", {"term-name": "Spring", "term-starts_on": "2027-01-05",
                                                 "term-ends_on": "2027-03-26"})
    assert response.status_code == 302 and Term.objects.get().name == "Spring"
    response = client.post("/office/calendar/", {"closure-name": "Snow", "closure-kind": "closure",
                                                 "closure-starts_on": "2027-02-03", "closure-ends_on": "2027-02-01"})
    assert response.status_code == 200 and b"must not be before" in response.content
    assert not Closure.objects.exists()
    client.post("/office/calendar/", {"closure-name": "Snow", "closure-kind": "closure",
                                      "closure-starts_on": "2027-02-03", "closure-ends_on": "2027-02-03"})
    closure = Closure.objects.get()
    assert b"Snow" in client.get("/office/calendar/").content
    client.post(f"/office/calendar/closure/{closure.pk}/delete/")
    assert not Closure.objects.exists()


def test_the_school_settings_page(admin_user: Any, client_for: ClientFor) -> None:
    from school.selectors import school_settings_get

    client = client_for(admin_user)
    assert client.get("/office/settings/").status_code == 200
    client.post("/office/settings/", {"register_cutoff_minutes": "45", "guardian_daily_summary": "on"})
    settings_row = school_settings_get()
    assert settings_row.register_cutoff_minutes == 45 and settings_row.guardian_daily_summary


def test_pdf_check_rejects_a_blank_page(tmp_path: Path) -> None:
    """The PDF check itself can fail: a PDF with an empty page is refused."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    blank = canvas.Canvas(buffer)
    blank.showPage()
    blank.save()
    with pytest.raises(AssertionError):
        pdf_checked(buffer.getvalue(), tmp_path)


def test_the_reports_through_the_api(admin_api: Any, teacher_api: Any, other_teacher_api: Any,
                                     school: dict[str, Any], tmp_path: Path) -> None:
    body = admin_api.get("/api/v1/reports/school/").json()
    assert [p["course_code"] for p in body["registers_missing"]] == ["ART-2"]
    assert [p["state"] for p in body["registers_taken"]] == ["finalised"]
    first, second, _ = sorted(school["history"].students, key=lambda s: s.last_name)
    assert [a["student"] for a in body["absentees"]] == [second.pk]
    assert [(s["student"], s["absences"]) for s in body["consecutive_absences"]] == [(first.pk, 3)]
    assert teacher_api.get("/api/v1/reports/school/").status_code == 403
    pdf_text = pdf_checked(admin_api.get("/api/v1/reports/school/", {"format": "pdf"}).content, tmp_path)
    assert second.full_name in pdf_text
    assert admin_api.get("/api/v1/reports/school/", {"format": "xml"}).status_code == 400
    assert admin_api.get("/api/v1/reports/school/", {"date": "soon"}).status_code == 400

    mine = teacher_api.get(f"/api/v1/students/{first.pk}/report/").json()
    assert mine["courses"][0]["absent"] == 3 and mine["courses"][0]["excused"] == 1
    assert {r["status"] for r in mine["records"]} == {"absent", "excused"}
    assert other_teacher_api.get(f"/api/v1/students/{first.pk}/report/").status_code == 404
    csv_text = teacher_api.get(f"/api/v1/students/{first.pk}/report/", {"format": "csv"}).content.decode()
    assert "# By course" in csv_text and "HIST-8B" in csv_text


def test_the_new_pages_need_a_login_and_the_right_role(client: Client, student_user: Any,
                                                      school: dict[str, Any], client_for: ClientFor) -> None:
    pupil = school["history"].students[0]
    urls = ["/office/report/", "/office/calendar/", "/office/outbox/", "/office/settings/",
            f"/students/{pupil.pk}/report/", f"/courses/{school['history'].course.pk}/report.pdf"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url, url
    student = client_for(student_user)
    for url in urls:
        assert student.get(url).status_code == 403, url
    assert client.post(f"/periods/{school['history'].slots[0].pk}/take/").status_code == 302
    assert student.post(f"/periods/{school['history'].slots[0].pk}/take/").status_code == 403
