"""Celery tasks of attendance: thin like views, they load ids and call the services the request
path calls, and are safe to run twice (SPEC §7)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from attendance.photos import processing
from school import metrics
from school.middleware import request_id_bound


@shared_task(bind=True, name=processing.PHOTO_PROCESS_TASK, acks_late=True, reject_on_worker_lost=True,
             max_retries=None)
def photo_process(self: Any, photo_id: int, request_id: str | None = None) -> str:
    """Detects, matches and applies one stored classroom photo; while recognition is unavailable it
    is retried with backoff (the photo shows "waiting for recognition") until the photo's deadline.
    Logs carry the upload's request id (and the recognition service receives it)."""
    with request_id_bound(request_id or f"task-{self.request.id}"):
        outcome = processing.photo_process_stored(photo_id=photo_id)
        if outcome.retry_in is not None:
            metrics.TASK_RETRIES.labels(task="attendance.photo_process").inc()
            raise self.retry(countdown=outcome.retry_in, kwargs={"request_id": request_id})
        return "done" if outcome.result is not None else "nothing to do"


@shared_task(name="attendance.photos_resume")
def photos_resume() -> int:
    """The periodic sweep (celery beat): queues again photos whose message or worker was lost."""
    return processing.photos_resume()
