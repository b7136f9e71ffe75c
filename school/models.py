"""The school's shared ground: its settings, its calendar (terms and closures), the e-mail outbox and
the access log of biometric data. Every app stands on these; they know nothing of the apps above.

The tables kept the names they had in the apps these models lived in before (`db_table`): moving a
model between apps moved no row."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class SchoolSettings(models.Model):
    """School-wide attendance options (one row; `school_settings_get` creates it)."""

    register_cutoff_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="A register not finalised this many minutes after its period ends is 'not taken'.")
    guardian_daily_summary = models.BooleanField(
        default=False, help_text="Guardians get one summary e-mail a day instead of one e-mail per absence.")
    # Self check-in geofence: with all three set, a check-in from farther away waits for the teacher.
    checkin_latitude = models.FloatField(null=True, blank=True)
    checkin_longitude = models.FloatField(null=True, blank=True)
    checkin_radius_m = models.PositiveIntegerField(
        null=True, blank=True, help_text="Self check-ins farther than this from the school wait for the teacher.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "attendance_schoolsettings"  # kept from before the re-layering: no data moved
        verbose_name = verbose_name_plural = "school settings"

    def __str__(self) -> str:
        return "School settings"


class Term(models.Model):
    """A school term: sessions are expected on its weekdays (when terms are defined at all)."""

    name = models.CharField(max_length=100)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        db_table = "classes_term"  # kept from before the re-layering: no data moved
        ordering = ["starts_on"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="term_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_on:%d %b %Y} to {self.ends_on:%d %b %Y})"


class Closure(models.Model):
    """Days without school: a holiday or an unplanned closure. No session is expected on them."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "Holiday"
        CLOSURE = "closure", "Closure"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.HOLIDAY)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        db_table = "classes_closure"  # kept from before the re-layering: no data moved
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="closure_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_on:%d %b %Y} to {self.ends_on:%d %b %Y})"


class OutboxMessage(models.Model):
    """One outgoing e-mail. Written in the transaction of the decision that caused it, sent after the
    commit, retried with backoff until delivered; `key` makes the same message impossible to queue twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    class Kind(models.TextChoices):
        ABSENCE = "absence", "Absence"
        FOLLOW_UP = "follow_up", "Correction follow-up"
        LOW_ATTENDANCE = "low_attendance", "Low attendance"
        REGISTERS = "registers", "Registers not taken"
        DAILY_SUMMARY = "daily_summary", "Guardian daily summary"
        ACCOUNT = "account", "Account (password reset, invitation)"
        GUARDIAN_LINK = "guardian_link", "Guardian consent link"
        GUARDIAN_CONTACT = "guardian_contact", "Guardian address changed (to the former address)"
        OTHER = "other", "Other"

    key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER, db_index=True)
    to = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "attendance_outboxmessage"  # kept from before the re-layering: no data moved
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox message"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to}: {self.status}"


class AccessLogEntry(models.Model):
    """Someone looked at biometric data or exported a report: who, what, when, how. It holds no
    biometric data itself (an object's kind and id, never an image or a vector), and no foreign key to
    the object, so the entry outlives a deleted face or photo."""

    class Kind(models.TextChoices):
        FACE_IMAGE = "face_image", "Enrolment photo"
        CLASSROOM_PHOTO = "classroom_photo", "Classroom photo"
        FACE_CROP = "face_crop", "Face crop of a classroom photo"
        REPORT_EXPORT = "report_export", "Report export (CSV/PDF)"
        REPORT_VIEW = "report_view", "Report or register read (page or JSON)"
        CHECKIN_SELFIE = "checkin_selfie", "Self check-in selfie"
        ADMIN_FACES = "admin_faces", "Faces in the Django admin"

    class How(models.TextChoices):
        PAGE = "page", "Page"
        API = "api", "API"
        ADMIN = "admin", "Django admin"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="Kept when the login is deleted.")
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    how = models.CharField(max_length=10, choices=How.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "accounts_accesslogentry"  # kept from before the re-layering: no data moved
        ordering = ["-at", "-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"

    def __str__(self) -> str:
        return f"{self.username} viewed {self.get_kind_display()} {self.object_type} {self.object_id} at {self.at}"
