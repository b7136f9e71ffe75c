"""ASGI entry point (an ASGI server such as uvicorn: smart_attendance.asgi:application). The product is
deployed under WSGI (gunicorn); this is here for servers that speak ASGI only."""
from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_attendance.settings")
application = get_asgi_application()
