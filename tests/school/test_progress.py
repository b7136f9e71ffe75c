"""The long commands draw a progress bar on a terminal's stderr and stay quiet in logs."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from recognition.models import FaceEmbedding
from tests import factories

pytestmark = pytest.mark.django_db


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def roster(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("student_number,first_name,last_name\n" + "".join(f"P{i},Ann,Lee\n" for i in range(rows)))
    return path


def test_import_roster_shows_progress_on_a_terminal_only(teacher: Any, tmp_path: Path) -> None:
    terminal = Terminal()
    call_command("import_roster", str(roster(tmp_path, 7)), "--by", teacher.username, stdout=StringIO(),
                 stderr=terminal)
    assert "students: 100%" in terminal.getvalue() and "7/7" in terminal.getvalue()
    log = StringIO()
    call_command("import_roster", str(roster(tmp_path, 7)), "--by", teacher.username, stdout=StringIO(), stderr=log)
    assert log.getvalue() == ""


def test_purge_biometrics_shows_progress(teacher: Any) -> None:
    for number in ("W1", "W2"):
        student = factories.StudentFactory(student_number=number, consent_given=False)
        face = FaceEmbedding(student=student, model_name="m", model_version="v", detector="hog", num_jitters=1,
                             box_top=0, box_right=1, box_bottom=1, box_left=0, face_area_ratio=0.1, image_width=1,
                             image_height=1, content_hash=number)
        face.embedding = [0.0] * 128
        face.save()
    terminal = Terminal()
    out = StringIO()
    call_command("purge_biometrics", stdout=out, stderr=terminal)
    assert "without consent: deleted 2" in out.getvalue()
    assert "students: 100%" in terminal.getvalue() and "2/2" in terminal.getvalue()


@pytest.mark.slow
def test_seed_demo_faces_shows_progress(faces: Path) -> None:
    terminal = Terminal()
    call_command("seed_demo", force=True, faces=faces / "people", stdout=StringIO(), stderr=terminal)
    assert "students: 100%" in terminal.getvalue() and "5/5" in terminal.getvalue()
