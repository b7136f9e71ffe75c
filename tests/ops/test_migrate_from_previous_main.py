"""A database made by the previous `main` (49da5a3, before the re-layering) survives the new code's migrations.

The re-layering moved SchoolSettings and OutboxMessage (from `attendance`), AccessLogEntry (from
`accounts`), Term and Closure (from `classes`) into the new app `school` without moving a row: the
tables keep their names, the migrations only change Django's state, drop the outbox's `record_id`
column and relabel the content types. This test proves it on whichever database the suite runs on
(SQLite, or PostgreSQL with DATABASE_URL): the previous main's own code, exported from git, migrates a
fresh database, seeds the demo school with real faces and adds what the demo lacks (a classroom photo
processed into faces, a stored upload, a check-in selfie, a finalised register with guardian e-mails
and a correction's follow-up, a consent withdrawal, an access-log entry, terms, closures, changed
school settings). A snapshot is taken with the old code; the new code migrates the same database and
media folder; then, read by the new code:

- no table is dropped; every table keeps its rows (same count and same content, column by column) and
  its constraints, except `django_migrations` (which gains the new migrations) and the outbox's
  `record_id` column, the only column allowed to go (its link stays recoverable from the message keys);
- the moved models, read through `school.models`, have the same ids and values, validate against the
  new models, and new rows get fresh ids;
- their content types keep their ids (so permissions and admin history follow) under app_label
  `school`, with none left under the old label;
- every file a FileField names is still there with the same SHA-256, and the new code opens it
  (classroom photos, uploads, selfies and enrolment photos decode as images);
- `makemigrations --check` finds nothing to write.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_MAIN = "49da5a3850252899937303e17b906c1c56c52dd0"  # main before the re-layering

# Where each model snapshotted lives in the previous main, and in the new code.
OLD_MODELS = {
    "OutboxMessage": "attendance.models.OutboxMessage",
    "AccessLogEntry": "accounts.models.AccessLogEntry",
    "Term": "classes.models.Term",
    "Closure": "classes.models.Closure",
    "SchoolSettings": "attendance.models.SchoolSettings",
    "ConsentEvent": "accounts.models.ConsentEvent",
    "ErasureReceipt": "accounts.models.ErasureReceipt",
    "FaceEmbedding": "recognition.models.FaceEmbedding",
    "SessionPhoto": "attendance.models.SessionPhoto",
    "DetectedFace": "attendance.models.DetectedFace",
    "CheckinAttempt": "attendance.models.CheckinAttempt",
    "AttendanceCorrection": "attendance.models.AttendanceCorrection",
}
MOVED = {"OutboxMessage": "attendance", "SchoolSettings": "attendance", "AccessLogEntry": "accounts",
         "Term": "classes", "Closure": "classes"}
NEW_MODELS = {**OLD_MODELS, **{name: f"school.models.{name}" for name in MOVED}}
# The one column the re-layering drops on purpose (attendance/0008): the core knows nothing of records.
DROPPED_COLUMN = ("attendance_outboxmessage", "record_id")

# Run by the previous main's `manage.py shell -c` after `seed_demo`: what the demo school lacks.
OLD_EXTRAS = r"""
import datetime, os
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.access_log import access_log_add
from accounts.consent import consent_record
from accounts.models import ConsentEvent, StudentProfile, User
from attendance import processing
from attendance.models import AttendanceRecord, CheckinAttempt, OutboxMessage
from attendance.photos import session_photo_process
from attendance.selectors import school_settings_get
from attendance.services import record_correct, session_create, session_finalize
from classes.models import Closure, Course, Term

faces = Path(os.environ["FACES"])
teacher = User.objects.get(username="teacher")
today = timezone.localdate()

# A classroom photo processed in the request: a SessionPhoto with its stored JPEG and DetectedFace rows.
maths = Course.objects.get(code="MATH-7A")
session = session_create(course=maths, date=today, label="Migration check", by=teacher)
image = (faces / "probes" / "obama_and_biden.jpg").read_bytes()
processed = session_photo_process(session=session, image=image, by=teacher)
assert processed.photo.image and len(processed.faces) >= 2, processed

