from __future__ import annotations

from django.apps import AppConfig


class SchoolConfig(AppConfig):
    """The shared ground under every app (see school/models.py)."""

    name = "school"
    default_auto_field = "django.db.models.BigAutoField"
