from __future__ import annotations

from rest_framework import serializers

from accounts.models import Role, User
from classes.models import Course, TimetableSlot
from classes.selectors import course_list_visible
from school.api.strict import StrictModelSerializer, StrictSerializer
from school.api.validators import VisibleUniqueValidator
from school.ids import MAX_ID
from school.validators import printable


class TimetableSlotSerializer(StrictModelSerializer):
    class Meta:
        model = TimetableSlot
        fields = ["id", "weekday", "start_time", "end_time", "room"]


class CourseSerializer(StrictModelSerializer):
    teacher = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role__in=[Role.TEACHER, Role.ADMIN]), required=False,
        help_text="Admins only; a teacher who creates a course teaches it.",
    )
    student_count = serializers.IntegerField(read_only=True, default=0)
    timetable_slots = TimetableSlotSerializer(many=True, read_only=True)

    class Meta:
        model = Course
        fields = ["id", "name", "code", "description", "teacher", "student_count", "timetable_slots", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"code": {"validators": [printable, VisibleUniqueValidator(
            Course.objects.all(), visible=course_list_visible,
            seen_message="You already have a course with this code.",
            unseen_message="This course code is not available; choose another.",
            # Codes are looked up case-insensitively (the one-shot endpoint, roster files), so "dup-x"
            # and "DUP-X" are the same code (also a database constraint).
            lookup="iexact")]}}


class EnrollmentRequestSerializer(StrictSerializer):
    student_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
                                        allow_empty=False, max_length=1000)


class EnrollmentResultSerializer(StrictSerializer):
    enrolled = serializers.ListField(child=serializers.IntegerField())
    already_enrolled = serializers.ListField(child=serializers.IntegerField())
