from __future__ import annotations

from django.apps import AppConfig


class ClassesConfig(AppConfig):
    name = "classes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The access-log classification of this app's routes (school/access_log.py).
        from classes.access_routes import ROUTES
        from school.access_log import access_routes_declare

        access_routes_declare(ROUTES)
