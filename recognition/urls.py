"""Routes of the recognition HTTP API (SPEC §2.4)."""

from __future__ import annotations

urlpatterns: list = []
