"""After re-encoding (or a model upgrade of the recognition service), matching uses the new vectors."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command

from attendance.faces.analysis import course_candidates
from recognition.backends import remote
from recognition.backends.remote import HTTPBackend
from recognition.models import FaceEmbedding
from tests.classroom import make_class
from tests.recognition.servers import Script, stub_server


@pytest.mark.django_db
def test_running_workers_match_against_reencoded_vectors(teacher: Any, faces: Path, settings: Any) -> None:
    enrolled = make_class(teacher=teacher, faces=faces, enrol=("obama",))
    before = course_candidates(enrolled.course).candidate_set.matrix.copy()
    (face,) = FaceEmbedding.objects.all()
    assert np.allclose(before[0], face.embedding)

    # Re-encoded with other settings (as after a model change): the stored vector changes.
    settings.RECOGNITION = {**settings.RECOGNITION,
                            "OPTIONS": {**settings.RECOGNITION["OPTIONS"], "ENROLMENT_JITTERS": 1}}
    call_command("reencode_faces", stdout=io.StringIO(), stderr=io.StringIO())

    face.refresh_from_db()
    assert not np.allclose(before[0], face.embedding)
    after = course_candidates(enrolled.course).candidate_set.matrix
    assert np.allclose(after[0], face.embedding)


def health(version: str) -> tuple[int, bytes]:
    return 200, json.dumps({"status": "ok", "model": "dlib", "version": version, "detector": "hog"}).encode()


def test_the_remote_model_info_is_read_again_after_its_ttl() -> None:
    script = Script([health("1.0"), health("2.0")])
    with stub_server(script) as url:
        backend = HTTPBackend(URL=url)
        assert backend.model_info().version == "1.0"
        assert backend.model_info().version == "1.0" and len(script.hits) == 1  # cached within the TTL
        backend._model_read_at -= remote.MODEL_INFO_TTL_SECONDS + 1  # time passes

        assert backend.model_info().version == "2.0"
    assert len(script.hits) == 2
