"""The office's calibration page (issue 18): recognition rates per course and year group by week from
real classroom photos and the teacher's decisions, thresholds suggested from confirmed and rejected
matches, applied only by an admin and audited; teachers are refused."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import StudentProfile, TeacherSettings
from attendance.models import AttendanceRecord, DetectedFace, ThresholdChange
from attendance.reports.calibration import Decisions, calibration_rates, course_suggestion, suggest_thresholds
from classes.models import Course
from school.clock import school_today
from tests.attendance.photos.test_flow import open_session, upload
from tests.classroom import EnrolledClass
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def test_the_suggestion_separates_confirmed_from_rejected_distances() -> None:
    decisions = Decisions(confirmed=(0.38, 0.41, 0.44, 0.47), rejected=(0.52, 0.55, 0.58))
    # Confident: any line in (0.47, 0.52] makes no mistake; the one nearest the current 0.35 is 0.48.
    # Uncertain: at least 0.05 above (0.53), every confirmed match is under it, and the fewest rejected
    # ones are asked (0.52 only) up to 0.55: the line nearest the current 0.60 among those is 0.55.
    assert suggest_thresholds(decisions, confident=Decimal("0.35"), uncertain=Decimal("0.60")) == (
        Decimal("0.48"), Decimal("0.55"))
    # A rejected match below a confirmed one: a wrong "present" costs more than a question, so the
    # confident line stays under the rejected distance.
    mixed = Decisions(confirmed=(0.40, 0.50), rejected=(0.45,))
    confident, _ = suggest_thresholds(mixed, confident=Decimal("0.50"), uncertain=Decimal("0.60"))
    assert confident <= Decimal("0.45")
    assert suggest_thresholds(Decisions((), ()), confident=Decimal("0.5"), uncertain=Decimal("0.6")) == (
        Decimal("0.5"), Decimal("0.6"))


@pytest.fixture
def decided(teacher: Any, teacher_api: Any, client_for: ClientFor, enrolled_class: EnrolledClass) -> dict[str, Any]:
    """Two weeks of one course of Year 7: last week obama_and_biden.jpg with tight thresholds (Obama and
    Biden uncertain, the third person unknown), the teacher confirming Obama and rejecting Biden; this
    week a portrait of Alex Lacamoire at the default thresholds (confident)."""
    StudentProfile.objects.filter(pk__in=[s.pk for s in enrolled_class.students.values()]).update(year_group="Year 7")
    today = school_today()
    last_week, this_week = today - datetime.timedelta(days=7), today
    TeacherSettings.objects.update_or_create(user=teacher, defaults={"confident_threshold": Decimal("0.35"),
                                                                     "uncertain_threshold": Decimal("0.60")})
    first = open_session(teacher_api, enrolled_class.course.pk, date=last_week.isoformat())
    assert upload(teacher_api, first["id"], enrolled_class.photo("probes/obama_and_biden.jpg")).status_code == 201
    page = client_for(teacher)
    students = enrolled_class.students
    for student, decision in ((students["obama"], "confirm"), (students["biden"], "reject")):
        assert AttendanceRecord.objects.get(session_id=first["id"], student=student).status == "pending"
        page.post(f"/sessions/{first['id']}/records/{student.pk}/decide/", {"decision": decision})
    TeacherSettings.objects.filter(user=teacher).update(confident_threshold=Decimal("0.50"))
    second = open_session(teacher_api, enrolled_class.course.pk, date=this_week.isoformat())
    assert upload(teacher_api, second["id"], enrolled_class.photo("probes/alex_lacamoire1.jpg")).status_code == 201
    # The course read again: its teacher's settings as they are now.
    return {"last_week": last_week, "this_week": this_week,
            "course": Course.objects.select_related("teacher").get(pk=enrolled_class.course.pk),
            "obama": AttendanceRecord.objects.get(session_id=first["id"], student=students["obama"]),
            "biden": AttendanceRecord.objects.get(session_id=first["id"], student=students["biden"])}


def week(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@pytest.mark.slow
def test_rates_per_course_and_year_group_by_week(decided: dict[str, Any]) -> None:
    rates = calibration_rates(until=decided["this_week"])
    weekly = rates.by_course[decided["course"]]
    first, second = weekly[week(decided["last_week"])], weekly[week(decided["this_week"])]
    assert first.total_faces == 3
    assert (first.faces["confident"], first.faces["uncertain"], first.faces["unknown"]) == (0, 2, 1)
    assert first.percentages == [0.0, pytest.approx(200 / 3), pytest.approx(100 / 3), 0.0]
    assert (first.records, first.corrections, first.correction_percent) == (5, 2, 40.0)  # Obama and Biden decided
    assert (second.total_faces, second.percentages, second.corrections) == (1, [100.0, 0.0, 0.0, 0.0], 0)
    assert rates.by_year_group["Year 7"][week(decided["last_week"])].faces == first.faces
    assert set(DetectedFace.objects.values_list("match", flat=True)) <= {"confident", "uncertain", "unknown"}


@pytest.mark.slow
def test_a_suggestion_is_applied_only_by_an_admin_and_audited(
        settings: Any, decided: dict[str, Any], teacher: Any, admin_user: Any, client_for: ClientFor) -> None:
    settings.CALIBRATION_MIN_DECISIONS = 2
    course = decided["course"]
    suggestion = course_suggestion(course)
    assert suggestion.decisions == Decisions(confirmed=(decided["obama"].distance,),
                                             rejected=(decided["biden"].distance,))
    assert suggestion.ready
    before = TeacherSettings.objects.get(user=teacher)
    form = {"confident": str(suggestion.confident), "uncertain": str(suggestion.uncertain)}
    # A teacher may neither see the page nor apply anything.
    assert client_for(teacher).get("/office/calibration/").status_code == 403
    assert client_for(teacher).post(f"/office/calibration/{course.pk}/apply/", form).status_code == 403
    assert not ThresholdChange.objects.exists()
    office = client_for(admin_user)
    page = office.get("/office/calibration/").content.decode()
    assert f'data-suggestion="{course.code}"' in page and f'value="{suggestion.confident}"' in page
    assert 'data-year-group="Year 7"' in page
    office.post(f"/office/calibration/{course.pk}/apply/", form)
    after = TeacherSettings.objects.get(user=teacher)
    assert (after.confident_threshold, after.uncertain_threshold) == (suggestion.confident, suggestion.uncertain)
    change = ThresholdChange.objects.get()
    assert (change.teacher, change.course, change.changed_by) == (teacher, course, admin_user)
    assert (change.old_confident, change.old_uncertain) == (before.confident_threshold, before.uncertain_threshold)
    assert (change.new_confident, change.new_uncertain, change.confirmed, change.rejected) == (
        suggestion.confident, suggestion.uncertain, 1, 1)
    # Applied once: the same form again changes nothing (the suggestion now equals the settings).
    office.post(f"/office/calibration/{course.pk}/apply/", form)
    assert ThresholdChange.objects.count() == 1
