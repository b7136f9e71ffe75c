from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

from accounts.checks import site_url_check


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(site_url_check)