# Finalising e-mails the guardians of the absent (outbox rows linked to their records), then a
# correction of one absence e-mails a follow-up (linked to the record too).
finalised = session_finalize(session=session, by=teacher, resolve_pending="present")
assert finalised.absent, "nobody absent: no guardian e-mail to carry over"
with transaction.atomic():
    record_correct(record=finalised.absent[0], status=AttendanceRecord.Status.EXCUSED, by=teacher,
                   note="Doctor's letter")
assert OutboxMessage.objects.filter(kind="follow_up", record__isnull=False).exists()
OutboxMessage.objects.create(kind="other", to="office@demo-school.example", subject="Left failed",
                             body="The server refused it.", status="failed", attempts=8,
                             last_error="550 mailbox unavailable", next_attempt_at=timezone.now())
# The newest message deleted (the admin can): its id must never be issued again, on SQLite too, where
# dropping a column rebuilds the table (and its id counter).
OutboxMessage.objects.create(to="gone@example.com", subject="Deleted", body="-", next_attempt_at=timezone.now()
                             ).delete()

# A photo stored for a worker (its upload file kept), in another course's session; no broker here.
processing.photo_enqueue = lambda **kwargs: True
science = Course.objects.get(code="SCI-7A")
waiting = session_create(course=science, date=today, label="Migration check", by=teacher)
stored = processing.session_photo_store(session=waiting,
                                        image=(faces / "groups" / "2008_001009.jpg").read_bytes(), by=teacher)
assert stored.queued and stored.photo.upload, stored

# A refused self check-in keeps its selfie.
pupil = StudentProfile.objects.get(student_number="obama")
CheckinAttempt.objects.create(session=waiting, student=pupil, outcome="refused", error_code="FACE_MISMATCH",
                              reason="The selfie does not match", distance=0.71, device_id="device-1",
                              selfie=ContentFile((faces / "people" / "obama" / "obama.jpg").read_bytes(),
                                                 name="selfie.jpg"))

# A guardian withdraws consent: the student's faces are erased, with a receipt.
alex = StudentProfile.objects.get(student_number="alex_lacamoire")
assert alex.face_embeddings.exists()
withdrawal = consent_record(student=alex, given=False, by=teacher, channel=ConsentEvent.Channel.COMMAND,
                            given_by=ConsentEvent.Party.GUARDIAN, given_by_name="A. Guardian",
                            note="migration check")
assert withdrawal is not None and withdrawal.erasure_receipts.exists()

access_log_add(user=teacher, kind="classroom_photo", how="api", object_type="SessionPhoto",
               object_id=processed.photo.pk, path=f"/api/sessions/{session.pk}/photos/{processed.photo.pk}/image/")
access_log_add(user=None, kind="report_export", how="page", object_type="Course", object_id=maths.pk,
               path="/reports/?format=csv")
Term.objects.create(name="Next term", starts_on=today + datetime.timedelta(days=61),
                    ends_on=today + datetime.timedelta(days=150))
Closure.objects.create(name="Half term", kind=Closure.Kind.HOLIDAY, starts_on=today + datetime.timedelta(days=20),
                       ends_on=today + datetime.timedelta(days=24))

school = school_settings_get()
school.register_cutoff_minutes = 45
school.guardian_daily_summary = True
school.checkin_latitude, school.checkin_longitude, school.checkin_radius_m = 51.5072, -0.1276, 250
school.save()
"""

# Run by the old and the new code's `manage.py shell -c`: every table (columns, rows, a digest of
# their content, constraints), the content types, the snapshotted models' rows and every stored file.
SNAPSHOT = r"""
import hashlib, importlib, json, os
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


def plain(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


class Encoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, (bytes, bytearray, memoryview)):
            return plain(o)
        return super().default(o)


