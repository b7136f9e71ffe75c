"""The dlib backend on the real photos of ../shared/faces (SPEC §2.1-2.3)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from recognition.errors import ErrorCode, FaceQualityError, RecognitionUnavailable
from recognition.matching import CandidateSet
from recognition.results import MatchStatus

pytestmark = pytest.mark.slow


def test_an_enrolment_photo_gives_one_128_float_embedding(dlib_backend: Any, read: Any) -> None:
    encoded = dlib_backend.encode_face(read("people/obama/obama.jpg"))
    assert encoded.embedding.shape == (128,) and encoded.embedding.dtype == np.float64
    assert np.isfinite(encoded.embedding).all() and 0.5 < np.linalg.norm(encoded.embedding) < 2.0
    assert encoded.image_size == (910, 1137)
    box = encoded.box
    assert 0 <= box.left < box.right <= 910 and 0 <= box.top < box.bottom <= 1137
    assert encoded.face_area_ratio == pytest.approx(box.width * box.height / (910 * 1137))


def test_a_photo_without_a_face_is_no_face_found(dlib_backend: Any, read: Any) -> None:
    with pytest.raises(FaceQualityError) as caught:
        dlib_backend.encode_face(read("edge/no_face_dogs.jpg"))
    assert caught.value.error_code == ErrorCode.NO_FACE_FOUND and not caught.value.retryable


def test_two_people_on_an_enrolment_photo_is_multiple_faces(dlib_backend: Any, read: Any) -> None:
    with pytest.raises(FaceQualityError) as caught:
        dlib_backend.encode_face(read("groups/two_people.jpg"), validate_single=True)
    assert caught.value.error_code == ErrorCode.MULTIPLE_FACES and caught.value.details == {"faces": 2}
    biggest = dlib_backend.encode_face(read("groups/two_people.jpg"), validate_single=False,
                                       min_face_area_ratio=0.02)
    assert biggest.embedding.shape == (128,)


def test_a_small_face_on_a_big_photo_is_face_too_small(dlib_backend: Any, read: Any) -> None:
    face = Image.open(io.BytesIO(read("edge/obama_small.jpg")))
    canvas = Image.new("RGB", (1600, 1200), "white")
    canvas.paste(face, (600, 400))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=95)
    with pytest.raises(FaceQualityError) as caught:
        dlib_backend.encode_face(buffer.getvalue())
    assert caught.value.error_code == ErrorCode.FACE_TOO_SMALL
    assert caught.value.details["face_area_ratio"] < 0.05


def test_every_group_photo_yields_the_manifest_face_count(dlib_backend: Any, read: Any, manifest: Any) -> None:
    found = {}
    for group in manifest["groups"]:
        detection = dlib_backend.detect_faces(read(group["file"]))
        width, height = detection.image_size
        assert all(0 <= f.box.left < f.box.right <= width and 0 <= f.box.top < f.box.bottom <= height
                   for f in detection.faces)
        found[group["file"]] = len(detection.faces)
    assert found == {group["file"]: group["faces"] for group in manifest["groups"]}


def test_every_probe_resolves_to_its_known_people(dlib_backend: Any, read: Any, manifest: Any) -> None:
    candidates = CandidateSet.from_mapping({
        person: [dlib_backend.encode_face(read(photos[0] if person != "kit_harington" else photos[1])).embedding]
        for person, photos in manifest["people"].items()})  # john1.jpeg's face is too small to enrol
    for probe in manifest["probes"]:
        detection = dlib_backend.detect_faces(read(probe["file"]))
        assert len(detection.faces) == probe["faces"], probe["file"]
        matches = dlib_backend.match_faces(np.array([f.embedding for f in detection.faces]), candidates)
        recognised = sorted(m.student_id for m in matches if m.status == MatchStatus.CONFIDENT)
        assert recognised == sorted(probe["known"]), probe["file"]
        if probe["file"] == "probes/obama_and_biden.jpg":
            unknown = [m for m in matches if m.student_id is None]
            assert len(unknown) == 1 and unknown[0].status == MatchStatus.UNKNOWN and unknown[0].distance >= 0.6


def test_an_rgba_png_is_recognised(dlib_backend: Any, read: Any) -> None:
    reference = dlib_backend.encode_face(read("people/obama/obama2.jpg")).embedding
    encoded = dlib_backend.encode_face(read("edge/obama_32bit.png"))
    assert np.linalg.norm(encoded.embedding - reference) < 0.1


def test_exif_orientation_is_applied(dlib_backend: Any, read: Any) -> None:
    upright = Image.open(io.BytesIO(read("people/obama/obama.jpg")))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # stored as a phone stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", quality=95, exif=exif.tobytes())
    turned = dlib_backend.encode_face(buffer.getvalue())
    reference = dlib_backend.encode_face(read("people/obama/obama.jpg"))
    assert turned.image_size == reference.image_size == (910, 1137)
    assert abs(turned.box.left - reference.box.left) <= 8 and abs(turned.box.top - reference.box.top) <= 8
    assert np.linalg.norm(turned.embedding - reference.embedding) < 0.1


def test_small_photos_are_scanned_enlarged_and_big_ones_within_the_budget() -> None:
    from recognition.detectors import get_detector

    hog = get_detector("hog")
    assert hog.scan_scale(500, 375, 40, upscale_limit=4.0) == pytest.approx(2.0)
    assert hog.scan_scale(1986, 1545, 40, upscale_limit=4.0) == pytest.approx(1.018, abs=0.01)
    assert hog.scan_scale(4000, 3000, 40, upscale_limit=4.0) == pytest.approx(0.516, abs=0.01)
    # An enrolment photo (face >= 5% of the area) is scanned on a reduced copy.
    assert hog.scan_scale(910, 1137, 0.8 * (0.05 * 910 * 1137) ** 0.5) < 0.5


def fail_import(monkeypatch: Any, module: str, error: BaseException) -> Any:
    """Makes `import module` raise `error`, as on a machine where it is broken; forgets the loaded API."""
    import builtins

    from recognition import dlib_model

    real_import = builtins.__import__

    def importer(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == module:
            raise error
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(dlib_model, "_api", None)
    monkeypatch.setattr(builtins, "__import__", importer)
    return dlib_model


def test_a_missing_model_package_is_an_error_not_an_exit(monkeypatch: Any, read: Any) -> None:
    fail_import(monkeypatch, "face_recognition_models", ImportError("no face_recognition_models"))
    from recognition.backends.local import DlibBackend

    backend = DlibBackend()
    health = backend.health()
    assert health.ok is False and health.details["error_code"] == ErrorCode.MODEL_UNAVAILABLE
    with pytest.raises(RecognitionUnavailable) as caught:
        backend.encode_face(read("people/obama/obama.jpg"))
    assert caught.value.error_code == ErrorCode.MODEL_UNAVAILABLE and caught.value.retryable


def test_face_recognition_quitting_on_import_is_caught(monkeypatch: Any) -> None:
    dlib_model = fail_import(monkeypatch, "face_recognition", SystemExit("Please install `face_recognition_models`"))
    with pytest.raises(RecognitionUnavailable) as caught:
        dlib_model.load_face_recognition()
    assert caught.value.error_code == ErrorCode.MODEL_UNAVAILABLE


def test_the_cnn_detector_is_an_option(read: Any) -> None:
    from recognition.backends.local import DlibBackend

    detection = DlibBackend(DETECTOR="cnn").detect_faces(read("groups/2008_001009.jpg"))
    assert len(detection.faces) == 2 and all(f.embedding.shape == (128,) for f in detection.faces)


def test_the_minimum_face_area_ratio_is_an_option(read: Any) -> None:
    from recognition.backends.local import DlibBackend

    photo = read("people/obama/obama3.jpg")  # the face covers about 3% of this photo
    with pytest.raises(FaceQualityError):
        DlibBackend().encode_face(photo)
    assert 0.02 <= DlibBackend(MIN_FACE_AREA_RATIO=0.02).encode_face(photo).face_area_ratio < 0.05
