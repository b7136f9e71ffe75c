"""The school day seen by attendance: today's periods and their registers, and the registers not taken
by their cut-off (which days are school days is the calendar's, `school.calendar`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q

from accounts.models import User
from attendance.models import AttendanceRecord, AttendanceSession
from classes.models import Course, TimetableSlot
from classes.selectors import course_list_visible
from school.calendar import is_school_day
from school.clock import school_datetime, school_now
from school.selectors import school_settings_get

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
