"""The OpenAPI schema view: `?format=json` gives JSON (URL_FORMAT_OVERRIDE is off project-wide
because `format` is the report's own parameter)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class FormatParameterNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> Any:
        return super().select_renderer(request, renderers, format_suffix or request.query_params.get("format"))


class SchemaView(SpectacularAPIView):
    """GET /api/schema/: YAML by default, JSON with ?format=json or Accept: application/json."""

    content_negotiation_class = FormatParameterNegotiation
