"""Retention of biometric data (SPEC §8): classroom photos expire; no consent, no embeddings."""

from __future__ import annotations

import datetime
from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.consent import biometrics_erase
from accounts.models import ErasureReceipt, StudentProfile
from attendance.models import SessionPhoto
from recognition.models import FaceEmbedding
from school.progress import Progress, no_progress


def classroom_photos_purge(*, older_than: datetime.timedelta, dry_run: bool = False,
                           progress: Progress = no_progress) -> int:
    """Deletes the files of classroom photos uploaded more than `older_than` ago. The rows, their
    face boxes and the records' evidence stay; only the picture goes. Returns how many."""
    expired = list(SessionPhoto.objects.filter(uploaded_at__lt=timezone.now() - older_than)
                   .exclude(image="", upload=""))
    if dry_run:
        return len(expired)
    for photo in progress(expired):
        # The kept copy and an upload never processed (a photo that failed) go alike.
        files = [(file.storage, file.name) for file in (photo.image, photo.upload) if file.name]
        with transaction.atomic():
            SessionPhoto.objects.filter(pk=photo.pk).update(image="", upload="", image_purged_at=timezone.now())
            for storage, name in files:
                transaction.on_commit(partial(storage.delete, name))
    return len(expired)


def biometrics_without_consent_purge(*, dry_run: bool = False, progress: Progress = no_progress) -> int:
    """Deletes every embedding (and enrolment photo) of students whose consent is not recorded,
    each student with an erasure receipt (rule: no consent)."""
    students = StudentProfile.objects.filter(consent_given=False, face_embeddings__isnull=False).distinct()
    if dry_run:
        return FaceEmbedding.objects.filter(student__in=students).count()
    return sum(biometrics_erase(student=student, rule=ErasureReceipt.Rule.NO_CONSENT, by=None).embeddings_deleted
               for student in progress(list(students)))


@transaction.atomic
def session_photos_delete(*, photos: QuerySet[SessionPhoto]) -> int:
    """Deletes classroom photos (their detected faces go too; records keep their status) and their
    files in storage, once the deletion is committed."""
    files = [(photo.image.storage, photo.image.name) for photo in photos.exclude(image="") if photo.image.name]
    deleted, _ = SessionPhoto.objects.filter(pk__in=photos.values("pk")).delete()
    for storage, name in files:
        transaction.on_commit(partial(storage.delete, name))
    return deleted
