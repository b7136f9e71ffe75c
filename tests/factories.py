"""factory_boy factories for the domain models."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import ConsentEvent, Role, StudentProfile, User
from classes.models import Course, Enrollment

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@school.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.TEACHER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()


class TeacherFactory(UserFactory):
    role = Role.TEACHER


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class StudentUserFactory(UserFactory):
    role = Role.STUDENT


class StudentFactory(DjangoModelFactory):
    class Meta:
        model = StudentProfile
        skip_postgeneration_save = True

    student_number = factory.Sequence(lambda n: f"S{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    guardian_email = factory.LazyAttribute(lambda s: f"guardian.{s.student_number.lower()}@family.example")
    consent_given = True

    @factory.post_generation
    def consent_history(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        # The state derives from the history: a consenting student has its grant event.
        if create and obj.consent_given and not obj.consent_events.exists():
            ConsentEvent.objects.create(student=obj, student_number=obj.student_number, student_name=obj.full_name,
                                        action=ConsentEvent.Action.GRANT, given_by=ConsentEvent.Party.GUARDIAN,
                                        channel=ConsentEvent.Channel.PAGE, text="(test)", text_version="test")


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = Course

    name = factory.Sequence(lambda n: f"Subject {n}")
    code = factory.Sequence(lambda n: f"C{n:03d}")
    teacher = factory.SubFactory(TeacherFactory)


class EnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrollment

    course = factory.SubFactory(CourseFactory)
    student = factory.SubFactory(StudentFactory)
