"""Stand-ins for gunicorn workers: a live frame posted from a separate Python process (spawned, so
nothing is shared with the test's process but the database), as in production without Redis.

Kept apart from the test modules: a spawned process imports this module before Django is set up."""

from __future__ import annotations

from typing import Any


def post_frame(index: int, database: str, media_root: str, user_id: int, session_id: int, image: bytes,
               messages: Any, release: Any) -> None:
    """Posts one frame through the API as `user_id` and puts ("answer", index, status, error code,
    Retry-After) on `messages`. Recognition of the frame waits for `release` after putting
    ("entered", index): the test decides when the frames in flight may finish."""
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database  # the test's database, not the one of the settings
    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.MEDIA_ROOT = media_root
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connections

    from accounts.models import User
    from attendance.live import tracking
    from tests.conftest import api_client_for

    analyse = tracking.frame_analyse

    def held(**kwargs: Any) -> Any:
        messages.put(("entered", index))
        release.wait(120)
        return analyse(**kwargs)

    tracking.frame_analyse = held  # type: ignore[assignment]
    try:
        api = api_client_for(User.objects.get(pk=user_id))
        response = api.post(f"/api/v1/sessions/{session_id}/live/frames/",
                            {"image": SimpleUploadedFile("frame.jpg", image, content_type="image/jpeg")},
                            format="multipart")
        messages.put(("answer", index, response.status_code, response.json().get("error_code", ""),
                      response.get("Retry-After")))
    except BaseException as exc:
        messages.put(("answer", index, 0, repr(exc), None))
    finally:
        connections.close_all()
