"""Faces that grow with the child, attendance's side: when a teacher vouches for a classroom face (a pending
match confirmed, an unknown face assigned), the face is cut from the kept photo and handed to
`recognition.learning.face_learn` with its provenance.

The provenance travels as plain values (`LearnedFrom`: the session, photo and face ids, how, and the
course and date in words) and is stored on the learned face in recognition, not in an attendance model:
recognition stands below attendance, the face must be erasable with the student's other faces by
recognition's own erasure holder, and its provenance must survive the classroom photo, which retention
deletes (the ids then point at nothing; the words still say where the face came from).

This runs after the teacher's decision is committed (`record_correct`'s face-vouched listeners, filled
in by `AttendanceConfig.ready()`): encoding takes a fraction of a second and may fail (photo purged, crop
too small or blurred, the recognition service down); a failure is logged and never touches the decision.
"""

from __future__ import annotations

import logging

from accounts.models import StudentProfile, User
from attendance.models import DetectedFace
from attendance.photos.review import face_region_jpeg
from recognition.errors import RecognitionError
from recognition.learning import LearnedFrom, face_learn
from recognition.models import FaceEmbedding
from school.errors import DomainError

logger = logging.getLogger(__name__)


def classroom_face_learn(face_id: int, student_id: int, by: User | None) -> FaceEmbedding | None:
    """Learns the classroom face `face_id` as `student_id`'s (or holds it for review); None when nothing
    is learned. Never raises: the teacher's decision is already made and stands."""
    try:
        face = DetectedFace.objects.select_related("photo__session__course").filter(pk=face_id).first()
        student = StudentProfile.objects.filter(pk=student_id).first()
        if face is None or student is None or face.student_id != student_id:
            return None  # deleted, or the face was given to someone else meanwhile
        session = face.photo.session
        how = (FaceEmbedding.LearnedHow.ASSIGNED if face.match == DetectedFace.Match.ASSIGNED
               else FaceEmbedding.LearnedHow.CONFIRMED)
        learned_from = LearnedFrom(
            how=how, session_id=session.pk, photo_id=face.photo_id, face_id=face.pk,
            context=f"{session.course.name}, {session.date:%d %b %Y}, photo #{face.photo_id}, "
                    f"face {face.face_index + 1}")
        return face_learn(student=student, image=face_region_jpeg(face=face), learned_from=learned_from, by=by)
    except (RecognitionError, DomainError) as exc:
        logger.info("classroom face %s not learned for student %s: %s", face_id, student_id, exc.error_code)
    except Exception:
        logger.exception("classroom face %s not learned for student %s", face_id, student_id)
    return None
