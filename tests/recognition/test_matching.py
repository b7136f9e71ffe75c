"""The matching engine: minimum over embeddings, thresholds, the one-to-one rule, candidates only."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.errors import ErrorCode, RecognitionError
from recognition.matching import CandidateSet, match_faces
from recognition.results import MatchStatus


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    return vector / np.linalg.norm(vector)


def near(vector: np.ndarray, distance: float, seed: int = 99) -> np.ndarray:
    """A vector exactly `distance` away from `vector`."""
    direction = np.random.default_rng(seed).normal(size=128)
    direction -= direction.dot(vector) * vector
    return vector + distance * direction / np.linalg.norm(direction)


def test_two_faces_nearest_to_one_student_get_one_student_each() -> None:
    anna, ben = unit(1), unit(2)
    anna_face = near(anna, 0.30, seed=3)
    # This face is nearest to Anna too (0.40), but Anna is taken by the closer face: Ben (0.45) gets it.
    ambiguous = anna + 0.0
    ambiguous = near(anna, 0.40, seed=4)
    ben = near(ambiguous, 0.45, seed=5)
    assert np.linalg.norm(ambiguous - anna) < np.linalg.norm(ambiguous - ben)
    matches = match_faces(np.array([ambiguous, anna_face]), {"anna": [anna], "ben": [ben]})
    assert [(m.face_index, m.student_id) for m in matches] == [(0, "ben"), (1, "anna")]
    assert matches[0].distance == pytest.approx(0.45) and matches[1].distance == pytest.approx(0.30)
    assert len({m.student_id for m in matches}) == 2


def test_a_face_left_without_a_free_student_is_unknown() -> None:
    anna = unit(1)
    matches = match_faces(np.array([near(anna, 0.2, 7), near(anna, 0.3, 8)]), {"anna": [anna]})
    assert [m.student_id for m in matches] == ["anna", None]
    assert matches[1].status == MatchStatus.UNKNOWN and matches[1].distance == pytest.approx(0.3)


def test_a_students_distance_is_the_minimum_over_their_embeddings() -> None:
    anna = unit(1)
    face = near(anna, 0.42, 11)
    candidates = CandidateSet.from_mapping({"anna": [unit(20), anna, unit(21)], "ben": [unit(2)]})
    distances = candidates.distances(np.array([face]))
    assert distances.shape == (1, 2) and distances[0, 0] == pytest.approx(0.42)
    (match,) = match_faces(np.array([face]), candidates)
    assert match.student_id == "anna" and match.distance == pytest.approx(0.42)


@pytest.mark.parametrize(("distance", "status"), [(0.49, "confident"), (0.50, "uncertain"), (0.59, "uncertain"),
                                                  (0.601, "unknown"), (0.8, "unknown")])
def test_default_thresholds(distance: float, status: str) -> None:
    anna = unit(1)
    (match,) = match_faces(np.array([near(anna, distance)]), {"anna": [anna]})
    assert match.status == status
    assert (match.student_id == "anna") == (status != "unknown")


def test_thresholds_are_overridable_per_call() -> None:
    anna = unit(1)
    face = np.array([near(anna, 0.45)])
    assert match_faces(face, {"anna": [anna]})[0].status == "confident"
    assert match_faces(face, {"anna": [anna]}, confident_threshold=0.40)[0].status == "uncertain"
    assert match_faces(face, {"anna": [anna]}, confident_threshold=0.35, uncertain_threshold=0.40)[0].status \
        == "unknown"
    with pytest.raises(RecognitionError) as caught:
        match_faces(face, {"anna": [anna]}, confident_threshold=0.7, uncertain_threshold=0.6)
    assert caught.value.error_code == ErrorCode.INVALID_REQUEST


def test_only_the_given_candidates_are_considered() -> None:
    anna, ben = unit(1), unit(2)
    (match,) = match_faces(np.array([near(anna, 0.1)]), {"ben": [ben]})
    assert match.student_id is None and match.status == "unknown"


def test_no_candidates_or_no_faces() -> None:
    (match,) = match_faces(np.array([unit(1)]), {})
    assert match.student_id is None and match.distance is None
    assert match_faces(np.zeros((0, 128)), {"anna": [unit(1)]}) == []


@pytest.mark.parametrize("bad", [np.zeros((2, 64)), np.full((1, 128), np.nan), [[1.0, 2.0]]])
def test_invalid_embeddings_are_refused(bad: object) -> None:
    with pytest.raises(RecognitionError) as caught:
        match_faces(bad, {"anna": [unit(1)]})
    assert caught.value.error_code == ErrorCode.INVALID_REQUEST


def test_matching_agrees_with_a_direct_computation_at_scale() -> None:
    rng = np.random.default_rng(5)
    students = {f"s{k}": rng.normal(size=(3, 128)) / 11 for k in range(300)}
    queries = rng.normal(size=(40, 128)) / 11
    distances = CandidateSet.from_mapping(students).distances(queries)
    direct = np.array([[np.linalg.norm(rows - q, axis=1).min() for rows in students.values()] for q in queries])
    assert np.allclose(distances, direct, atol=1e-9)
