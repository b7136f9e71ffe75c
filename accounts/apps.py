from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

from accounts.checks import site_url_check


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(site_url_check)
        # The access-log classification of this app's routes (school/access_log.py).
        from accounts.access_routes import ROUTES
        from school.access_log import access_routes_declare

        access_routes_declare(ROUTES)
