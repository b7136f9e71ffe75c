# The Celery app is loaded with Django so that @shared_task binds to it (web, commands and workers).
from smart_attendance.celery import app as celery_app

__all__ = ["celery_app"]
