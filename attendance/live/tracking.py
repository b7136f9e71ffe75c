"""Live mode follows faces from one frame to the next, so that only new or moved faces are encoded.

A webcam sees the same class every second: most faces are where they were. Each frame is detected (boxes
only); a face whose box overlaps a face of the run's previous frame (IoU at least LIVE_TRACK_MIN_IOU) and
whose surroundings look the same (the grey 24x24 signature of `motion`, changed by at most
LIVE_TRACK_MAX_CHANGE) keeps that face's match (student, distance, status) without being encoded again.
The others are encoded and matched against the course as a photo's faces are. A followed face is encoded
again after LIVE_TRACK_MAX_AGE frames, and at once when its student is no longer a candidate (consent
withdrawn, face deleted), so an identity is never carried on for long on appearance alone.

Following a face only saves the encoder: it decides nothing. Whether a frame is evidence for a student is
still `motion`'s rule on the student's own last counted sighting, so a still picture never marks anyone.

The run's tracks (boxes, signatures, matches: no embedding) live on the `LiveRun` row, written by the one
frame in flight (`services._frame_claim`), so every web worker serving the run sees the same; they are
cleared when the run ends and when a student's consent is withdrawn.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from attendance.faces.analysis import PhotoAnalysis, analysis_build, faces_match, match_context, photo_analyse
from attendance.live import motion
from attendance.models import LiveRun
from classes.models import Course
from recognition.backends import get_backend
from recognition.images import DecodedImage
from recognition.results import Detection, Face, FaceBox, FaceMatch, MatchStatus

_NO_EMBEDDING = np.zeros(0)  # a followed face is not encoded


@dataclass(frozen=True)
class Track:
    """A face of the previous frame: where, what it looked like, who it was matched to, and how many frames
    it has been followed since it was last encoded."""

    box: FaceBox
    signature: bytes
    student_id: Any
    distance: float | None
    status: str
    age: int

    def as_json(self) -> dict[str, Any]:
        return {"box": [self.box.top, self.box.right, self.box.bottom, self.box.left],
                "signature": base64.b64encode(self.signature).decode("ascii"), "student": self.student_id,
                "distance": self.distance, "status": self.status, "age": self.age}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Track:
        top, right, bottom, left = (int(v) for v in value["box"])
        return cls(FaceBox(top, right, bottom, left), base64.b64decode(value["signature"]), value.get("student"),
                   value.get("distance"), str(value.get("status", MatchStatus.UNKNOWN)), int(value.get("age", 0)))


@dataclass
class TrackedFrame:
    analysis: PhotoAnalysis
    tracks: list[Track]
    encoded: int  # faces encoded for this frame
    followed: int  # faces that kept their match from the previous frame


def run_tracks(run: LiveRun) -> list[Track]:
    """The tracks the run's previous frame left (none when unreadable: every face is then encoded)."""
    try:
        return [Track.from_json(value) for value in run.tracks or []]
    except (KeyError, TypeError, ValueError):
        return []


def run_tracks_save(run: LiveRun, tracks: Sequence[Track]) -> None:
    LiveRun.objects.filter(pk=run.pk, ended_at__isnull=True).update(tracks=[track.as_json() for track in tracks])


def box_iou(first: FaceBox, second: FaceBox) -> float:
    """Intersection over union of two boxes (0 apart, 1 the same)."""
    width = min(first.right, second.right) - max(first.left, second.left)
    height = min(first.bottom, second.bottom) - max(first.top, second.top)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    return overlap / float(first.width * first.height + second.width * second.height - overlap)


