"""The school's settings and the outbox move to the shared `school` app (re-layering); their tables and
rows stay. The outbox's link to an attendance record goes: the core knows nothing of attendance, and the
messages of a record are found by their key (`absence:<record id>`)."""

from django.db import migrations

TABLE = "attendance_outboxmessage"
_sequence: dict[str, int] = {}


def sequence_remember(apps, schema_editor):
    """SQLite rebuilds the table to drop a column, and the rebuilt table's id counter restarts at the
    highest id left: an id of a deleted message could come back. The counter is kept across the rebuild."""
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [TABLE])
            row = cursor.fetchone()
            if row:
                _sequence[TABLE] = row[0]


def sequence_restore(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite" and TABLE in _sequence:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s", [_sequence.pop(TABLE), TABLE])


def record_links_rebuild(apps, schema_editor):
    """Going back: the record of each absence and follow-up message, from its key."""
    OutboxMessage = apps.get_model("attendance", "OutboxMessage")
    AttendanceRecord = apps.get_model("attendance", "AttendanceRecord")
    AttendanceCorrection = apps.get_model("attendance", "AttendanceCorrection")
    for message in OutboxMessage.objects.filter(key__startswith="absence:"):
        record_id = message.key.removeprefix("absence:")
        if record_id.isdigit() and AttendanceRecord.objects.filter(pk=record_id).exists():
            OutboxMessage.objects.filter(pk=message.pk).update(record_id=int(record_id))
    for message in OutboxMessage.objects.filter(key__startswith="follow-up:"):
        correction_id = message.key.removeprefix("follow-up:")
        correction = AttendanceCorrection.objects.filter(pk=correction_id).first() if correction_id.isdigit() else None
        if correction is not None:
            OutboxMessage.objects.filter(pk=message.pk).update(record_id=correction.record_id)


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0007_one_face_per_student_per_photo'),
    ]

    operations = [
        migrations.RunPython(sequence_remember, record_links_rebuild),
        migrations.RemoveField(
            model_name='outboxmessage',
            name='record',
        ),
        migrations.RunPython(sequence_restore, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            # The table stays where it is (the model keeps its db_table): only Django's idea of which
            # app owns the model changes.
            state_operations=[
                migrations.DeleteModel(
                    name='SchoolSettings',
                ),
                migrations.DeleteModel(
                    name='OutboxMessage',
                ),
            ],
        ),
    ]
