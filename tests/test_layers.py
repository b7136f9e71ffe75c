"""The layers of the house are checked, not hoped for: import-linter's contracts (pyproject.toml) hold on
the code, and break on an import that points up a layer, joins the engine to a business app, or closes
a circle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("smart_attendance", "school", "accounts", "classes", "recognition", "attendance")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}, timeout=300)


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("house")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def with_line(tree: Path, module: str, line: str) -> Path:
    """A copy of `tree` where `module` (a path) also has `line` at its end."""
    changed = tree.parent / f"{tree.name}-{module.replace('/', '-')}"
    if changed.exists():
        shutil.rmtree(changed)
    shutil.copytree(tree, changed)
    target = changed / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return changed


def test_the_contracts_hold_on_the_code(copy_of_the_code: Path) -> None:
    result = lint_imports(copy_of_the_code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    # The core learns of attendance: an arrow up the app layers.
    ("school/clock.py", "from attendance.models import AttendanceSession  # noqa", "Apps in layers"),
    # The people learn of courses.
    ("accounts/selectors.py", "import classes.models  # noqa", "Apps in layers"),
    # The register reaches up into the photo pipeline.
    ("attendance/register/services.py", "from attendance.photos import processing  # noqa", "capabilities"),
    # The engine learns of students.
    ("recognition/matching.py", "from recognition.models import FaceEmbedding  # noqa", "engine imports no"),
    # A service answers in HTTP statuses.
    ("attendance/live/services.py", "from rest_framework import status  # noqa", "does not speak HTTP"),
    ("recognition/selectors.py", "from rest_framework.exceptions import NotFound  # noqa", "does not speak HTTP"),
    # Two modules of one app import each other.
    ("school/models.py", "from school import calendar  # noqa", "no cycle"),
])
def test_a_new_upward_import_breaks_a_contract(copy_of_the_code: Path, module: str, line: str,
                                               broken: str) -> None:
    result = lint_imports(with_line(copy_of_the_code, module, line))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and broken in result.stdout.replace("\n", " "), result.stdout
