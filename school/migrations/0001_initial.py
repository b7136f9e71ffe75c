"""The shared `school` app takes over models that lived in accounts, classes and attendance; no row moves."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MOVED = {"accesslogentry": "accounts", "schoolsettings": "attendance", "outboxmessage": "attendance",
         "term": "classes", "closure": "classes"}


def content_types_follow(apps, schema_editor):
    """The moved models keep their content types (and with them the permissions granted to users and
    groups, and the admin's history). Should the new code have run before this migration and made
    `school` content types of its own (with fresh permissions nobody holds), those give way to the old."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model, old_app in MOVED.items():
        old = ContentType.objects.filter(app_label=old_app, model=model).first()
        if old is None:
            continue  # a new database: post_migrate makes the school content types
        made_early = ContentType.objects.filter(app_label="school", model=model).first()
        if made_early is not None:
            Permission.objects.filter(content_type=made_early).delete()
            made_early.delete()
        ContentType.objects.filter(pk=old.pk).update(app_label="school")


def content_types_go_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, old_app in MOVED.items():
        ContentType.objects.filter(app_label="school", model=model).update(app_label=old_app)


class Migration(migrations.Migration):

    initial = True

    # The apps that owned these models let go of them first (an arrow up the layers, in the migration
    # history only: the code of `school` imports none of them).
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("accounts", "0006_access_log_moves_to_school"),
        ("attendance", "0008_school_settings_and_outbox_move_to_school"),
        ("classes", "0005_calendar_moves_to_school"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables exist already (created by the apps these models lived in; db_table keeps their
            # names), so only Django's state learns of the models here.
            state_operations=[
                migrations.CreateModel(
                    name='OutboxMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(blank=True, max_length=120, null=True, unique=True)),
                        ('kind', models.CharField(choices=[('absence', 'Absence'), ('follow_up', 'Correction follow-up'), ('low_attendance', 'Low attendance'), ('registers', 'Registers not taken'), ('daily_summary', 'Guardian daily summary'), ('account', 'Account (password reset, invitation)'), ('guardian_link', 'Guardian consent link'), ('other', 'Other')], db_index=True, default='other', max_length=20)),
                        ('to', models.EmailField(max_length=254)),
                        ('subject', models.CharField(max_length=250)),
                        ('body', models.TextField()),
                        ('status', models.CharField(choices=[('pending', 'Waiting to be sent'), ('sending', 'Being sent'), ('sent', 'Sent'), ('failed', 'Failed (gave up)')], db_index=True, default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('last_error', models.TextField(blank=True)),
                        ('next_attempt_at', models.DateTimeField(db_index=True)),
                        ('claimed_at', models.DateTimeField(blank=True, null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'verbose_name': 'outbox message',
                        'db_table': 'attendance_outboxmessage',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='SchoolSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('register_cutoff_minutes', models.PositiveSmallIntegerField(default=30, help_text="A register not finalised this many minutes after its period ends is 'not taken'.")),
                        ('guardian_daily_summary', models.BooleanField(default=False, help_text='Guardians get one summary e-mail a day instead of one e-mail per absence.')),
                        ('checkin_latitude', models.FloatField(blank=True, null=True)),
                        ('checkin_longitude', models.FloatField(blank=True, null=True)),
                        ('checkin_radius_m', models.PositiveIntegerField(blank=True, help_text='Self check-ins farther than this from the school wait for the teacher.', null=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'verbose_name': 'school settings',
                        'verbose_name_plural': 'school settings',
                        'db_table': 'attendance_schoolsettings',
                    },
                ),
                migrations.CreateModel(
                    name='AccessLogEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('username', models.CharField(help_text='Kept when the login is deleted.', max_length=150)),
                        ('kind', models.CharField(choices=[('face_image', 'Enrolment photo'), ('classroom_photo', 'Classroom photo'), ('face_crop', 'Face crop of a classroom photo'), ('report_export', 'Report export (CSV/PDF)'), ('admin_faces', 'Faces in the Django admin')], db_index=True, max_length=20)),
                        ('how', models.CharField(choices=[('page', 'Page'), ('api', 'API'), ('admin', 'Django admin')], max_length=10)),
                        ('object_type', models.CharField(max_length=40)),
                        ('object_id', models.CharField(blank=True, max_length=40)),
                        ('path', models.CharField(blank=True, max_length=300)),
                        ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'access log entry',
                        'verbose_name_plural': 'access log',
                        'db_table': 'accounts_accesslogentry',
                        'ordering': ['-at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Closure',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('kind', models.CharField(choices=[('holiday', 'Holiday'), ('closure', 'Closure')], default='holiday', max_length=10)),
                        ('starts_on', models.DateField()),
                        ('ends_on', models.DateField()),
                    ],
                    options={
                        'db_table': 'classes_closure',
                        'ordering': ['starts_on'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('ends_on__gte', models.F('starts_on'))), name='closure_ends_after_start')],
                    },
                ),
                migrations.CreateModel(
                    name='Term',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('starts_on', models.DateField()),
                        ('ends_on', models.DateField()),
                    ],
                    options={
                        'db_table': 'classes_term',
                        'ordering': ['starts_on'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('ends_on__gte', models.F('starts_on'))), name='term_ends_after_start')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_go_back),
    ]
