"""Terms and closures move to the shared `school` app (re-layering); their tables and rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('classes', '0004_course_code_unique_case_insensitive'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is (the model keeps its db_table): only Django's idea of which
            # app owns the model changes.
            state_operations=[
                migrations.DeleteModel(
                    name='Closure',
                ),
                migrations.DeleteModel(
                    name='Term',
                ),
            ],
        ),
    ]
