"""Live evidence keeps its last counted sighting (region and grey signature): a still picture counts once."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0009_live_frame_claim'),
    ]

    operations = [
        migrations.AddField(
            model_name='liveevidence',
            name='motion_region',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='liveevidence',
            name='motion_signature',
            field=models.BinaryField(blank=True, null=True),
        ),
    ]
