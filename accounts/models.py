"""People: the login (User with a role), students' profiles, and each teacher's settings."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    TEACHER = "teacher", "Teacher"
    STUDENT = "student", "Student"


class SchoolUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):  # type: ignore[override]
        # `createsuperuser` makes a school administrator, not a role-less superuser.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A login. What it may see is decided by `role` (admins also by `is_superuser`)."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TEACHER, db_index=True)

    objects = SchoolUserManager()

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_school_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_teacher(self) -> bool:
        return self.role == Role.TEACHER

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT


class StudentProfile(models.Model):
    """A student as the school knows them; a login is optional (younger pupils have none)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="student_profile"
    )
    student_number = models.CharField(max_length=32, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    guardian_email = models.EmailField(blank=True)
    # Face enrolment is biometric processing: it needs recorded consent (who recorded it, when).
    consent_given = models.BooleanField(default=False)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The teacher who created the record sees it before it is enrolled in any of their courses.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "student_number"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.student_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# Safe bounds for per-teacher thresholds: looser than 0.65 lets strangers match, tighter than
# 0.35 turns most real matches into questions for the teacher.
THRESHOLD_MIN = Decimal("0.35")
THRESHOLD_MAX = Decimal("0.65")
_threshold_validators = [MinValueValidator(THRESHOLD_MIN), MaxValueValidator(THRESHOLD_MAX)]


class TeacherSettings(models.Model):
    """A teacher's own recognition thresholds and notification switches."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teacher_settings")
    confident_threshold = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0.50"), validators=_threshold_validators,
        help_text="A face closer than this to a student is marked present without asking.",
    )
    uncertain_threshold = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0.60"), validators=_threshold_validators,
        help_text="A face closer than this (but not confident) is a question for you; farther is unknown.",
    )
    low_attendance_percent = models.PositiveSmallIntegerField(
        default=75, validators=[MaxValueValidator(100)],
        help_text="Students under this attendance rate are flagged as at risk.",
    )
    late_grace_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(120)],
        help_text="A student first seen more than this many minutes after the period starts is late.",
    )
    notify_guardians_on_absence = models.BooleanField(default=True)
    notify_low_attendance = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "teacher settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(confident_threshold__gte=THRESHOLD_MIN, confident_threshold__lte=THRESHOLD_MAX,
                            uncertain_threshold__gte=THRESHOLD_MIN, uncertain_threshold__lte=THRESHOLD_MAX),
                name="teacher_thresholds_within_bounds",
            ),
            models.CheckConstraint(
                condition=Q(uncertain_threshold__gte=models.F("confident_threshold")),
                name="teacher_uncertain_not_below_confident",
            ),
            models.CheckConstraint(condition=Q(low_attendance_percent__lte=100), name="teacher_low_attendance_percent"),
        ]

    def __str__(self) -> str:
        return f"Settings of {self.user}"
