"""Calibration from what teachers decided (reads): how recognition fares per course and per year group,
week by week, and the thresholds the teachers' decisions suggest.

Rates come from the faces found on classroom photos and live frames (DetectedFace) and the teachers'
corrections of records (AttendanceCorrection), by the week of the session's date. A face the teacher
assigned or dismissed counts as unknown when it was found: the machine did not name it. A course's
year group is the most common year group of its students (classes are usually one year).

Suggested thresholds come from the uncertain matches the teacher decided (pending → present or late:
confirmed; pending → absent: rejected) and from confident marks corrected to absent (rejected), with the
distance the match had. Each candidate threshold (0.35-0.65, step 0.01) is scored by what it would have
done with those decisions: for the confident line, a rejected match under it is a student marked
present who was not there (cost 3), a confirmed match over it a question the teacher had to answer
(cost 1); for the uncertain line, a confirmed match over it is a student missed (cost 3), a rejected one
under it a needless question (cost 1), and it stays at least 0.05 above the confident line so near
misses are still asked. The cheapest wins, nearest the current value on ties. Nothing is
applied here: `attendance.reports.services.thresholds_apply` does that, on an admin's action.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet

from accounts.models import THRESHOLD_MAX, THRESHOLD_MIN, TeacherSettings
from accounts.selectors import teacher_settings_get
from attendance.models import AttendanceCorrection, AttendanceRecord, DetectedFace, ThresholdChange
from classes.models import Course, Enrollment

Status = AttendanceRecord.Status
Match = DetectedFace.Match
KINDS = ("confident", "uncertain", "unknown", "too_small")
_KIND_OF_MATCH: dict[str, str] = {Match.CONFIDENT: "confident", Match.UNCERTAIN: "uncertain", Match.UNKNOWN: "unknown",
                  Match.ASSIGNED: "unknown", Match.DISMISSED: "unknown", Match.TOO_SMALL: "too_small"}
FALSE_ACCEPT_COST, QUESTION_COST = 3, 1
MIN_QUESTION_BAND = Decimal("0.05")
NO_YEAR_GROUP = "—"


def week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@dataclass
class Rates:
    """Faces found by kind and the records and their corrections of one course (or year group) in one week."""

    faces: Counter[str] = field(default_factory=Counter)
    records: int = 0
    corrections: int = 0

    @property
    def total_faces(self) -> int:
        return sum(self.faces.values())

    def rate(self, kind: str) -> float | None:
        return self.faces[kind] / self.total_faces if self.total_faces else None

    @property
    def correction_rate(self) -> float | None:
        return self.corrections / self.records if self.records else None

    @property
    def percentages(self) -> list[float | None]:
        """The share of each kind of KINDS in percent (None without faces), for a table row."""
        return [None if self.rate(kind) is None else 100 * (self.rate(kind) or 0.0) for kind in KINDS]

    @property
    def correction_percent(self) -> float | None:
        rate = self.correction_rate
        return None if rate is None else 100 * rate

    def add(self, other: Rates) -> None:
        self.faces.update(other.faces)
        self.records += other.records
        self.corrections += other.corrections


@dataclass
class Calibration:
    """Rates per course and per year group, each by week (oldest first), over `weeks` weeks to `until`."""

    since: datetime.date
    until: datetime.date
    by_course: dict[Course, dict[datetime.date, Rates]]
    by_year_group: dict[str, dict[datetime.date, Rates]]


def course_year_groups(courses: Iterable[Course]) -> dict[int, str]:
    """Each course's most common student year group ('—' when none is recorded)."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for course_id, year_group in Enrollment.objects.filter(course__in=list(courses)).values_list(
            "course_id", "student__year_group"):
        counts[course_id][year_group or NO_YEAR_GROUP] += 1
    return {course_id: counter.most_common(1)[0][0] for course_id, counter in counts.items()}


def calibration_rates(*, until: datetime.date, weeks: int = 12,
                      courses: QuerySet[Course] | None = None) -> Calibration:
    since = week_of(until) - datetime.timedelta(weeks=weeks - 1)
    courses = courses if courses is not None else Course.objects.all()
    rows: dict[int, dict[datetime.date, Rates]] = defaultdict(lambda: defaultdict(Rates))
    for course_id, day, match, count in (
            DetectedFace.objects.filter(photo__session__course__in=courses, photo__session__date__gte=since,
                                        photo__session__date__lte=until)
            .values_list("photo__session__course_id", "photo__session__date", "match").annotate(n=Count("pk"))
            .values_list("photo__session__course_id", "photo__session__date", "match", "n")):
        rows[course_id][week_of(day)].faces[_KIND_OF_MATCH.get(match, "unknown")] += count
    in_period = {"session__course__in": courses, "session__date__gte": since, "session__date__lte": until}
    for course_id, day, count in (AttendanceRecord.objects.filter(**in_period)
                                  .values_list("session__course_id", "session__date").annotate(n=Count("pk"))
                                  .values_list("session__course_id", "session__date", "n")):
        rows[course_id][week_of(day)].records += count
    for course_id, day, count in (AttendanceCorrection.objects.filter(
            **{f"record__{name}": value for name, value in in_period.items()})
            .values_list("record__session__course_id", "record__session__date").annotate(n=Count("pk"))
            .values_list("record__session__course_id", "record__session__date", "n")):
        rows[course_id][week_of(day)].corrections += count
    by_id = {course.pk: course for course in courses.filter(pk__in=list(rows)).select_related("teacher")}
    year_groups = course_year_groups(by_id.values())
    by_course = {by_id[course_id]: dict(sorted(weeks_.items())) for course_id, weeks_ in
                 sorted(rows.items(), key=lambda item: by_id[item[0]].code)}
    by_year_group: dict[str, dict[datetime.date, Rates]] = defaultdict(lambda: defaultdict(Rates))
    for course, weekly in by_course.items():
        for week, rates in weekly.items():
            by_year_group[year_groups.get(course.pk, NO_YEAR_GROUP)][week].add(rates)
    return Calibration(since=since, until=until, by_course=by_course,
                       by_year_group={group: dict(sorted(weekly.items()))
                                      for group, weekly in sorted(by_year_group.items())})


