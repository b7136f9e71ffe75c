"""Celery tasks of the shared core: thin like views, safe to run twice (SPEC §7)."""

from __future__ import annotations

from celery import shared_task

from school import outbox


@shared_task(name=outbox.OUTBOX_SEND_TASK, acks_late=True)
def outbox_send(message_ids: list[int] | None = None) -> dict[str, int]:
    """Sends outbox e-mails (the given ones after their commit, or every due one for the beat round),
    from a worker: with a broker, no e-mail is sent inside a request."""
    return outbox.outbox_send_due(ids=message_ids)
