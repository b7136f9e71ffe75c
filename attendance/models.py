"""Attendance sessions, their classroom photos, detected faces, records and audited corrections."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from recognition.picture_hash import HASH_LENGTH


def classroom_photo_path(instance: SessionPhoto, filename: str) -> str:
    # Random names: a classroom photo's URL reveals neither the class nor the date.
    return f"sessions/{uuid.uuid4().hex}.jpg"


def photo_upload_path(instance: SessionPhoto, filename: str) -> str:
    # The upload as received, kept only until a worker has processed it.
    return f"uploads/{uuid.uuid4().hex}"


class AttendanceSession(models.Model):
    """One meeting of a course on a date (and period label). Open, then finalised."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        FINALIZED = "finalized", "Finalised"

    course = models.ForeignKey("classes.Course", on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField(db_index=True)
    label = models.CharField(max_length=50, blank=True, help_text="Period or label, e.g. 'Period 2'.")
    # The timetable slot the session was opened for, and the period's start (lateness counts from it).
    slot = models.ForeignKey("classes.TimetableSlot", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="sessions")
    starts_at = models.TimeField(null=True, blank=True, help_text="Start of the period, in the school's time zone.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finalized_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["course", "date", "label"], name="unique_session_per_course_date_label"),
        ]

    def __str__(self) -> str:
        label = f" {self.label}" if self.label else ""
        return f"{self.course.code} {self.date}{label}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class SessionPhoto(models.Model):
    """A classroom photo of a session. The file goes after the retention period; the row, its face
    boxes and the records' evidence stay.

    In the request path a photo is stored `done`. With a queue (CELERY_BROKER_URL) the upload is stored
    first (`queued`, the raw bytes in `upload`) and a worker moves it to `processing`, then `done`, or
    `waiting_for_recognition` while the service is down, or `failed` when the photo is unusable."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Recognising faces"
        WAITING = "waiting_for_recognition", "Waiting for recognition"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # Photos whose records are not applied yet: finalising waits for them.
    ACTIVE_STATES = (State.QUEUED, State.PROCESSING, State.WAITING)

    session = models.ForeignKey(AttendanceSession, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=classroom_photo_path, blank=True)
    upload = models.FileField(upload_to=photo_upload_path, blank=True)
    content_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=24, choices=State.choices, default=State.DONE, db_index=True)
    error_code = models.CharField(max_length=40, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    face_count = models.PositiveIntegerField(default=0)
    processing_time_ms = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the photo was taken: its EXIF capture time when plausible, else the upload time.
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_at_source = models.CharField(max_length=10, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    image_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "content_hash"], name="unique_photo_per_session"),
        ]

    def __str__(self) -> str:
        return f"Photo #{self.pk} of {self.session}"


class DetectedFace(models.Model):
    """A face found on a classroom photo, with the student it was matched or assigned to (if any).

    No embedding is kept for classroom faces: only the box, which is enough to show the face and,
    when a teacher assigns it, to encode it again from the photo."""

    class Match(models.TextChoices):
        CONFIDENT = "confident", "Confident"
        UNCERTAIN = "uncertain", "Uncertain"
        UNKNOWN = "unknown", "Unknown"
        ASSIGNED = "assigned", "Assigned by teacher"
        DISMISSED = "dismissed", "Not a student"  # a visitor, a poster, a reflection
        # Narrower than RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS: a person counted, never matched.
        TOO_SMALL = "too_small", "Too small to identify"

    photo = models.ForeignKey(SessionPhoto, on_delete=models.CASCADE, related_name="faces")
    face_index = models.PositiveSmallIntegerField()
    box_top = models.PositiveIntegerField()
    box_right = models.PositiveIntegerField()
    box_bottom = models.PositiveIntegerField()
    box_left = models.PositiveIntegerField()
    face_area_ratio = models.FloatField()
    student = models.ForeignKey("accounts.StudentProfile", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    distance = models.FloatField(null=True, blank=True)
    match = models.CharField(max_length=10, choices=Match.choices)
    reason = models.CharField(max_length=200, blank=True)
    # The teacher's review of the face (assigned or dismissed): who, when and why.
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=200, blank=True)
    # Perceptual hash of the face's crop (recognition/picture_hash.py), made when the photo is processed:
    # a self check-in sending the crop as a selfie is refused as a replay, after the photo is purged too.
    picture_hash = models.CharField(max_length=HASH_LENGTH, blank=True)

    class Meta:
        ordering = ["photo", "face_index"]
        constraints = [
            models.UniqueConstraint(fields=["photo", "face_index"], name="unique_face_index_per_photo"),
            # A student is on a photo at most once (a face has at most one student by construction).
            models.UniqueConstraint(fields=["photo", "student"], condition=models.Q(student__isnull=False),
                                    name="one_face_per_student_per_photo"),
        ]

    def __str__(self) -> str:
        return f"Face {self.face_index} of photo #{self.photo_id}"

    @property
    def box(self) -> dict[str, int]:
        return {"top": self.box_top, "right": self.box_right, "bottom": self.box_bottom, "left": self.box_left}


class AttendanceRecord(models.Model):
    """One enrolled student in one session, with the evidence behind the status."""

    class Status(models.TextChoices):
        UNMARKED = "unmarked", "Not seen yet"  # becomes absent on finalise
        PRESENT = "present", "Present"
        LATE = "late", "Late"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused"
        PENDING = "pending", "Pending review"

    class Source(models.TextChoices):
        NONE = "none", "None"
        FACE = "face", "Face recognition"
        MANUAL = "manual", "Teacher"
        SELF = "self", "Self check-in"

    session = models.ForeignKey(AttendanceSession, on_delete=models.CASCADE, related_name="records")
    student = models.ForeignKey("accounts.StudentProfile", on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNMARKED, db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.NONE)
    distance = models.FloatField(null=True, blank=True)
    face = models.ForeignKey(DetectedFace, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confident_threshold = models.FloatField(null=True, blank=True)
    uncertain_threshold = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # Lateness evidence: when the student was first seen, and whether that time came from the
    # photo's EXIF capture time ("exif") or its upload ("upload").
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_at_source = models.CharField(max_length=10, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "student__last_name", "student__first_name"]
        constraints = [models.UniqueConstraint(fields=["session", "student"], name="unique_record_per_student")]

    def __str__(self) -> str:
        return f"{self.student} in {self.session}: {self.status}"


class AttendanceCorrection(models.Model):
    """The audit trail: every change a person made to a record."""

    record = models.ForeignKey(AttendanceRecord, on_delete=models.CASCADE, related_name="corrections")
    old_status = models.CharField(max_length=10, choices=AttendanceRecord.Status.choices)
    new_status = models.CharField(max_length=10, choices=AttendanceRecord.Status.choices)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.record}: {self.old_status} → {self.new_status}"


def checkin_selfie_path(instance: CheckinAttempt, filename: str) -> str:
    return f"checkins/{uuid.uuid4().hex}.jpg"


class LiveRun(models.Model):
    """A run of live mode on a session: the classroom webcam sends a frame every second until the
    teacher stops it, the time limit passes or everyone is present."""

    class Ended(models.TextChoices):
        STOPPED = "stopped", "Stopped by the teacher"
        TIME_LIMIT = "time_limit", "Time limit reached"
        EVERYONE_PRESENT = "everyone_present", "Everyone present"
        FINALIZED = "finalized", "Session finalised"

    session = models.ForeignKey(AttendanceSession, on_delete=models.CASCADE, related_name="live_runs")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField(help_text="The time limit of the run.")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=20, choices=Ended.choices, blank=True)
    frames = models.PositiveIntegerField(default=0)
    last_frame_at = models.DateTimeField(null=True, blank=True)
    # A frame of the run is being processed until then (one at a time, in every worker; the time
    # limit frees the run of a frame whose worker died).
    frame_busy_until = models.DateTimeField(null=True, blank=True)
    # The faces of the run's last frame (boxes, grey signatures, matches; no embedding), so the next frame
    # encodes only new or moved faces, whichever worker serves it (attendance/live/tracking.py).
    tracks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Live run #{self.pk} of {self.session}"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class LiveEvidence(models.Model):
    """What live mode has seen of one student in one session, accumulated frame by frame. Frames
    themselves are not kept, except the one that becomes the evidence of a mark (`face`)."""

    session = models.ForeignKey(AttendanceSession, on_delete=models.CASCADE, related_name="live_evidence")
    student = models.ForeignKey("accounts.StudentProfile", on_delete=models.CASCADE, related_name="+")
    confident_frames = models.PositiveIntegerField(default=0)
    uncertain_frames = models.PositiveIntegerField(default=0)
    best_distance = models.FloatField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # The face of the stored frame that became the evidence of the student's mark, if any.
    face = models.ForeignKey(DetectedFace, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The last sighting that counted: the region around the face (fractions of the frame) and its grey
    # 24x24 signature. A frame counts again only when the face moved there (attendance/live/motion.py).
    motion_region = models.JSONField(null=True, blank=True)
    motion_signature = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "student"], name="unique_live_evidence")]

    def __str__(self) -> str:
        return f"Live evidence of {self.student_id} in {self.session_id}"


class CheckinWindow(models.Model):
    """A time during which students may check themselves in by scanning the rotating QR code."""

    session = models.ForeignKey(AttendanceSession, on_delete=models.CASCADE, related_name="checkin_windows")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closes_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"Check-in window #{self.pk} of {self.session}"


class CheckinAttempt(models.Model):
    """The audit log of self check-in: every attempt, its outcome and why."""

    class Outcome(models.TextChoices):
        PRESENT = "present", "Marked present"
        PENDING = "pending", "Pending for the teacher"
        REFUSED = "refused", "Refused"

    window = models.ForeignKey(CheckinWindow, null=True, on_delete=models.SET_NULL, related_name="attempts")
    session = models.ForeignKey(AttendanceSession, on_delete=models.CASCADE, related_name="checkin_attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    student = models.ForeignKey("accounts.StudentProfile", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    device_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    distance = models.FloatField(null=True, blank=True)
    # Metres from the school when a geofence is set and the browser sent a position (the position
    # itself is not kept).
    metres_from_school = models.PositiveIntegerField(null=True, blank=True)
    selfie = models.FileField(upload_to=checkin_selfie_path, blank=True)
    # Perceptual hashes of every picture sent (recognition/picture_hash.py), kept after the selfie's file is
    # purged: a later check-in sending one of them again is refused as a replay (SELFIE_REPLAYED).
    picture_hashes = models.JSONField(default=list, blank=True)
    record = models.ForeignKey(AttendanceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One check-in per student and session (refused attempts are only logged).
            models.UniqueConstraint(fields=["session", "student"],
                                    condition=models.Q(outcome__in=["present", "pending"]),
                                    name="one_checkin_per_student_per_session"),
        ]

    def __str__(self) -> str:
        return f"Check-in of {self.student_id} in {self.session_id}: {self.outcome}"


class ThresholdChange(models.Model):
    """The audit of a recognition threshold change made from the calibration page: whose thresholds
    (the course's teacher), from which course's decisions, who applied it, old and new, when."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    teacher_username = models.CharField(max_length=150)
    course = models.ForeignKey("classes.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    old_confident = models.DecimalField(max_digits=3, decimal_places=2)
    old_uncertain = models.DecimalField(max_digits=3, decimal_places=2)
    new_confident = models.DecimalField(max_digits=3, decimal_places=2)
    new_uncertain = models.DecimalField(max_digits=3, decimal_places=2)
    # The evidence the suggestion came from.
    confirmed = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return (f"{self.teacher_username}: {self.old_confident}/{self.old_uncertain} → "
                f"{self.new_confident}/{self.new_uncertain}")
