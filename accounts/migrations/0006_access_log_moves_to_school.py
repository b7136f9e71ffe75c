"""The access log moves to the shared `school` app (re-layering); its table and rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_biometric_access_log'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is (the model keeps its db_table): only Django's idea of which
            # app owns the model changes.
            state_operations=[
                migrations.DeleteModel(
                    name='AccessLogEntry',
                ),
            ],
        ),
    ]
