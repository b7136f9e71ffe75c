"""What a self check-in must not be (SPEC §9: "a selfie or frame that repeats an earlier picture is not new
evidence"; "a face enrolled by a student must be that student's"): refusals, not reasons for pending.

* a replay: a picture sent (the selfie or any frame of the liveness step) is the same picture, re-encoded,
  rescaled or slightly cropped, as one the school already has: an earlier check-in's picture (any student's),
  an enrolment photo (any student's), a face crop of a classroom photo or live frame. Compared by perceptual
  hash (`recognition.picture_hash`), so only hashes are kept, never extra images;
* one face, two accounts: the selfie is nearer to another student's approved face, among every enrolled
  student of the school (not only the course), than to the student's own.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Q

from accounts.consent import Erased
from accounts.models import StudentProfile
from attendance.models import CheckinAttempt, DetectedFace
from recognition.models import FaceEmbedding
from recognition.picture_hash import first_match
from recognition.selectors import candidates_for

SCHOOL_CANDIDATES = ("checkin", "school")  # the candidate cache's key for every matchable face of the school


def replayed_source(hashes: Sequence[str]) -> str:
    """What the school already has that one of `hashes` copies ("an earlier check-in's picture", "an
    enrolment photo", "a classroom photo"), or "" when every picture is new."""
    limit = int(settings.PICTURE_HASH_MAX_DISTANCE)
    if not hashes:
        return ""
    earlier = [value for values in CheckinAttempt.objects.exclude(picture_hashes=[])
               .values_list("picture_hashes", flat=True).iterator() if isinstance(values, list)
               for value in values if isinstance(value, str)]
    sources = (
        ("an earlier check-in's picture", earlier),
        ("an enrolment photo", list(FaceEmbedding.objects.exclude(picture_hash="")
                                    .values_list("picture_hash", flat=True))),
        ("a classroom photo", list(DetectedFace.objects.exclude(picture_hash="")
                                   .values_list("picture_hash", flat=True))),
    )
    for name, stored in sources:
        if first_match(hashes, stored, max_distance=limit) is not None:
            return name
    return ""


@dataclass(frozen=True)
class OtherStudent:
    student_id: Hashable
    distance: float


def nearer_other_student(*, student: StudentProfile, embedding: np.ndarray,
                         own_distance: float | None, uncertain: float) -> OtherStudent | None:
    """The other student of the school whose approved face the selfie is nearest to, when nearer than to
    the student's own faces and than the `uncertain` threshold; else None."""
    candidates = candidates_for(key=SCHOOL_CANDIDATES, embeddings=FaceEmbedding.objects.matchable())
    candidate_set = candidates.candidate_set
    if not len(candidate_set):
        return None
    distances = candidate_set.distances(np.asarray([embedding]))[0]
    limit = uncertain if own_distance is None else min(own_distance, uncertain)
    best: OtherStudent | None = None
    for student_id, distance in zip(candidate_set.student_ids, distances, strict=True):
        if student_id != student.pk and distance < limit and (best is None or distance < best.distance):
            best = OtherStudent(student_id, float(distance))
    return best


def picture_hashes_erase(student: StudentProfile) -> Erased:
    """Forgets the hashes of the student's check-in pictures and of the classroom face crops recognised or
    assigned as them (derived from their pictures; registered with `accounts.consent.biometric_holder_register`:
    withdrawal reaches them). Neither an embedding nor a photo: the receipt's counts stay as they are. The
    hashes of their enrolment photos go with the faces (`recognition.services.face_embeddings_erase`)."""
    CheckinAttempt.objects.filter(student=student).exclude(picture_hashes=[]).update(picture_hashes=[])
    DetectedFace.objects.filter(Q(student=student) & ~Q(picture_hash="")).update(picture_hash="")
    return Erased(embeddings=0, photos=0)
