"""Stored face embeddings (biometric data: see SPEC §8)."""

from __future__ import annotations

import uuid

import numpy as np
from django.conf import settings
from django.db import models

from recognition.picture_hash import HASH_LENGTH
from recognition.results import EMBEDDING_SIZE

# Little-endian float32: 512 bytes a face, the same bytes on every database and machine.
VECTOR_DTYPE = np.dtype("<f4")


def enrolment_photo_path(instance: FaceEmbedding, filename: str) -> str:
    # Random names: a photo's URL must not reveal whose face it is.
    return f"faces/{uuid.uuid4().hex}.jpg"


class FaceEmbeddingQuerySet(models.QuerySet):
    def matchable(self) -> FaceEmbeddingQuerySet:
        """The embeddings recognition may use: approved, of students whose consent is recorded."""
        return self.filter(approval=FaceEmbedding.Approval.APPROVED, student__consent_given=True)

    def learned(self) -> FaceEmbeddingQuerySet:
        """Faces learned from classroom photos a teacher confirmed (in use or held for review)."""
        return self.filter(source=FaceEmbedding.Source.LEARNED)

    def enrolled(self) -> FaceEmbeddingQuerySet:
        return self.filter(source=FaceEmbedding.Source.ENROLLED)


class FaceEmbedding(models.Model):
    """One enrolment of a student's face: the 128-d vector and how it was produced.

    A face a student enrolled themself waits for staff approval before it is matched: otherwise a
    friend's face enrolled as one's own marks the friend present for them.

    A face is also *learned* (`source` learned) when a teacher confirms or assigns a classroom face to a
    student (`recognition.services.face_learn`). Its provenance is kept here as plain values (ids, the
    course's name, the date): recognition sits below attendance and may not point at its photos, and the
    provenance must outlive the classroom photo, which retention deletes. A learned face far from the
    student's other faces is `held` until staff approve or discard it."""

    class Approval(models.TextChoices):
        PENDING = "pending", "Waiting for staff approval"
        APPROVED = "approved", "Approved"
        HELD = "held", "Held: unlike the student's other faces"

    class Source(models.TextChoices):
        ENROLLED = "enrolled", "Enrolled"
        LEARNED = "learned", "Learned from a confirmed classroom face"

    class LearnedHow(models.TextChoices):
        CONFIRMED = "confirmed", "Pending match confirmed"
        ASSIGNED = "assigned", "Unknown face assigned"

    student = models.ForeignKey("accounts.StudentProfile", on_delete=models.CASCADE, related_name="face_embeddings")
    vector = models.BinaryField(editable=False)
    model_name = models.CharField(max_length=100)
    model_version = models.CharField(max_length=50)
    detector = models.CharField(max_length=10)
    num_jitters = models.PositiveSmallIntegerField()
    box_top = models.PositiveIntegerField()
    box_right = models.PositiveIntegerField()
    box_bottom = models.PositiveIntegerField()
    box_left = models.PositiveIntegerField()
    face_area_ratio = models.FloatField()
    image_width = models.PositiveIntegerField()
    image_height = models.PositiveIntegerField()
    # Empty in embeddings-only mode (FACE_KEEP_SOURCE_IMAGES=false).
    source_image = models.FileField(upload_to=enrolment_photo_path, blank=True)
    # SHA-256 of the uploaded bytes: the same photo is not enrolled twice for one student.
    content_hash = models.CharField(max_length=64, db_index=True)
    # Perceptual hash of the enrolment photo (recognition/picture_hash.py), made at enrolment and kept in
    # embeddings-only mode too: a self check-in sending this photo back is refused as a replay.
    picture_hash = models.CharField(max_length=HASH_LENGTH, blank=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Changes with the vector (re-encoding): part of the candidate cache's fingerprint.
    updated_at = models.DateTimeField(auto_now=True)
    approval = models.CharField(max_length=10, choices=Approval.choices, default=Approval.APPROVED, db_index=True)
    # Who approved a self-enrolled face, and when (staff enrolments are approved by being made).
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ENROLLED, db_index=True)
    # Provenance of a learned face (enrolled_by is the teacher who confirmed it, created_at when): plain
    # ids and words, no foreign keys into attendance (see the class docstring).
    learned_how = models.CharField(max_length=10, choices=LearnedHow.choices, blank=True)
    learned_session_id = models.PositiveBigIntegerField(null=True, blank=True)
    learned_photo_id = models.PositiveBigIntegerField(null=True, blank=True)
    learned_face_id = models.PositiveBigIntegerField(null=True, blank=True)
    learned_context = models.CharField(max_length=200, blank=True)
    # The distance to the student's nearest other face when it was learned (why it was held, or not).
    learned_distance = models.FloatField(null=True, blank=True)

    objects = FaceEmbeddingQuerySet.as_manager()

    class Meta:
        ordering = ["student", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["student", "content_hash"], name="unique_face_photo_per_student"),
            # One classroom face teaches a student once, however often it is confirmed.
            models.UniqueConstraint(fields=["student", "learned_face_id"], condition=models.Q(
                learned_face_id__isnull=False), name="learn_a_classroom_face_once"),
        ]

    def __str__(self) -> str:
        return f"Face #{self.pk} of {self.student}"

    @property
    def is_pending(self) -> bool:
        return self.approval == self.Approval.PENDING

    @property
    def is_held(self) -> bool:
        return self.approval == self.Approval.HELD

    @property
    def is_learned(self) -> bool:
        return self.source == self.Source.LEARNED

    @property
    def awaits_decision(self) -> bool:
        """Pending (self-enrolled) or held (learned): staff approve or discard it; it is not matched."""
        return self.approval != self.Approval.APPROVED

    @property
    def self_enrolled(self) -> bool:
        """Enrolled by the student's own login (or pending, whoever enrolled it)."""
        return self.is_pending or (self.enrolled_by_id is not None
                                   and self.enrolled_by_id == self.student.user_id)

    @property
    def embedding(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype=VECTOR_DTYPE).astype(np.float64)

    @embedding.setter
    def embedding(self, value: np.ndarray) -> None:
        array = np.asarray(value, dtype=VECTOR_DTYPE)
        if array.shape != (EMBEDDING_SIZE,):
            raise ValueError(f"an embedding has {EMBEDDING_SIZE} values, not {array.shape}")
        self.vector = array.tobytes()
