"""The outbox: every outgoing e-mail is a row written in the transaction of the decision that caused it,
sent after the commit, and retried with backoff until delivered.

`outbox_send_due()` is the one sending function: the after-commit hook, `manage.py send_outbox` (cron)
and a Celery task all call it. A message is claimed by an atomic status transition (pending → sending)
before it is sent, so two senders running at once never send it twice.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from school.models import OutboxMessage

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
# Wait before attempt n+1 (the last value repeats): a short outage is bridged quickly, a long one
# does not hammer the mail server.
# After a failure the mail server counts as down for a minute: the sends after a commit are skipped
# (their messages stay due for cron or Celery) so a dead server does not hold requests for its timeout.
# The Celery task that runs outbox_send_due (school/tasks.py).
OUTBOX_SEND_TASK = "attendance.outbox_send"
SERVER_DOWN_KEY = "outbox:mail-server-down"
SERVER_DOWN_SECONDS = 60
# A round stops after this many failures in a row; the rest waits for the next round.
ROUND_MAX_FAILURES = 3
# A set-password or consent link works like a key: once delivered, its copy leaves the database.
CREDENTIAL_KINDS = (OutboxMessage.Kind.ACCOUNT, OutboxMessage.Kind.GUARDIAN_LINK)
SCRUBBED_BODY = "(removed once sent: it held a one-time link)"
# Absence e-mails and daily summaries end with a guardian link that works for weeks: once delivered, the
# links leave the database and the rest stays (what the family was told).
LINK_KINDS = (OutboxMessage.Kind.ABSENCE, OutboxMessage.Kind.DAILY_SUMMARY)
SCRUBBED_LINK = "(link removed once sent)"
_LINK = re.compile(r"https?://\S+")
BACKOFF = (datetime.timedelta(minutes=1), datetime.timedelta(minutes=5), datetime.timedelta(minutes=15),
           datetime.timedelta(hours=1), datetime.timedelta(hours=3))


def _one_line(text: str, limit: int) -> str:
    # A header never carries a line break (header injection) and fits its column.
    return " ".join(text.split())[:limit]


def outbox_add(*, to: str, kind: str, subject: str, body: str, key: str | None = None) -> OutboxMessage | None:
    """Queues an e-mail in the caller's transaction and sends it once that transaction commits.

    With a `key`, the same message is queued at most once (a retried decision does not e-mail twice):
    the existing row's copy is returned as None. Nothing is sent if the transaction rolls back."""
    message = OutboxMessage(to=to.strip(), kind=kind, subject=_one_line(subject, 250), body=body, key=key,
                            next_attempt_at=timezone.now())
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        if key is not None and OutboxMessage.objects.filter(key=key).exists():
            return None
        raise
    message_id = message.pk
    transaction.on_commit(lambda: _send_after_commit(message_id))
    return message


def _send_after_commit(message_id: int) -> None:
    if settings.PHOTO_PROCESSING == "queue":  # a broker is configured: a worker sends, not the request
        try:
            # Sent by name: the task module (school/tasks.py) imports this one.
            current_app.send_task(OUTBOX_SEND_TASK, args=[[message_id]])
        except Exception:  # the broker is down: the row stays due for the beat round (or cron)
            logger.exception("outbox: message %s could not be queued; it stays due", message_id)
        return
    if cache.get(SERVER_DOWN_KEY):
        return  # failed a moment ago: cron (or Celery) sends it, the request does not wait
    try:
        outbox_send_due(ids=[message_id])
    except Exception:  # the row stays pending: cron (or Celery) retries it
        logger.exception("outbox: sending message %s after commit failed", message_id)


def message_claim(message_id: int, now: datetime.datetime) -> bool:
    """pending (due) → sending, atomically: only one sender wins a message."""
    return bool(OutboxMessage.objects.filter(_due(now), pk=message_id).update(status=Status.SENDING, claimed_at=now))


def _due(now: datetime.datetime) -> Q:
    # Due: pending and its time has come, or claimed by a sender that died long ago.
    stale = now - datetime.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT)
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_at__lt=stale)


def backoff_after(attempts: int) -> datetime.timedelta:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def outbox_send_due(*, ids: Iterable[int] | None = None, limit: int = 200,
                    now: datetime.datetime | None = None) -> dict[str, int]:
    """Sends the messages that are due (or only `ids`, when due). Each is claimed first, then sent
    through Django's e-mail framework; a failure counts an attempt and schedules the next one with
    backoff, until OUTBOX_MAX_ATTEMPTS (then the message is `failed`, shown in the office's outbox).
    Returns counts: sent, failed (this round), given_up. Safe to run from several workers at once."""
    now = now or timezone.now()
    candidates = OutboxMessage.objects.filter(_due(now))
    if ids is not None:
        candidates = candidates.filter(pk__in=list(ids))
    counts = {"sent": 0, "failed": 0, "given_up": 0}
    connection = None
    failures_in_a_row = 0
    for message_id in candidates.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]:
        if failures_in_a_row >= ROUND_MAX_FAILURES:
            break  # the server is down: the rest stays due for the next round
        if not message_claim(message_id, now):
            continue  # another sender has it
        message = OutboxMessage.objects.get(pk=message_id)
        try:
            connection = connection or get_connection()
            EmailMessage(subject=message.subject, body=message.body, to=[message.to],
                         connection=connection).send()
        except Exception as exc:  # any failure of the mail server: count it, retry later
            _failed(message, exc, now, counts)
            connection = None  # a broken connection is not reused
            failures_in_a_row += 1
            cache.set(SERVER_DOWN_KEY, True, SERVER_DOWN_SECONDS)
            continue
        failures_in_a_row = 0
        kept = body_once_sent(kind=message.kind, body=message.body)
        sent = {"body": kept} if kept != message.body else {}
        OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.SENT, sent_at=timezone.now(), attempts=message.attempts + 1, last_error="", **sent)
        counts["sent"] += 1
    if counts["sent"] and not failures_in_a_row:
        cache.delete(SERVER_DOWN_KEY)
    return counts


def body_once_sent(*, kind: str, body: str) -> str:
    """What the outbox keeps of a delivered message: no working link (a set-password or consent link
    takes the whole body with it, a guardian link in an absence e-mail only itself)."""
    if kind in CREDENTIAL_KINDS:
        return SCRUBBED_BODY
    if kind in LINK_KINDS:
        return _LINK.sub(SCRUBBED_LINK, body)
    return body


def _failed(message: OutboxMessage, exc: Exception, now: datetime.datetime, counts: dict[str, int]) -> None:
    attempts = message.attempts + 1
    give_up = attempts >= settings.OUTBOX_MAX_ATTEMPTS
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.FAILED if give_up else Status.PENDING, attempts=attempts,
        last_error=f"{type(exc).__name__}: {exc}"[:2000], next_attempt_at=now + backoff_after(attempts))
    counts["given_up" if give_up else "failed"] += 1
    logger.warning("outbox: message %s to %s failed (attempt %d): %s", message.pk, message.to, attempts, exc)


def outbox_retry(*, message: OutboxMessage) -> None:
    """An office user sends a failed message again (from the outbox page)."""
    OutboxMessage.objects.filter(pk=message.pk, status=Status.FAILED).update(
        status=Status.PENDING, next_attempt_at=timezone.now())