def frame_analyse(*, course: Course, decoded: DecodedImage, previous: Sequence[Track],
                  tracking: bool | None = None) -> TrackedFrame:
    """Finds and matches a live frame's faces, encoding only those not followed from `previous` (every face
    when tracking is off, LIVE_TRACKING, or the backend cannot encode chosen faces only)."""
    started = time.perf_counter()
    backend = get_backend()
    enabled = settings.LIVE_TRACKING if tracking is None else tracking
    if not enabled or not backend.encodes_separately:
        analysis = photo_analyse(course=course, image=decoded)
        return TrackedFrame(analysis, [], encoded=len(analysis.detection.faces), followed=0)
    context = match_context(course)
    boxes = backend.locate_faces(decoded)
    signatures = [motion.region_signature(decoded.pixels, motion.face_region(box, decoded.size)) for box in boxes]
    followed = _follow(boxes, signatures, previous, set(context.candidates.candidate_set.student_ids))
    fresh = [index for index in range(len(boxes)) if index not in followed]
    embeddings = backend.encode_faces(decoded, [boxes[index] for index in fresh]) if fresh else []
    by_face: dict[int, FaceMatch] = {}
    for match in faces_match(context, list(embeddings), [boxes[index] for index in fresh]):
        by_face[fresh[match.face_index]] = FaceMatch(fresh[match.face_index], match.student_id, match.distance,
                                                     match.status)
    for index, track in followed.items():
        by_face[index] = FaceMatch(index, track.student_id, track.distance, track.status)
    matches = _one_face_per_student([by_face[index] for index in range(len(boxes))])
    width, height = decoded.size
    area = float(width * height)
    detection = Detection(faces=[Face(embedding=_NO_EMBEDDING, box=box, face_area_ratio=box.width * box.height / area)
                                 for box in boxes], image_size=(width, height),
                          processing_time_ms=(time.perf_counter() - started) * 1000)
    analysis = analysis_build(context=context, decoded=decoded, detection=detection, matches=matches, started=started)
    tracks = [Track(box, signature, match.student_id, match.distance, match.status,
                    followed[index].age + 1 if index in followed else 0)
              for index, (box, signature, match) in enumerate(zip(boxes, signatures, matches, strict=True))]
    return TrackedFrame(analysis, tracks, encoded=len(fresh), followed=len(followed))


def _follow(boxes: Sequence[FaceBox], signatures: Sequence[bytes], previous: Sequence[Track],
            candidates: set[Hashable]) -> dict[int, Track]:
    """Which faces of this frame continue which track: the pairs of greatest overlap first, each track and
    face used once; a track too old, or whose student is no longer a candidate, is not followed."""
    min_iou, max_change = float(settings.LIVE_TRACK_MIN_IOU), float(settings.LIVE_TRACK_MAX_CHANGE)
    max_age = int(settings.LIVE_TRACK_MAX_AGE)
    pairs = sorted(((box_iou(box, track.box), face, number) for face, box in enumerate(boxes)
                    for number, track in enumerate(previous)), reverse=True)
    followed: dict[int, Track] = {}
    used: set[int] = set()
    for iou, face, number in pairs:
        if iou < min_iou:
            break
        track = previous[number]
        if face in followed or number in used or track.age + 1 >= max_age:
            continue
        if track.student_id is not None and track.student_id not in candidates:
            continue
        if motion.signature_change(signatures[face], track.signature) > max_change:
            continue
        followed[face] = track
        used.add(number)
    return followed


def _one_face_per_student(matches: list[FaceMatch]) -> list[FaceMatch]:
    """A student is on one face at most: should a new face be matched to a student a followed face already
    holds, the closer keeps them and the other is unknown."""
    closest: dict[Hashable, FaceMatch] = {}
    for match in matches:
        if match.student_id is None:
            continue
        held = closest.get(match.student_id)
        if held is None or (match.distance or 0.0) < (held.distance or 0.0):
            closest[match.student_id] = match
    return [match if match.student_id is None or closest[match.student_id] is match
            else FaceMatch(match.face_index, None, None, MatchStatus.UNKNOWN) for match in matches]


def tracks_forget(student_id: Any) -> int:
    """Clears the tracks of every running run that follows the student (consent withdrawn); how many."""
    cleared = 0
    for run in LiveRun.objects.filter(ended_at__isnull=True).exclude(tracks=[]):
        if any(isinstance(value, dict) and value.get("student") == student_id for value in run.tracks or []):
            cleared += LiveRun.objects.filter(pk=run.pk).update(tracks=[])
    return cleared
