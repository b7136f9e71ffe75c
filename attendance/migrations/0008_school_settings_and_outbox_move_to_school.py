"""The school's settings and the outbox move to the shared `school` app (re-layering); their tables and
rows stay. The outbox's link to an attendance record goes: the core knows nothing of attendance, and the
messages of a record are found by their key (`absence:<record id>`)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0007_one_face_per_student_per_photo'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='outboxmessage',
            name='record',
        ),
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