ignored = {tuple(pair) for pair in json.loads(os.environ["SNAPSHOT_IGNORE"])}
same_columns = json.loads(Path(os.environ["SNAPSHOT_COLUMNS"]).read_text()) if os.environ.get(
    "SNAPSHOT_COLUMNS") else {}
quote = connection.ops.quote_name
tables = {}
with connection.cursor() as cursor:
    for table in sorted(connection.introspection.table_names(cursor)):
        columns = sorted(column.name for column in connection.introspection.get_table_description(cursor, table))
        digested = [c for c in same_columns.get(table, columns) if c in columns and (table, c) not in ignored]
        cursor.execute(f"SELECT {', '.join(quote(c) for c in digested)} FROM {quote(table)}")
        rows = sorted(repr(tuple(plain(value) for value in row)) for row in cursor.fetchall())
        constraints = sorted(
            json.dumps({key: info.get(key) for key in ("columns", "primary_key", "unique", "foreign_key", "check",
                                                       "index")}, sort_keys=True)
            for info in connection.introspection.get_constraints(cursor, table).values())
        tables[table] = {"columns": columns, "digested": digested, "rows": len(rows),
                         "digest": hashlib.sha256("\n".join(rows).encode()).hexdigest(), "constraints": constraints}

values = {}
for label, dotted in json.loads(os.environ["SNAPSHOT_MODELS"]).items():
    module, _, name = dotted.rpartition(".")
    model = getattr(importlib.import_module(module), name)
    refused = {}  # what the model's own validation says of each row (str() must work too)
    for obj in model._base_manager.order_by("pk"):
        try:
            str(obj)
            obj.full_clean()
        except ValidationError as exc:
            refused[obj.pk] = exc.message_dict
        except Exception as exc:
            refused[obj.pk] = repr(exc)
    values[label] = {"app_label": model._meta.app_label, "table": model._meta.db_table,
                     "rows": list(model._base_manager.order_by("pk").values()), "refused": refused}