# --- suggested thresholds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decisions:
    confirmed: tuple[float, ...]
    rejected: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.confirmed) + len(self.rejected)


@dataclass(frozen=True)
class Suggestion:
    """Thresholds for the course's teacher from the decisions on the course's matches. `ready` is False
    (and nothing is suggested) under CALIBRATION_MIN_DECISIONS decisions or when nothing would change."""

    course: Course
    teacher_settings: TeacherSettings
    decisions: Decisions
    confident: Decimal
    uncertain: Decimal

    @property
    def enough(self) -> bool:
        return self.decisions.count >= settings.CALIBRATION_MIN_DECISIONS

    @property
    def changes(self) -> bool:
        return (self.confident, self.uncertain) != (self.teacher_settings.confident_threshold,
                                                    self.teacher_settings.uncertain_threshold)

    @property
    def ready(self) -> bool:
        return self.enough and self.changes


def course_decisions(course: Course) -> Decisions:
    """The distances of the course's face matches the teacher decided: confirmed or rejected."""
    confirmed, rejected = [], []
    for old, new, distance in AttendanceCorrection.objects.filter(
            record__session__course=course, record__distance__isnull=False).values_list(
            "old_status", "new_status", "record__distance"):
        if distance is None:
            continue
        if old == Status.PENDING and new in (Status.PRESENT, Status.LATE):
            confirmed.append(float(distance))
        elif old in (Status.PENDING, Status.PRESENT, Status.LATE) and new == Status.ABSENT:
            rejected.append(float(distance))
    return Decisions(confirmed=tuple(sorted(confirmed)), rejected=tuple(sorted(rejected)))


def _grid() -> list[Decimal]:
    step = Decimal("0.01")
    values, value = [], THRESHOLD_MIN
    while value <= THRESHOLD_MAX:
        values.append(value)
        value += step
    return values


def _cheapest(candidates: list[Decimal], cost: dict[Decimal, int], current: Decimal) -> Decimal:
    return min(candidates, key=lambda value: (cost[value], abs(value - current), value))


def suggest_thresholds(decisions: Decisions, *, confident: Decimal, uncertain: Decimal) -> tuple[Decimal, Decimal]:
    """The (confident, uncertain) pair the decisions argue for (module docstring); the current pair
    when there are no decisions."""
    if not decisions.count:
        return confident, uncertain
    grid = _grid()
    # Distances are floats and compared as the matcher compares them (a match is confident below the line).
    confident_cost = {t: FALSE_ACCEPT_COST * sum(d < float(t) for d in decisions.rejected)
                      + QUESTION_COST * sum(d >= float(t) for d in decisions.confirmed) for t in grid}
    new_confident = _cheapest(grid, confident_cost, confident)
    # The uncertain line stays MIN_QUESTION_BAND above the confident one: near misses are still asked.
    above = [u for u in grid if u >= new_confident + MIN_QUESTION_BAND] or [THRESHOLD_MAX]
    uncertain_cost = {u: FALSE_ACCEPT_COST * sum(d >= float(u) for d in decisions.confirmed)
                      + QUESTION_COST * sum(float(new_confident) <= d < float(u) for d in decisions.rejected)
                      for u in above}
    return new_confident, _cheapest(above, uncertain_cost, max(uncertain, new_confident))


def course_suggestion(course: Course) -> Suggestion:
    teacher_settings = teacher_settings_get(user=course.teacher)
    decisions = course_decisions(course)
    confident, uncertain = suggest_thresholds(decisions, confident=teacher_settings.confident_threshold,
                                              uncertain=teacher_settings.uncertain_threshold)
    return Suggestion(course=course, teacher_settings=teacher_settings, decisions=decisions, confident=confident,
                      uncertain=uncertain)


def course_suggestions(courses: Iterable[Course]) -> list[Suggestion]:
    return [course_suggestion(course) for course in courses]


def threshold_changes(*, limit: int = 50) -> QuerySet[ThresholdChange]:
    return ThresholdChange.objects.select_related("changed_by", "course")[:limit]
