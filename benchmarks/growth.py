"""Faces that grow with the child: recall on held-out photos before and after teachers' confirmations,
and false presents after deliberately wrong assignments.

    .venv/bin/python benchmarks/growth.py [--faces ../shared/faces] [--confident 0.40] [--uncertain 0.60]

Builds a throw-away SQLite school in a temporary folder with the five people of ../shared/faces/people,
each enrolled with one photo, then:

1. before: every held-out photo goes through the classroom pipeline in a session of its own; for each
   person the photo is listed with (manifest.json's `known`) we count whether they were marked present
   at once, pending (a teacher must confirm), or missed; any other student marked is a false mark;
2. confirmations: the confirmation photos (never held out) go through the pipeline with the teacher's
   confident threshold at its lowest (0.35), so that every match waits for them: the teacher confirms each
   pending match of a person listed on the photo and assigns an unknown face to the one listed person left
   unmarked, as the session page does (`record_correct`, `face_assign`): the faces are learned (or held);
3. wrong assignments: the teacher assigns a stranger's face (the largest face of groups/2008_002506.jpg, nobody of
   the class)
   to Alex, and Obama's face (people/obama/obama2.jpg, a new session) to Biden; both must be held;
4. after: the held-out photos again, plus the stranger's photo (no student may be marked on it);
5. staff discard the held faces; the same wrong assignments with the hold switched off
   (FACE_LEARN_MAX_DISTANCE=2), to show what the hold prevents.

The teacher's thresholds default to a cautious 0.40 / 0.60 (more matches wait for a teacher: what
learning should reduce); --confident 0.50 gives the product's default. Figures of one run compare with
each other; the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))

from timing import throwaway_project  # noqa: E402

ENROLMENT = {"obama": "people/obama/obama.jpg", "biden": "people/biden/biden.jpg",
             "kit_harington": "people/kit_harington/john2.jpeg", "rose_leslie": "people/rose_leslie/img1.jpg",
             "alex_lacamoire": "people/alex_lacamoire/img1.jpg"}
# Photos a teacher reviews (faces are learned from them) and photos only measured: never the same photo.
CONFIRMATION = {"people/obama/obama2.jpg": ["obama"], "groups/two_people.jpg": ["obama", "biden"],
                "people/biden/biden2.jpg": ["biden"],
                "probes/kit_with_rose.jpg": ["kit_harington", "rose_leslie"]}
HELD_OUT = {"probes/obama1.jpg": ["obama"], "probes/obama_and_biden.jpg": ["obama", "biden"],
            "people/obama/obama3.jpg": ["obama"], "edge/obama_partial_face.jpg": ["obama"],
            "edge/obama_partial_face2.jpg": ["obama"], "edge/obama-240p.jpg": ["obama"],
            "probes/johnsnow_test1.jpg": ["kit_harington"],
            "people/kit_harington/john1.jpeg": ["kit_harington"], "people/rose_leslie/img2.jpg": ["rose_leslie"],
            "probes/alex_lacamoire1.jpg": ["alex_lacamoire"]}
STRANGER = "groups/2008_002506.jpg"  # three people, none of the class; faces 87-106 px


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--confident", default="0.40")
    parser.add_argument("--uncertain", default="0.60")
    args = parser.parse_args()
    throwaway_project("sa-bench-growth-")
    from django.test.utils import override_settings

    from accounts.models import Role, StudentProfile, TeacherSettings, User
    from attendance.models import AttendanceRecord, DetectedFace
    from attendance.photos.review import face_assign
    from attendance.photos.services import session_photo_process
    from attendance.register import lateness
    from attendance.register.services import record_correct, session_create
    from classes.models import Course, Enrollment
    from recognition.models import FaceEmbedding
    from recognition.services import face_enrol, face_reject

    status_of = AttendanceRecord.Status
    teacher = User.objects.create_user("growth", password="x", role=Role.TEACHER, email="growth@school.example")
    TeacherSettings.objects.create(user=teacher, confident_threshold=args.confident,
                                   uncertain_threshold=args.uncertain)
    course = Course.objects.create(name="Growth 7A", code="GROW-7A", teacher=teacher)
    students: dict[str, StudentProfile] = {}
    for number, (name, photo) in enumerate(ENROLMENT.items()):
        student = StudentProfile.objects.create(student_number=f"G{number}", first_name=name, last_name="Bench",
                                                consent_given=True)
        Enrollment.objects.create(course=course, student=student)
        face_enrol(student=student, image=(args.faces / photo).read_bytes(), by=teacher)
        students[name] = student
    names = {s.pk: name for name, s in students.items()}
    days = iter(range(1, 1000))

    def run(photo: str):  # a session of its own for each photo
        # Read again: the teacher's thresholds change between the phases.
        day = datetime.date(2026, 1, 1) + datetime.timedelta(next(days))
        session = session_create(course=Course.objects.get(pk=course.pk), date=day, by=teacher)
        session_photo_process(session=session, image=(args.faces / photo).read_bytes(), by=teacher)
        return session

    def measure(label: str, photos: dict[str, list[str]]) -> tuple[int, int, int]:
        present = pending = false = expected = 0
        rows = []
        for photo, known in photos.items():
            session = run(photo)
            marks = {names[r.student_id]: (r.status, r.distance) for r in session.records.all()
                     if r.status != status_of.UNMARKED}
            for person in known:
                expected += 1
                status, distance = marks.get(person, ("missed", None))
                present += status in (status_of.PRESENT, status_of.LATE)
                pending += status == status_of.PENDING
                rows.append(f"    {photo:34} {person:15} {status:8} "
                            f"{'' if distance is None else f'{distance:.3f}'}")
            for person, (status, distance) in marks.items():
                if person not in known:
                    false += 1
                    rows.append(f"    {photo:34} {person:15} FALSE {status} {distance:.3f}")
        print(f"{label}: {present}/{expected} present at once, {pending} pending, "
              f"{expected - present - pending} missed, {false} false mark(s)")
        print("\n".join(rows))
        return present, pending, false

    print(f"5 students, one enrolled photo each; teacher thresholds {args.confident} / {args.uncertain}")
    before = measure("before", HELD_OUT)

    TeacherSettings.objects.filter(user=teacher).update(confident_threshold="0.35")
    vouched = 0
    for photo, known in CONFIRMATION.items():
        session = run(photo)
        for record in session.records.select_related("face"):
            if names[record.student_id] in known and record.status == status_of.PENDING:
                record_correct(record=record, status=lateness.confirmed_status(record), by=teacher,
                               expected_status=status_of.PENDING, note="Pending match confirmed")
                vouched += 1
        unmarked = [name for name in known if session.records.get(student=students[name]).status == status_of.UNMARKED]
        unknown = list(DetectedFace.objects.filter(photo__session=session, match=DetectedFace.Match.UNKNOWN))
        if len(unmarked) == 1 and len(unknown) == 1:
            face_assign(face=unknown[0], student=students[unmarked[0]], by=teacher)
            vouched += 1
    learned = FaceEmbedding.objects.learned()
    print(f"confirmations: {vouched} face(s) vouched for on {len(CONFIRMATION)} photos; "
          f"{learned.filter(approval='approved').count()} learned, {learned.filter(approval='held').count()} held")
    for face in learned.order_by("pk"):
        print(f"    {names[face.student_id]:15} {face.approval:8} {face.learned_how:9} "
              f"distance {face.learned_distance}  {face.learned_context}")

    TeacherSettings.objects.filter(user=teacher).update(confident_threshold=args.confident)

    def wrong_assignments() -> int:
        stranger = max(run(STRANGER).photos.get().faces.all(), key=lambda face: face.box_right - face.box_left)
        face_assign(face=stranger, student=students["alex_lacamoire"], by=teacher)
        obama = run("people/obama/obama2.jpg").photos.get().faces.get()
        face_assign(face=obama, student=students["biden"], by=teacher)
        return learned.filter(student__in=[students["alex_lacamoire"], students["biden"]],
                              learned_face_id__in=[stranger.pk, obama.pk], approval="held").count()

    held = wrong_assignments()
    print(f"wrong assignments: a stranger's face to Alex, Obama's face to Biden: {held} of 2 held")
    after = measure("after", {**HELD_OUT, STRANGER: []})
    for face in learned.filter(approval="held"):
        face_reject(face=face, by=teacher)  # staff discard what was held
    with override_settings(FACE_LEARN_MAX_DISTANCE=2.0):
        wrong_assignments()
        unguarded = measure("without the hold (FACE_LEARN_MAX_DISTANCE=2)", {**HELD_OUT, STRANGER: []})
    print()
    print(f"{'':44} {'before':>7} {'after':>7} {'no hold':>8}")
    total = sum(len(known) for known in HELD_OUT.values())
    print(f"{'present at once (of ' + str(total) + ' faces of held-out photos)':44} "
          f"{before[0]:>7} {after[0]:>7} {unguarded[0]:>8}")
    print(f"{'pending (a teacher must confirm)':44} {before[1]:>7} {after[1]:>7} {unguarded[1]:>8}")
    print(f"{'false marks (incl. the stranger photo)':44} {before[2]:>7} {after[2]:>7} {unguarded[2]:>8}")


if __name__ == "__main__":
    main()
