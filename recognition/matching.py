"""The matching engine (SPEC §2.3): vectorised distances and a one-to-one assignment.

A `CandidateSet` holds every embedding of the candidate students as one (m, 128) matrix, grouped
by student, so that a photo's faces are compared with a handful of matrix operations whatever the
number of students. A student's distance to a face is the minimum over their embeddings.
The assignment is greedy by distance over all (face, student) pairs under the uncertain threshold:
the closest pair is taken first, then neither that face nor that student is used again.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recognition.errors import ErrorCode, RecognitionError
from recognition.results import EMBEDDING_SIZE, FaceMatch, MatchStatus

DEFAULT_CONFIDENT_THRESHOLD = 0.50
DEFAULT_UNCERTAIN_THRESHOLD = 0.60


@dataclass(frozen=True)
class CandidateSet:
    """Candidate students and their embeddings, ready for matching.

    `student_ids[k]` owns rows `starts[k]:starts[k + 1]` of `matrix`.
    """

    student_ids: tuple[Hashable, ...]
    matrix: np.ndarray  # (m, 128) float64
    starts: np.ndarray  # (len(student_ids) + 1,) int
    squared_norms: np.ndarray = field(repr=False)  # (m,)

    @classmethod
    def build(cls, pairs: Iterable[tuple[Hashable, Sequence[float] | np.ndarray]]) -> CandidateSet:
        """From (student id, embedding) pairs in any order; a student may appear several times."""
        grouped: dict[Hashable, list[np.ndarray]] = {}
        for student_id, embedding in pairs:
            grouped.setdefault(student_id, []).append(np.asarray(embedding, dtype=np.float64))
        return cls.from_mapping({sid: np.vstack(rows) for sid, rows in grouped.items()})

    @classmethod
    def from_mapping(cls, mapping: Mapping[Hashable, Sequence[Sequence[float]] | np.ndarray]) -> CandidateSet:
        """From {student id: (k, 128) embeddings}; students without embeddings are left out."""
        ids: list[Hashable] = []
        blocks: list[np.ndarray] = []
        for student_id, embeddings in mapping.items():
            block = np.asarray(embeddings, dtype=np.float64).reshape(-1, EMBEDDING_SIZE) if len(embeddings) else None
            if block is None or not len(block):
                continue
            ids.append(student_id)
            blocks.append(block)
        if not blocks:
            return cls.empty()
        matrix = np.ascontiguousarray(np.vstack(blocks))
        starts = np.zeros(len(blocks) + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(b) for b in blocks])
        return cls(tuple(ids), matrix, starts, np.einsum("ij,ij->i", matrix, matrix))

    @classmethod
    def empty(cls) -> CandidateSet:
        return cls((), np.zeros((0, EMBEDDING_SIZE)), np.zeros(1, dtype=np.int64), np.zeros(0))

    def __len__(self) -> int:
        return len(self.student_ids)

    @property
    def embedding_count(self) -> int:
        return len(self.matrix)

    def as_mapping(self) -> dict[Hashable, np.ndarray]:
        return {sid: self.matrix[self.starts[k]:self.starts[k + 1]] for k, sid in enumerate(self.student_ids)}

    def distances(self, queries: np.ndarray) -> np.ndarray:
        """(n, students) matrix: each query's distance to each student (minimum over their embeddings)."""
        queries = as_embeddings(queries)
        if not len(self) or not len(queries):
            return np.zeros((len(queries), len(self)))
        # |q - e|² = |q|² + |e|² - 2 q·e, for all pairs at once.
        squared = (np.einsum("ij,ij->i", queries, queries)[:, None] + self.squared_norms[None, :]
                   - 2.0 * queries @ self.matrix.T)
        per_embedding = np.sqrt(np.maximum(squared, 0.0))
        return np.minimum.reduceat(per_embedding, self.starts[:-1], axis=1)


def nearest_distance(query: Sequence[float] | np.ndarray,
                     embeddings: Sequence[Sequence[float]] | Sequence[np.ndarray] | np.ndarray) -> float:
    """The distance from one face to the closest of a person's embeddings (the measure every match uses)."""
    rows = as_embeddings(np.asarray(embeddings, dtype=np.float64))
    return float(CandidateSet.from_mapping({"one": rows}).distances(as_embeddings(np.asarray(query)))[0, 0])


def as_embeddings(values: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """A (n, 128) float64 array, or RecognitionError INVALID_REQUEST."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1 and array.size == EMBEDDING_SIZE:
        array = array.reshape(1, EMBEDDING_SIZE)
    if array.size == 0:
        return np.zeros((0, EMBEDDING_SIZE))
    if array.ndim != 2 or array.shape[1] != EMBEDDING_SIZE or not np.isfinite(array).all():
        raise RecognitionError(ErrorCode.INVALID_REQUEST,
                               f"Embeddings must be finite vectors of {EMBEDDING_SIZE} numbers.")
    return array


def status_for(distance: float, confident_threshold: float, uncertain_threshold: float) -> str:
    if distance < confident_threshold:
        return MatchStatus.CONFIDENT
    if distance < uncertain_threshold:
        return MatchStatus.UNCERTAIN
    return MatchStatus.UNKNOWN


def check_thresholds(confident_threshold: float, uncertain_threshold: float) -> None:
    if not (0.0 < confident_threshold <= uncertain_threshold <= 2.0):
        raise RecognitionError(
            ErrorCode.INVALID_REQUEST,
            "Thresholds must satisfy 0 < confident_threshold <= uncertain_threshold <= 2.",
        )


def match_faces(queries: np.ndarray, candidates: CandidateSet | Mapping, *,
                confident_threshold: float = DEFAULT_CONFIDENT_THRESHOLD,
                uncertain_threshold: float = DEFAULT_UNCERTAIN_THRESHOLD) -> list[FaceMatch]:
    """One FaceMatch per query face, in order, under the one-to-one rule.

    A face left without a student is `unknown`; its `distance` is then the distance to the nearest
    candidate (or None without candidates), which tells how far it was from being recognised.
    """
    check_thresholds(confident_threshold, uncertain_threshold)
    if not isinstance(candidates, CandidateSet):
        candidates = CandidateSet.from_mapping(candidates)
    queries = as_embeddings(queries)
    distances = candidates.distances(queries)
    n_faces, n_students = distances.shape
    assigned_student = np.full(n_faces, -1, dtype=np.int64)
    if n_students:
        faces, students = np.nonzero(distances < uncertain_threshold)
        order = np.argsort(distances[faces, students], kind="stable")
        face_taken = np.zeros(n_faces, dtype=bool)
        student_taken = np.zeros(n_students, dtype=bool)
        # Only pairs under the threshold are visited: a handful per face, not faces x students.
        for face, student in zip(faces[order].tolist(), students[order].tolist(), strict=True):
            if face_taken[face] or student_taken[student]:
                continue
            face_taken[face] = student_taken[student] = True
            assigned_student[face] = student
    nearest = distances.min(axis=1) if n_students else None
    matches = []
    for face in range(n_faces):
        student = int(assigned_student[face])
        if student >= 0:
            distance = float(distances[face, student])
            matches.append(FaceMatch(face, candidates.student_ids[student], distance,
                                     status_for(distance, confident_threshold, uncertain_threshold)))
        else:
            matches.append(FaceMatch(face, None, None if nearest is None else float(nearest[face]),
                                     MatchStatus.UNKNOWN))
    return matches
