# A student is on a classroom photo at most once. Duplicates left by the old face_assign (which
# did not release the student's previous face) are resolved first: the face the student's record
# points to keeps the student, else the closest; the others become unknown.

from django.db import migrations, models
from django.db.models import Count


def release_duplicate_faces(apps, schema_editor):
    DetectedFace = apps.get_model("attendance", "DetectedFace")
    AttendanceRecord = apps.get_model("attendance", "AttendanceRecord")
    duplicates = (DetectedFace.objects.exclude(student=None).values("photo", "student")
                  .annotate(n=Count("pk")).filter(n__gt=1))
    for row in duplicates:
        faces = list(DetectedFace.objects.filter(photo=row["photo"], student=row["student"])
                     .select_related("photo"))
        evidence = set(AttendanceRecord.objects.filter(session=faces[0].photo.session_id, student=row["student"])
                       .values_list("face", flat=True))
        keep = next((f for f in faces if f.pk in evidence), None) or min(
            faces, key=lambda f: (f.match != "assigned", f.distance if f.distance is not None else 9.0, f.pk))
        DetectedFace.objects.filter(pk__in=[f.pk for f in faces if f.pk != keep.pk]).update(
            student=None, match="unknown", reason="")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('attendance', '0006_live_mode_and_self_checkin'),
    ]

    operations = [
        migrations.RunPython(release_duplicate_faces, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='detectedface',
            constraint=models.UniqueConstraint(condition=models.Q(('student__isnull', False)), fields=('photo', 'student'), name='one_face_per_student_per_photo'),
        ),
    ]
