"""The school calendar seen by attendance: which days sessions are expected on, today's periods and
their registers, and the registers not taken by their cut-off.

A day is a school day when it falls inside a term (or no term is defined at all) and inside no
holiday or closure. Rates and at-risk lists count only sessions held on school days."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q

from accounts.models import User
from attendance.models import AttendanceRecord, AttendanceSession
from attendance.schooltime import school_datetime, school_now
from classes.models import Closure, Course, Term, TimetableSlot
from classes.selectors import course_list_visible


def closure_on(day: datetime.date) -> Closure | None:
    return Closure.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


def term_on(day: datetime.date) -> Term | None:
    return Term.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


def is_school_day(day: datetime.date) -> bool:
    """Sessions are expected on this day: inside a term (when terms exist) and not closed."""
    if closure_on(day) is not None:
        return False
    return term_on(day) is not None or not Term.objects.exists()


def expected_q(date_field: str) -> Q:
    """A filter keeping only rows whose `date_field` is a school day (one query for the calendar,
    then plain date ranges in SQL)."""
    condition = Q()
    for starts_on, ends_on in Closure.objects.values_list("starts_on", "ends_on"):
        condition &= ~Q(**{f"{date_field}__range": (starts_on, ends_on)})
    terms = list(Term.objects.values_list("starts_on", "ends_on"))
    if terms:
        in_term = Q()
        for starts_on, ends_on in terms:
            in_term |= Q(**{f"{date_field}__range": (starts_on, ends_on)})
        condition &= in_term
    return condition


# --- today's periods and their registers -------------------------------------------------------

NOT_TAKEN = "not_taken"
OPEN = "open"
PENDING_REVIEW = "pending_review"
FINALISED = "finalised"
STATE_LABELS = {NOT_TAKEN: "Not taken", OPEN: "Open", PENDING_REVIEW: "Pending review", FINALISED: "Finalised"}


@dataclass(frozen=True)
class Period:
    slot: TimetableSlot
    session: AttendanceSession | None
    state: str
    deadline: datetime.datetime  # register due by (end of period + the school's cut-off)
    overdue: bool  # past the deadline and not finalised

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def course(self) -> Course:
        return self.slot.course


def periods_of_day(*, day: datetime.date, courses: list[Course] | None = None, user: User | None = None,
                   now: datetime.datetime | None = None) -> list[Period]:
    """The timetable slots of a school day in order of start, each with its session (if opened) and
    state: not taken, open, pending review (open with matches waiting), finalised. None on a holiday.
    Scoped to `courses`, or to what `user` sees; three queries."""
    from attendance.selectors import school_settings_get  # selectors import this module

    if not is_school_day(day):
        return []
    if courses is None:
        courses = list(course_list_visible(user=user)) if user is not None else list(Course.objects.all())
    # An archived course has no periods any more (its history stays).
    slots = list(TimetableSlot.objects.filter(course__in=courses, course__archived=False, weekday=day.weekday())
                 .select_related("course", "course__teacher").order_by("start_time", "course__code"))
    sessions = {s.slot_id: s for s in AttendanceSession.objects.filter(
        date=day, slot__in=slots).annotate(
        n_pending=Count("records", filter=Q(records__status=AttendanceRecord.Status.PENDING)))}
    cutoff = datetime.timedelta(minutes=school_settings_get().register_cutoff_minutes)
    moment = school_now(now)
    periods = []
    for slot in slots:
        session = sessions.get(slot.pk)
        if session is None:
            state = NOT_TAKEN
        elif not session.is_open:
            state = FINALISED
        else:
            state = PENDING_REVIEW if session.n_pending else OPEN
        deadline = school_datetime(day, slot.end_time) + cutoff
        periods.append(Period(slot=slot, session=session, state=state, deadline=deadline,
                              overdue=state != FINALISED and moment > deadline))
    return periods


def registers_not_taken(*, day: datetime.date, user: User | None = None, courses: list[Course] | None = None,
                        now: datetime.datetime | None = None) -> list[Period]:
    """The day's slots whose session was not finalised by the cut-off (end of period + the school's
    `register_cutoff_minutes`)."""
    return [p for p in periods_of_day(day=day, user=user, courses=courses, now=now) if p.overdue]
