"""Shared fixtures: media in a temporary folder, API clients per role, the sample photos."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests import factories

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from accounts.models import User
    from tests.classroom import EnrolledClass

FACES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "faces"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Throttle counters live in the cache: each test starts with none.
    from django.core.cache import cache

    cache.clear()


def faces_dir() -> Path:
    """The shared sample photos. In CI their absence fails the run; elsewhere the test skips."""
    if not (FACES_DIR / "manifest.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"../shared/faces is missing (looked in {FACES_DIR}): CI must have it")
        pytest.skip(f"sample photos not found at {FACES_DIR}")
    return FACES_DIR


@pytest.fixture(scope="session")
def faces() -> Path:
    return faces_dir()


@pytest.fixture(scope="session")
def manifest(faces: Path) -> dict[str, Any]:
    return json.loads((faces / "manifest.json").read_text())


def api_client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


class ClientFor(Protocol):
    """The `client_for` fixture: `client_for(user)` is a page client logged in as `user`."""

    def __call__(self, user: User) -> Client: ...


@pytest.fixture
def client_for() -> ClientFor:
    """A test client with the session of `user` (force_login: no password, no login page, no lockout)."""

    def logged_in(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return logged_in


@pytest.fixture
def admin_user(db: None) -> User:
    return factories.AdminFactory.create(username="admin")


@pytest.fixture
def teacher(db: None) -> User:
    return factories.TeacherFactory.create(username="teacher_a")


@pytest.fixture
def other_teacher(db: None) -> User:
    return factories.TeacherFactory.create(username="teacher_b")


@pytest.fixture
def student_user(db: None) -> User:
    return factories.StudentUserFactory.create(username="pupil")


@pytest.fixture
def admin_api(admin_user: User) -> APIClient:
    return api_client_for(admin_user)


@pytest.fixture
def teacher_api(teacher: User) -> APIClient:
    return api_client_for(teacher)


@pytest.fixture
def other_teacher_api(other_teacher: User) -> APIClient:
    return api_client_for(other_teacher)


@pytest.fixture
def student_api(student_user: User) -> APIClient:
    return api_client_for(student_user)


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fast_test_settings(settings: Settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture
def enrolled_class(teacher: User, faces: Path) -> EnrolledClass:
    """A course of the five people of ../shared/faces/people, enrolled with the real model."""
    from tests.classroom import make_class

    return make_class(teacher=teacher, faces=faces)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    # The SQLite test database is a file, not memory, so that the Celery worker process of the stack
    # tests (tests/stack.py) opens the same database as the test, and so that threads of the
    # concurrency tests (tests/attendance/register/test_concurrency.py) see SQLite's real locking: a shared
    # in-memory database locks whole tables and behaves nothing like production.
    import tempfile

    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"].endswith("sqlite3") and not test.get("NAME"):
        test["NAME"] = str(Path(tempfile.gettempdir()) / f"smart-attendance-test-{os.getpid()}.sqlite3")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server (Debian) on a free loopback port for this test session."""
    from tests.stack import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url
