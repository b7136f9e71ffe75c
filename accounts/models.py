"""People: the login (User with a role), students' profiles, and each teacher's settings."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from school import validators


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    TEACHER = "teacher", "Teacher"
    STUDENT = "student", "Student"


if TYPE_CHECKING:
    _UserManager = UserManager["User"]
else:
    _UserManager = UserManager


class SchoolUserManager(_UserManager):
    def create_superuser(self, username: str, email: str | None = None, password: str | None = None,
                         **extra_fields: Any) -> User:
        # `createsuperuser` makes a school administrator, not a role-less superuser.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A login. What it may see is decided by `role` alone: the Django flags `is_staff` and
    `is_superuser` follow it (an administrator has both, nobody else has either), so the admin site
    and the API can never disagree about who someone is."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TEACHER, db_index=True)

    objects: ClassVar[SchoolUserManager] = SchoolUserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            # A superuser "switched to teacher" would keep every admin power while the API says teacher.
            models.CheckConstraint(
                condition=(Q(role="admin", is_staff=True, is_superuser=True)
                           | (~Q(role="admin") & Q(is_staff=False, is_superuser=False))),
                name="user_admin_flags_follow_role",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_school_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_teacher(self) -> bool:
        return self.role == Role.TEACHER

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT


class StudentProfile(models.Model):
    """A student as the school knows them; a login is optional (younger pupils have none)."""

    # Only a student login: a teacher's login linked here would read (and enrol faces for) this student.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="student_profile",
        limit_choices_to={"role": "student"},
    )
    student_number = models.CharField(max_length=32, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    guardian_email = models.EmailField(blank=True)
    # How often faces must be enrolled again depends on the student's age (children's faces change
    # fast): the date of birth when the school records it, else the age of the year group.
    year_group = models.CharField(max_length=20, blank=True, validators=[validators.printable],
                                  help_text='The school\'s year or grade, e.g. "Year 3" or "Grade 5".')
    date_of_birth = models.DateField(null=True, blank=True, validators=[validators.birth_date])
    # Face enrolment is biometric processing: it needs recorded consent. The history is ConsentEvent;
    # these three fields are its latest state, written only by accounts.consent.consent_record.
    consent_given = models.BooleanField(default=False, editable=False)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Part of every guardian link's signed payload: "Revoke guardian links" increments it, and every
    # link signed with an older version is refused.
    guardian_link_version = models.PositiveIntegerField(default=1, editable=False)
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


class ConsentEvent(models.Model):
    """One grant or withdrawal of consent to face recognition: the history the current state derives from.

    Append-only. The student's number and name are copied so the record still says whose consent it
    was after the student is deleted."""

    class Action(models.TextChoices):
        GRANT = "grant", "Given"
        WITHDRAW = "withdraw", "Withdrawn"

    class Party(models.TextChoices):
        GUARDIAN = "guardian", "Guardian"
        STUDENT = "student", "Student"
        STAFF = "staff", "School staff"

    class Channel(models.TextChoices):
        PAGE = "page", "Staff page"
        API = "api", "REST API"
        ADMIN = "admin", "Django admin"
        IMPORT = "import", "Roster or legacy import"
        GUARDIAN_LINK = "guardian_link", "Guardian link"
        COMMAND = "command", "Management command"
        BACKFILL = "backfill", "Recorded before the consent history existed"

    student = models.ForeignKey(StudentProfile, null=True, on_delete=models.SET_NULL, related_name="consent_events")
    student_number = models.CharField(max_length=32)
    student_name = models.CharField(max_length=201)
    action = models.CharField(max_length=10, choices=Action.choices)
    given_by = models.CharField(max_length=10, choices=Party.choices, help_text="Who gave or withdrew it.")
    given_by_name = models.CharField(max_length=200, blank=True, help_text="e.g. the guardian's name.")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_by_username = models.CharField(max_length=150, blank=True)
    text = models.TextField(help_text="The wording agreed to (or withdrawn), as shown at the time.")
    text_version = models.CharField(max_length=32)
    note = models.CharField(max_length=500, blank=True)
    # Given through a guardian link: the address the link was e-mailed to (a link proves no more than
    # that its reader could read that mailbox).
    link_sent_to = models.EmailField(blank=True, help_text="Through a guardian link: the address it was sent to.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Consent {self.get_action_display().lower()} for {self.student_number} ({self.created_at:%Y-%m-%d})"


class GuardianContactChange(models.Model):
    """A change of a student's guardian e-mail address: who, from what, to what, when, through which door.

    Append-only, like the consent history (number and name copied, so it outlives the student): the
    guardian address decides who receives absence e-mails and who can give "guardian" consent."""

    student = models.ForeignKey(StudentProfile, null=True, on_delete=models.SET_NULL,
                                related_name="guardian_contact_changes")
    student_number = models.CharField(max_length=32)
    student_name = models.CharField(max_length=201)
    old_email = models.EmailField(blank=True)
    new_email = models.EmailField(blank=True)
    channel = models.CharField(max_length=16, choices=ConsentEvent.Channel.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    changed_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Guardian address of {self.student_number} changed ({self.created_at:%Y-%m-%d})"


class ErasureReceipt(models.Model):
    """Proof that biometric data was deleted: what (counts and kinds, never the data), when, why.

    Survives the deletion of the faces and of the student (number and name are copied)."""

    class Rule(models.TextChoices):
        CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
        STUDENT_DELETED = "student_deleted", "Student deleted"
        FACE_DELETED = "face_deleted", "Face deleted"
        FACE_REJECTED = "face_rejected", "Self-enrolled face rejected by staff"
        NO_CONSENT = "no_consent", "Retention: no recorded consent"
        LEARNED_ROTATED = "learned_rotated", "Learned face replaced by a newer one"
        HELD_EXPIRED = "held_expired", "Retention: held face never decided"

    student = models.ForeignKey(StudentProfile, null=True, on_delete=models.SET_NULL, related_name="erasure_receipts")
    student_number = models.CharField(max_length=32)
    student_name = models.CharField(max_length=201)
    rule = models.CharField(max_length=20, choices=Rule.choices)
    embeddings_deleted = models.PositiveIntegerField(default=0)
    photos_deleted = models.PositiveIntegerField(default=0)
    # Of embeddings_deleted, how many were learned from confirmed classroom faces.
    learned_deleted = models.PositiveIntegerField(default=0)
    consent_event = models.ForeignKey(ConsentEvent, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="erasure_receipts")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Erasure for {self.student_number}: {self.get_rule_display()} ({self.created_at:%Y-%m-%d})"

    @property
    def summary(self) -> str:
        """What was deleted, in words (for pages, the admin and the family)."""
        learned = f" ({self.learned_deleted} learned from classroom photos)" if self.learned_deleted else ""
        return (f"{self.embeddings_deleted} face embedding(s){learned} and {self.photos_deleted} enrolment "
                "photo(s) deleted from the database and from storage")
