"""Reads of the recognition app: the candidate embeddings of a group of students, cached."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet

from recognition.matching import CandidateSet
from recognition.models import VECTOR_DTYPE, FaceEmbedding

_CACHE_SIZE = 256
_cache: OrderedDict[Hashable, tuple[tuple, Candidates]] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Candidates:
    """A group's candidate set and the distances between its students (for the look-alike guard)."""

    candidate_set: CandidateSet
    student_distances: np.ndarray  # (s, s): min distance between two students' embeddings; inf on the diagonal

    def look_alikes(self, threshold: float) -> dict[Hashable, list[Hashable]]:
        """Students who have another student of the group closer than `threshold`."""
        ids = self.candidate_set.student_ids
        close = self.student_distances < threshold
        return {ids[i]: [ids[j] for j in np.flatnonzero(close[i])] for i in np.flatnonzero(close.any(axis=1))}


def candidates_for(*, key: Hashable, embeddings: QuerySet[FaceEmbedding]) -> Candidates:
    """The candidates made of `embeddings` (e.g. a course's consenting students).

    The matrix is rebuilt only when the embeddings changed: one query reads the ids of the
    embeddings and when each was last written (a few bytes each; re-encoding changes it); the
    vectors are read only when those differ from the cached build for `key`."""
    fingerprint = tuple(embeddings.order_by("pk").values_list("pk", "student_id", "updated_at"))
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == fingerprint:
            _cache.move_to_end(key)
            return cached[1]
    rows = embeddings.order_by("student_id", "pk").values_list("student_id", "vector")
    candidate_set = CandidateSet.build(
        (student_id, np.frombuffer(bytes(vector), dtype=VECTOR_DTYPE)) for student_id, vector in rows)
    student_distances = np.full((len(candidate_set), len(candidate_set)), np.inf)
    if len(candidate_set):
        per_embedding = candidate_set.distances(candidate_set.matrix)  # (m, s)
        student_distances = np.minimum.reduceat(per_embedding, candidate_set.starts[:-1], axis=0)
        np.fill_diagonal(student_distances, np.inf)
    candidates = Candidates(candidate_set, student_distances)
    with _cache_lock:
        _cache[key] = (fingerprint, candidates)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return candidates


def candidates_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()
