"""Courses (subjects), who teaches them, who is enrolled, and when they meet."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from school.validators import printable


class Course(models.Model):
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=32, unique=True, validators=[printable])
    description = models.TextField(blank=True)
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses")
    students = models.ManyToManyField("accounts.StudentProfile", through="Enrollment", related_name="courses")
    created_at = models.DateTimeField(auto_now_add=True)
    # An archived course keeps its history and reports but leaves teachers' lists and the timetable.
    archived = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            # Codes are looked up case-insensitively, so they are unique case-insensitively too.
            models.UniqueConstraint(Lower("code"), name="unique_course_code_case_insensitive",
                                    violation_error_message="A course with this code already exists."),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Enrollment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey("accounts.StudentProfile", on_delete=models.CASCADE, related_name="enrollments")
    enrolled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "student"]
        constraints = [models.UniqueConstraint(fields=["course", "student"], name="unique_enrollment")]

    def __str__(self) -> str:
        return f"{self.student} in {self.course.code}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class TimetableSlot(models.Model):
    """When a course meets each week; the dashboard uses it to list today's courses."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="timetable_slots")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    room = models.CharField(max_length=50, blank=True)
    # The period's name on the register ("Period 2"); empty means "<code> <start>".
    label = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="slot_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.course.code} {self.get_weekday_display()} {self.start_time:%H:%M}"

    @property
    def session_label(self) -> str:
        """The label of the sessions this slot opens (unique per course and day with the start time)."""
        return self.label.strip() or f"Period {self.start_time:%H:%M}"
