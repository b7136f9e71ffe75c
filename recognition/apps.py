from __future__ import annotations

from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the setting_changed receiver that resets the cached backend.
        from recognition import backends  # noqa: F401
