"""Live mode: a frame of the run in flight until a time, claimed in the database (one frame per session
in every worker, without Redis)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0008_school_settings_and_outbox_move_to_school'),
    ]

    operations = [
        migrations.AddField(
            model_name='liverun',
            name='frame_busy_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
