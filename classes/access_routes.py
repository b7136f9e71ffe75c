"""The access-log classification of the routes of courses (see school/access_log.py)."""

from __future__ import annotations

from school.access_log import NotLogged, RouteClass

_COURSES = NotLogged("courses, rosters, enrolments and the timetable: no biometric data, no report")

ROUTES: dict[str, RouteClass] = dict.fromkeys([
    "api:course-list", "api:course-detail", "api:course-enroll", "api:course-students", "api:course-unenroll",
    "office-students-import", "office-courses", "office-course-assign", "office-course-archive",
    "office-course-timetable", "office-slot-delete"], _COURSES)