media = Path(settings.MEDIA_ROOT)
files = []
for model in apps.get_models():
    for field in (f for f in model._meta.concrete_fields if isinstance(f, models.FileField)):
        for obj in model._base_manager.exclude(**{field.attname: ""}).exclude(
                **{f"{field.attname}__isnull": True}).order_by("pk"):
            stored = getattr(obj, field.attname)
            path = media / stored.name
            entry = {"table": model._meta.db_table, "column": field.column, "pk": obj.pk, "name": stored.name,
                     "size": path.stat().st_size if path.is_file() else None,
                     "sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None}
            try:
                with stored.open("rb") as handle:  # through the model's field and storage
                    entry["opened_sha256"] = hashlib.sha256(handle.read()).hexdigest()
            except Exception as exc:
                entry["opened_sha256"] = f"cannot open: {exc!r}"
            files.append(entry)

content_types = sorted(ContentType.objects.values_list("pk", "app_label", "model"))
snapshot = {"vendor": connection.vendor, "tables": tables, "values": values,
            "files": sorted(files, key=lambda f: (f["table"], f["column"], f["pk"])),
            "content_types": content_types}
Path(os.environ["SNAPSHOT_OUT"]).write_text(json.dumps(snapshot, cls=Encoder, indent=1, sort_keys=True))
"""

# Run by the new code after its migrate: the moved models behave as models of `school`.
NEW_CHECKS = r"""
import json, os
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from PIL import Image

from attendance.models import CheckinAttempt, SessionPhoto
from recognition.models import FaceEmbedding
from school.models import AccessLogEntry, Closure, OutboxMessage, SchoolSettings, Term
from school.selectors import school_settings_get

report = {"images": [], "embeddings": [], "created": {}}
for model, field in ((SessionPhoto, "image"), (SessionPhoto, "upload"), (CheckinAttempt, "selfie"),
                     (FaceEmbedding, "source_image")):
    for obj in model._base_manager.exclude(**{field: ""}).order_by("pk"):
        try:
            with getattr(obj, field).open("rb") as handle:
                picture = Image.open(handle)
                picture.load()
            report["images"].append([model.__name__, field, obj.pk, list(picture.size)])
        except Exception as exc:
            report["images"].append([model.__name__, field, obj.pk, repr(exc)])

for face in FaceEmbedding.objects.order_by("pk"):
    report["embeddings"].append([face.pk, list(face.embedding.shape)])

current = school_settings_get()
report["settings"] = {"pk": current.pk, "register_cutoff_minutes": current.register_cutoff_minutes,
                      "guardian_daily_summary": current.guardian_daily_summary,
                      "checkin_radius_m": current.checkin_radius_m}

today = timezone.localdate()
with transaction.atomic():  # new rows get fresh ids (sequences intact); rolled back
    report["created"] = {
        "Term": Term.objects.create(name="Probe", starts_on=today, ends_on=today).pk,
        "Closure": Closure.objects.create(name="Probe", starts_on=today, ends_on=today).pk,
        "AccessLogEntry": AccessLogEntry.objects.create(username="probe", kind="report_export", how="api",
                                                        object_type="Probe").pk,
        "OutboxMessage": OutboxMessage.objects.create(to="probe@example.com", subject="Probe", body="Probe",
                                                      next_attempt_at=timezone.now()).pk,
        "SchoolSettings": SchoolSettings.objects.create().pk,
    }
    transaction.set_rollback(True)

Path(os.environ["CHECKS_OUT"]).write_text(json.dumps(report, indent=1))
"""


EARLY_CONTENT_TYPE = """
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

early = ContentType.objects.create(app_label="school", model="term")
Permission.objects.create(content_type=early, codename="view_term", name="Can view term")
"""


def _export_previous_main(target: Path) -> None:
    """The previous main's tree, from this clone's history (a shallow clone may not have it)."""
    found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{PREVIOUS_MAIN}^{{commit}}"],
                           capture_output=True, text=True, check=False)
    if found.returncode != 0:
        message = (f"commit {PREVIOUS_MAIN} (the previous main) is not in the clone at {ROOT}: "
                   f"fetch the full history to test the migration from it ({found.stderr.strip()})")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    archive = target.parent / "previous-main.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), PREVIOUS_MAIN],
                   check=True)
    target.mkdir()
    subprocess.run(["tar", "-x", "-f", str(archive), "-C", str(target)], check=True)
    archive.unlink()


@contextmanager
def _fresh_database(tmp: Path) -> Iterator[str]:
    """A new, empty database of the suite's kind; yields its DATABASE_URL and drops it afterwards."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        yield f"sqlite:///{tmp / 'previous-main.sqlite3'}"
        return
    if not engine.endswith("postgresql"):
        pytest.fail(f"no fresh-database recipe for {engine}")
    import psycopg
    from psycopg import sql

    server = os.environ.get("DATABASE_URL", "")
    if not server:
        pytest.fail("the suite runs on PostgreSQL but DATABASE_URL is not in the environment")
    parts = urlsplit(server)
    name = f"migrate_from_previous_main_{secrets.token_hex(4)}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _environment(database_url: str, tmp: Path) -> dict[str, str]:
    """What both codes run with: only these variables (no PYTHONPATH, broker, cache or Cloudinary)."""
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp)), "LANG": "C.UTF-8",
        "PYTHONWARNINGS": "ignore", "SECRET_KEY": "migration-test-only-not-a-secret", "DEBUG": "false",
        "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp / "media"), "VAR_DIR": str(tmp / "var"),
        "PHOTO_PROCESSING": "inline", "CELERY_BROKER_URL": "", "REDIS_URL": "", "CACHE_URL": "",
        "CLOUDINARY_URL": "", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def _manage(tree: Path, env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=tree, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"manage.py {args[0]} in {tree} exited {result.returncode}:\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def _snapshot(tree: Path, env: dict[str, str], out: Path, models: dict[str, str],
              columns: Path | None = None) -> dict[str, Any]:
    extra = {"SNAPSHOT_OUT": str(out), "SNAPSHOT_MODELS": json.dumps(models),
             "SNAPSHOT_IGNORE": json.dumps([list(DROPPED_COLUMN)])}
    if columns is not None:
        extra["SNAPSHOT_COLUMNS"] = str(columns)
    _manage(tree, {**env, **extra}, "shell", "-c", SNAPSHOT)
    return json.loads(out.read_text())


