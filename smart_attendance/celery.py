"""The Celery application (SPEC §7): classroom photos and e-mails on workers when CELERY_BROKER_URL is set.

Configured from Django's settings (the CELERY_* names); tasks live beside their services
(`school/tasks.py`, `attendance/photos/tasks.py`). Start a
worker with its scheduler (the sweep that re-queues photos whose message was lost):

    celery -A smart_attendance worker --beat --loglevel INFO
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_attendance.settings")

app = Celery("smart_attendance")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live beside the services they call: school/tasks.py and attendance/photos/tasks.py.
app.autodiscover_tasks(["school", "attendance.photos"])
app.conf.beat_schedule = {
    # Photos stored while Redis was down, or whose worker died, are queued again (idempotent). Every
    # 15 s: a dead worker's photo is queued again within CLAIM_STALE (30 s) + 15 s (a cheap indexed query).
    "photos-resume": {"task": "attendance.photos_resume", "schedule": 15.0},
    # The outbox's due e-mails (retries with backoff, ones whose after-commit task was lost).
    "outbox-send-due": {"task": "attendance.outbox_send", "schedule": 60.0},
}
