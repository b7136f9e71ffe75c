"""Photos are served only by login-protected views, in every configuration (issue 9 item 8)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.base import ContentFile

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "smart_attendance.settings", "SECRET_KEY": "x" * 50,
            "VAR_DIR": str(ROOT / "var")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


RESOLVE_MEDIA = """
import django; django.setup()
from django.urls import Resolver404, resolve
try:
    match = resolve('/media/faces/0123456789abcdef.jpg')
    print('SERVED by', match.func)
except Resolver404:
    print('NOT SERVED')
"""


def test_media_is_not_served_with_debug_on() -> None:
    result = run_python(RESOLVE_MEDIA, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "NOT SERVED"


def test_media_is_not_served_with_debug_off() -> None:
    result = run_python(RESOLVE_MEDIA, DEBUG="false", ALLOWED_HOSTS="localhost")
    assert result.stdout.strip() == "NOT SERVED", result.stderr


def test_cloudinary_configuration_uses_authenticated_delivery() -> None:
    pytest.importorskip("cloudinary_storage")
    result = run_python("import django; django.setup(); from django.conf import settings; "
                        "print(settings.STORAGES['default']['BACKEND'])",
                        DEBUG="true", CLOUDINARY_URL="cloudinary://123456:secret@demo-school")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "school.storage.PrivateMediaCloudinaryStorage"


@pytest.fixture
def cloudinary_storage(monkeypatch: pytest.MonkeyPatch) -> Any:
    # Nothing leaves the machine: uploads, deletions and downloads are mocked below.
    monkeypatch.setenv("CLOUDINARY_URL", "cloudinary://123456:not-a-real-secret@demo-school")
    pytest.importorskip("cloudinary_storage")
    import cloudinary

    cloudinary.config(cloud_name="demo-school", api_key="123456", api_secret="not-a-real-secret")
    from school.storage import PrivateMediaCloudinaryStorage

    return PrivateMediaCloudinaryStorage()


def test_private_storage_uploads_with_authenticated_delivery(cloudinary_storage: Any) -> None:
    with mock.patch("cloudinary.uploader.upload", return_value={"public_id": "media/faces/abc"}) as upload:
        name = cloudinary_storage.save("faces/abc.jpg", ContentFile(b"\xff\xd8 jpeg bytes"))
    assert name == "media/faces/abc"
    assert upload.call_args.kwargs["type"] == "authenticated"
    assert upload.call_args.kwargs["folder"] == "media/faces"


def test_private_storage_reads_through_an_expiring_signed_url(cloudinary_storage: Any) -> None:
    url = cloudinary_storage.url("media/faces/abc")
    assert url.startswith("https://api.cloudinary.com/v1_1/demo-school/image/download?")
    assert "type=authenticated" in url and "signature=" in url and "expires_at=" in url
    assert "res.cloudinary.com" not in url  # never the public delivery URL
    with mock.patch("requests.get") as get:
        get.return_value.status_code = 200
        get.return_value.content = b"jpeg"
        assert cloudinary_storage.open("media/faces/abc").read() == b"jpeg"
    assert "signature=" in get.call_args.args[0]


def test_private_storage_deletes_the_authenticated_asset(cloudinary_storage: Any) -> None:
    with mock.patch("cloudinary.uploader.destroy", return_value={"result": "ok"}) as destroy:
        assert cloudinary_storage.delete("media/faces/abc")
    assert destroy.call_args.kwargs["type"] == "authenticated"


@pytest.mark.django_db
def test_photo_views_need_a_login(client: Any) -> None:
    for url in ("/faces/1/image", "/photos/1/image"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
