"""The faces of an image against a course: its candidates (consenting, enrolled students with approved
faces), the teacher's thresholds, detection and matching, and the faces to keep. Classroom photos, live
mode and self check-in all recognise through here; nothing is written."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from django.conf import settings

from accounts.models import StudentProfile
from accounts.selectors import teacher_settings_get
from attendance.models import DetectedFace, SessionPhoto
from classes.models import Course
from recognition.backends import get_backend
from recognition.images import DecodedImage, decode_image
from recognition.models import FaceEmbedding
from recognition.picture_hash import face_crop_hash
from recognition.results import Detection, FaceBox, FaceMatch, MatchStatus
from recognition.selectors import Candidates, candidates_for
from recognition.services import content_hash


def course_candidates(course: Course) -> Candidates:
    # Only consenting, enrolled students are candidates (SPEC §2.3, §8), with approved faces only.
    embeddings = FaceEmbedding.objects.matchable().filter(student__enrollments__course=course)
    return candidates_for(key=("course", course.pk), embeddings=embeddings)


def thresholds_for(course: Course) -> tuple[float, float]:
    teacher_settings = teacher_settings_get(user=course.teacher)
    return float(teacher_settings.confident_threshold), float(teacher_settings.uncertain_threshold)


@dataclass
class PhotoAnalysis:
    """What recognition says about a photo, computed before anything is written."""

    digest: str
    decoded: DecodedImage
    detection: Detection
    matches: list[FaceMatch]
    look_alikes: dict[Hashable, list[Hashable]]
    names: dict[Hashable, str]
    confident: float
    uncertain: float
    started: float


@dataclass(frozen=True)
class MatchContext:
    """What a course's faces are matched against: its candidates and the teacher's thresholds."""

    candidates: Candidates
    confident: float
    uncertain: float


def match_context(course: Course) -> MatchContext:
    confident, uncertain = thresholds_for(course)
    return MatchContext(course_candidates(course), confident, uncertain)


def faces_match(context: MatchContext, embeddings: list[np.ndarray], boxes: list[FaceBox]) -> list[FaceMatch]:
    """The one-to-one assignment of faces (their `embeddings` and `boxes`, indexes as in the lists) to the
    course's candidates. Faces narrower than RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS are TOO_SMALL and never
    offered to matching (their embeddings drift towards anyone's: benchmarks/small_faces.py)."""
    smallest = settings.RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS
    identifiable = [index for index, box in enumerate(boxes) if box.width >= smallest]
    matches = [FaceMatch(face_index=index, student_id=None, distance=None, status=MatchStatus.TOO_SMALL)
               for index in range(len(boxes))]
    if identifiable:
        found = get_backend().match_faces(
            np.asarray([embeddings[index] for index in identifiable]), context.candidates.candidate_set,
            confident_threshold=context.confident, uncertain_threshold=context.uncertain)
        for match in found:
            index = identifiable[match.face_index]
            matches[index] = FaceMatch(face_index=index, student_id=match.student_id, distance=match.distance,
                                       status=match.status)
    return matches


def too_small_reason(width: int) -> str:
    return (f"Too small to identify ({width} px wide, at least "
            f"{settings.RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS} needed): take the photo closer")


def analysis_build(*, context: MatchContext, decoded: DecodedImage, detection: Detection, matches: list[FaceMatch],
                   started: float) -> PhotoAnalysis:
    """The analysis of a photo whose faces are found and matched: the look-alikes and their names added."""
    look_alikes = context.candidates.look_alikes(context.confident)
    involved: set[Hashable] = set()
    for match in matches:
        if match.student_id in look_alikes:  # their reason names the look-alikes
            involved.update([match.student_id, *look_alikes[match.student_id]])
    return PhotoAnalysis(digest=content_hash(decoded.source), decoded=decoded, detection=detection, matches=matches,
                         look_alikes=look_alikes, names=student_names(involved), confident=context.confident,
                         uncertain=context.uncertain, started=started)


def photo_analyse(*, course: Course, image: bytes | DecodedImage) -> PhotoAnalysis:
    """Detects and matches the faces of a classroom photo against the course's candidates.
    Raises RecognitionError subclasses; writes nothing. The photo is decoded once, here (or by
    the caller, who passes the DecodedImage)."""
    started = time.perf_counter()
    decoded = image if isinstance(image, DecodedImage) else decode_image(image)
    context = match_context(course)
    detection = get_backend().detect_faces(decoded)
    matches = faces_match(context, [face.embedding for face in detection.faces], [face.box for face in detection.faces])
    return analysis_build(context=context, decoded=decoded, detection=detection, matches=matches, started=started)


def detected_faces(photo: SessionPhoto, analysis: PhotoAnalysis) -> list[DetectedFace]:
    faces: list[DetectedFace] = []
    matches: list[FaceMatch | None] = [*analysis.matches] or [None] * len(analysis.detection.faces)
    # One face per student per photo (a database constraint): should a backend name a student for
    # two faces, the closer one keeps them.
    closest: dict[Hashable, FaceMatch] = {}
    for match in matches:
        if match is not None and match.student_id is not None and (
                match.student_id not in closest
                or (match.distance or 0.0) < (closest[match.student_id].distance or 0.0)):
            closest[match.student_id] = match
    for face, match in zip(analysis.detection.faces, matches, strict=True):
        kind, reason, student_id = DetectedFace.Match.UNKNOWN, "", None
        if match is not None and match.status == MatchStatus.TOO_SMALL:
            kind, reason = DetectedFace.Match.TOO_SMALL, too_small_reason(face.box.width)
        elif match is not None and match.student_id is not None and closest[match.student_id] is match:
            student_id = match.student_id
            kind = (DetectedFace.Match.CONFIDENT if match.status == MatchStatus.CONFIDENT
                    else DetectedFace.Match.UNCERTAIN)
            if kind == DetectedFace.Match.CONFIDENT and student_id in analysis.look_alikes:
                kind = DetectedFace.Match.UNCERTAIN
                reason = "Looks like " + ", ".join(
                    analysis.names.get(other, "another student") for other in analysis.look_alikes[student_id])
        faces.append(DetectedFace(
            photo=photo, face_index=len(faces), box_top=face.box.top, box_right=face.box.right,
            box_bottom=face.box.bottom, box_left=face.box.left, face_area_ratio=face.face_area_ratio,
            student_id=student_id, distance=None if match is None else match.distance, match=kind, reason=reason,
            # The crop's hash outlives the photo: a self check-in sending the crop back is a replay.
            picture_hash=face_crop_hash(analysis.decoded.pixels, face.box)))
    return faces


def student_names(ids: set[Hashable]) -> dict[Hashable, str]:
    if not ids:
        return {}
    return {s.pk: s.full_name
            for s in StudentProfile.objects.filter(pk__in=cast("set[Any]", ids)).only("first_name", "last_name")}