def _media_tree(media: Path) -> dict[str, str]:
    return {str(path.relative_to(media)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(media.rglob("*")) if path.is_file()}


def _by_id(rows: list[dict[str, Any]], drop: str = "") -> dict[int, dict[str, Any]]:
    return {row["id"]: {key: value for key, value in row.items() if key != drop} for row in rows}


def _assert_old_data_is_not_empty(before: dict[str, Any]) -> None:
    """What the old code wrote covers every case below, or the test would prove nothing."""
    values = {label: entry["rows"] for label, entry in before["values"].items()}
    outbox = values["OutboxMessage"]
    assert [m for m in outbox if m["kind"] == "absence" and m["record_id"]], outbox
    assert [m for m in outbox if m["kind"] == "follow_up" and m["record_id"]], outbox
    assert [m for m in outbox if m["key"] is None], outbox
    assert len(values["Term"]) >= 2 and len(values["Closure"]) >= 2
    assert len(values["AccessLogEntry"]) >= 2
    assert values["SchoolSettings"] and values["SchoolSettings"][0]["register_cutoff_minutes"] == 45
    assert [e for e in values["ConsentEvent"] if e["action"] == "withdraw"]
    assert values["ErasureReceipt"] and values["ErasureReceipt"][0]["embeddings_deleted"] >= 1
    assert values["FaceEmbedding"] and values["DetectedFace"] and values["CheckinAttempt"]
    kinds = Counter((f["table"], f["column"]) for f in before["files"])
    assert set(kinds) >= {("attendance_sessionphoto", "image"), ("attendance_sessionphoto", "upload"),
                          ("attendance_checkinattempt", "selfie"), ("recognition_faceembedding", "source_image")}, kinds
    assert all(f["sha256"] and f["opened_sha256"] == f["sha256"] for f in before["files"]), before["files"]
    assert {ct[1] for ct in before["content_types"] if ct[2] in {m.lower() for m in MOVED}} == set(MOVED.values())


def _assert_tables_survive(before: dict[str, Any], after: dict[str, Any]) -> None:
    old, new = before["tables"], after["tables"]
    assert not set(old) - set(new), f"tables dropped by the migration: {sorted(set(old) - set(new))}"
    lost_columns = {table: sorted(set(old[table]["columns"]) - set(new[table]["columns"])) for table in old}
    lost_columns = {table: columns for table, columns in lost_columns.items() if columns}
    assert lost_columns == {DROPPED_COLUMN[0]: [DROPPED_COLUMN[1]]}, f"columns dropped: {lost_columns}"
    counts = {table: (old[table]["rows"], new[table]["rows"]) for table in old if table != "django_migrations"}
    # Models added since the previous main get content types and permissions after migrating (post_migrate):
    # those two tables may grow, never shrink (the old rows are checked one by one below).
    grows = {"django_content_type", "auth_permission"}
    recounted = {table: count for table, count in counts.items()
                 if count[0] != count[1] and not (table in grows and count[1] > count[0])}
    assert recounted == {}, f"row counts changed (before, after): {recounted}"
    assert new["django_migrations"]["rows"] > old["django_migrations"]["rows"]
    # Same content, column by column (outbox without record_id; the content types are relabelled on purpose).
    grown = {table for table in grows if counts[table][1] > counts[table][0]}
    changed = [table for table in old if table not in ("django_migrations", "django_content_type", *grown)
               and (old[table]["digested"], old[table]["digest"]) != (new[table]["digested"], new[table]["digest"])]
    assert changed == [], f"the content of these tables changed: {changed}"
    # Every constraint and index is still there, but the dropped column's foreign key and index.
    lost_constraints = {}
    for table in old:
        missing = Counter(old[table]["constraints"]) - Counter(new[table]["constraints"])
        if table == DROPPED_COLUMN[0]:
            missing -= Counter(c for c in old[table]["constraints"] if json.loads(c)["columns"] == [DROPPED_COLUMN[1]])
        if missing:
            lost_constraints[table] = sorted(missing)
    assert lost_constraints == {}, f"constraints or indexes lost: {lost_constraints}"


def _assert_values_survive(before: dict[str, Any], after: dict[str, Any]) -> None:
    for label, old in before["values"].items():
        new = after["values"][label]
        assert new["table"] == old["table"], label
        assert new["app_label"] == ("school" if label in MOVED else old["app_label"]), (label, new["app_label"])
        drop = DROPPED_COLUMN[1] if label == "OutboxMessage" else ""
        old_rows = _by_id(old["rows"], drop=drop)
        # Columns added since keep every old value; the new ones are checked by their own tests.
        kept = {key for row in old_rows.values() for key in row}
        new_rows = {row_id: {key: value for key, value in row.items() if key in kept}
                    for row_id, row in _by_id(new["rows"]).items()}
        assert new_rows == old_rows, f"{label} rows differ after the migration"
        # The new models accept every row the old ones accepted (the demo's anonymous access-log entry
        # fails full_clean in both: its user is null but not blank).
        assert new["refused"] == old["refused"], f"{label}: validation of the rows changed"
    # The dropped outbox→record link is still known: an absence's key names its record, a follow-up's
    # key its correction, whose record it is.
    corrections = {row["id"]: row["record_id"] for row in after["values"]["AttendanceCorrection"]["rows"]}
    for message in before["values"]["OutboxMessage"]["rows"]:
        if message["record_id"] is None:
            continue
        kind, _, number = (message["key"] or "").partition(":")
        found = {"absence": int(number) if number.isdigit() else None,
                 "follow-up": corrections.get(int(number)) if number.isdigit() else None}.get(kind)
        assert found == message["record_id"], f"outbox message {message['id']} loses its record: {message}"


def _assert_content_types_follow(before: dict[str, Any], after: dict[str, Any]) -> None:
    moved = {(old_app, name.lower()) for name, old_app in MOVED.items()}
    old = {pk: (app, model) for pk, app, model in before["content_types"]}
    new = {pk: (app, model) for pk, app, model in after["content_types"]}
    expected = {pk: ("school", model) if (app, model) in moved else (app, model) for pk, (app, model) in old.items()}
    # Models added since the previous main get new content types after every old one; old ones keep their pks.
    added = {pk: label for pk, label in new.items() if pk not in old}
    assert all(pk > max(old) for pk in added) and not set(added.values()) & set(expected.values()), added
    new = {pk: label for pk, label in new.items() if pk in old}
    assert new == expected, {pk: (expected.get(pk), new.get(pk)) for pk in set(new) | set(expected)
                             if new.get(pk) != expected.get(pk)}
    assert not moved & set(new.values()), "content types left under the old app labels"


def _assert_files_survive(before: dict[str, Any], after: dict[str, Any], media_before: dict[str, str],
                          media_after: dict[str, str]) -> None:
    def keyed(files: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, Any]]:
        return {(f["table"], f["column"], f["pk"]): f for f in files}

    old, new = keyed(before["files"]), keyed(after["files"])
    differ = {key: (old.get(key), new.get(key)) for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    assert differ == {}, f"stored files differ (before, after): {differ}"
    assert media_after == media_before, "the media folder changed during the migration"
    for entry in after["files"]:
        assert media_after.get(entry["name"]) == entry["sha256"], entry


def _assert_new_code_reads_them(before: dict[str, Any], checks: dict[str, Any]) -> None:
    broken = [image for image in checks["images"] if not isinstance(image[3], list)]
    assert broken == [], "stored images the new code cannot decode"
    photos = {row["id"]: row for row in before["values"]["SessionPhoto"]["rows"]}
    for model, field, pk, size in checks["images"]:
        if (model, field) == ("SessionPhoto", "image"):
            assert size == [photos[pk]["width"], photos[pk]["height"]], (pk, size)
    decoded = {pk for pk, shape in checks["embeddings"] if shape == [128]}
    assert decoded == {row["id"] for row in before["values"]["FaceEmbedding"]["rows"]}, checks["embeddings"]
    school = before["values"]["SchoolSettings"]["rows"][0]
    assert checks["settings"] == {"pk": school["id"], "register_cutoff_minutes": 45, "guardian_daily_summary": True,
                                  "checkin_radius_m": 250}
    for label, pk in checks["created"].items():
        assert pk > max((row["id"] for row in before["values"][label]["rows"]), default=0), (label, pk)
    # The deleted newest message's id (the highest kept + 1) is not issued again.
    assert checks["created"]["OutboxMessage"] > max(row["id"] for row in before["values"]["OutboxMessage"]["rows"]) + 1


def check_migration(new_tree: Path, faces: Path, tmp: Path) -> dict[str, float]:
    """The whole check against the code in `new_tree`; returns how long each step took (seconds)."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    old_tree = tmp / "previous-main"
    _export_previous_main(old_tree)
    with _fresh_database(tmp) as database_url:
        env = _environment(database_url, tmp)
        _manage(old_tree, env, "migrate", "--no-input", "-v", "0")
        _manage(old_tree, env, "seed_demo", "--force", "--weeks", "1", "--faces", str(faces / "people"))
        _manage(old_tree, {**env, "FACES": str(faces)}, "shell", "-c", OLD_EXTRAS)
        timings["old code: migrate, seed, extras"] = time.monotonic() - started

        before = _snapshot(old_tree, env, tmp / "before.json", OLD_MODELS)
        media_before = _media_tree(tmp / "media")
        _assert_old_data_is_not_empty(before)
        columns = tmp / "columns.json"
        columns.write_text(json.dumps({table: entry["digested"] for table, entry in before["tables"].items()}))

        # The new code started once before its migrations ran (a server restarted before `migrate`): its
        # own content type and permission of a moved model exist already; the old ones must win.
        _manage(new_tree, env, "shell", "-c", EARLY_CONTENT_TYPE)
        step = time.monotonic()
        _manage(new_tree, env, "migrate", "--no-input", "-v", "0")
        timings["new code: migrate"] = time.monotonic() - step

        after = _snapshot(new_tree, env, tmp / "after.json", NEW_MODELS, columns=columns)
        media_after = _media_tree(tmp / "media")
        _manage(new_tree, {**env, "CHECKS_OUT": str(tmp / "checks.json")}, "shell", "-c", NEW_CHECKS)
        checks = json.loads((tmp / "checks.json").read_text())
        pending = _manage(new_tree, env, "makemigrations", "--check", "--dry-run", check=False)
        vendor = "sqlite" if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else "postgresql"
        assert before["vendor"] == after["vendor"] == vendor, "not the database the suite runs on"
        _assert_tables_survive(before, after)
        _assert_values_survive(before, after)
        _assert_content_types_follow(before, after)
        _assert_files_survive(before, after, media_before, media_after)
        _assert_new_code_reads_them(before, checks)
        assert pending.returncode == 0, f"makemigrations --check finds changes:\n{pending.stdout}\n{pending.stderr}"
    timings["total"] = time.monotonic() - started
    return timings


@pytest.mark.slow
def test_data_of_the_previous_main_survive_the_migration(faces: Path, tmp_path: Path) -> None:
    """Old code fills a fresh database and media folder; the new code migrates them and finds everything."""
    timings = check_migration(ROOT, faces, tmp_path)
    print(", ".join(f"{step}: {seconds:.1f} s" for step, seconds in timings.items()))
