from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers

from accounts.models import ConsentEvent, ErasureReceipt, Role, StudentProfile, TeacherSettings, User
from accounts.passwords import password_rejected
from accounts.selectors import student_list_visible
from school.api.strict import StrictModelSerializer, StrictSerializer
from school.api.validators import BirthDateField, VisibleUniqueValidator
from school.errors import DomainError


class UserSerializer(StrictModelSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices)
    invite = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text="On creation: e-mail a one-time set-password link to `email` instead of setting `password`.")
    is_active = serializers.BooleanField(required=False, help_text="Left out: unchanged (new users are active).")

    class Meta:
        model = User
        fields = ["id", "username", "password", "invite", "email", "first_name", "last_name", "role", "is_active",
                  "date_joined", "last_login"]
        read_only_fields = ["id", "date_joined", "last_login"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Rules the schema cannot state refuse with their own error codes (VALIDATION_ERROR means a
        # request the schema already calls malformed).
        if self.instance is not None:
            attrs.pop("invite", None)  # invitations are for new logins
        elif attrs.get("invite"):
            if attrs.get("password"):
                raise _password_or_invite({"password": ["Leave it out when inviting: the user chooses it."]})
            if not attrs.get("email"):
                raise _password_or_invite({"email": ["An invitation needs an e-mail address."]})
            return attrs
        if self.instance is None and not attrs.get("password"):
            raise _password_or_invite({"password": ["This field is required (or set `invite`)."]})
        if attrs.get("password"):
            candidate = User(username=attrs.get("username", getattr(self.instance, "username", "")),
                             email=attrs.get("email", ""))
            try:
                password_validation.validate_password(attrs["password"], candidate)
            except DjangoValidationError as exc:
                raise password_rejected({"password": list(exc.messages)}) from exc
        return attrs


def _password_or_invite(details: dict[str, list[str]]) -> DomainError:
    return DomainError("A new login needs a password or an invitation to an e-mail address, not both.",
                       error_code="PASSWORD_OR_INVITE", details=details)


class StudentSerializer(StrictModelSerializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.STUDENT), required=False, allow_null=True,
        help_text="Optional login of the student (a user with role student, not linked to another student). "
                  "Administrators only: a linked login reads this student's data.",
    )
    consent_given = serializers.BooleanField(
        required=False, help_text="Writing it records a grant or a withdrawal in the consent history (given by "
                                  "staff, through the API); POST /students/{id}/consent/ says who gave it.")
    consent_recorded_by: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True)
    face_count = serializers.IntegerField(read_only=True, default=0)
    date_of_birth = BirthDateField(required=False, allow_null=True,
                                   help_text="Optional; with the year group it sets how often faces are renewed.")

    class Meta:
        model = StudentProfile
        fields = ["id", "student_number", "first_name", "last_name", "guardian_email", "year_group", "date_of_birth",
                  "user", "consent_given",
                  "consent_given_at", "consent_recorded_by", "face_count", "created_at", "updated_at"]
        read_only_fields = ["id", "consent_given_at", "created_at", "updated_at"]
        extra_kwargs = {"student_number": {"validators": [VisibleUniqueValidator(
            StudentProfile.objects.all(), visible=student_list_visible,
            seen_message="A student you can see already has this number.",
            unseen_message=("This student number is not available. If the student is registered by another "
                            "teacher, ask them or an administrator to enrol the student in your course."))]}}

    def validate_user(self, login: User | None) -> User | None:
        current = getattr(self.instance, "user", None)
        if login == current:
            return login
        request = self.context.get("request")
        if request is None or not request.user.is_school_admin:
            raise exceptions.PermissionDenied("Only an administrator may link or unlink a student's login.")
        if login is not None and StudentProfile.objects.filter(user=login).exclude(
                pk=cast(Any, getattr(self.instance, "pk", None))).exists():
            raise serializers.ValidationError("This login is already linked to another student.")
        return login


class ConsentEventSerializer(StrictModelSerializer):
    class Meta:
        model = ConsentEvent
        fields = ["id", "action", "given_by", "given_by_name", "channel", "recorded_by", "recorded_by_username",
                  "text", "text_version", "note", "link_sent_to", "created_at"]
        read_only_fields = fields


class ErasureReceiptSerializer(StrictModelSerializer):
    class Meta:
        model = ErasureReceipt
        fields = ["id", "rule", "embeddings_deleted", "photos_deleted", "consent_event", "by", "by_username",
                  "student_number", "student_name", "created_at"]
        read_only_fields = fields


class ConsentHistorySerializer(StrictSerializer):
    consent_given = serializers.BooleanField()
    text_version = serializers.CharField(help_text="The version of the consent text in use now.")
    events = ConsentEventSerializer(many=True)
    erasure_receipts = ErasureReceiptSerializer(many=True)


class ConsentChangeSerializer(StrictSerializer):
    consent_given = serializers.BooleanField()
    given_by = serializers.ChoiceField(choices=ConsentEvent.Party.choices, default=ConsentEvent.Party.GUARDIAN,
                                       help_text="Who gave or withdrew consent (the staff member records it).")
    given_by_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class TeacherSettingsSerializer(StrictModelSerializer):
    class Meta:
        model = TeacherSettings
        fields = ["confident_threshold", "uncertain_threshold", "low_attendance_percent", "late_grace_minutes",
                  "notify_guardians_on_absence", "notify_low_attendance"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        confident = attrs.get("confident_threshold", getattr(self.instance, "confident_threshold", None))
        uncertain = attrs.get("uncertain_threshold", getattr(self.instance, "uncertain_threshold", None))
        if confident is not None and uncertain is not None and uncertain < confident:
            raise DomainError("The uncertain threshold must be at least the confident one.",
                              error_code="THRESHOLDS_OUT_OF_ORDER",
                              details={"uncertain_threshold": ["Must be at least the confident threshold."]})
        return attrs


class MeSerializer(StrictModelSerializer):
    student_profile: serializers.PrimaryKeyRelatedField[StudentProfile] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "student_profile"]
        read_only_fields = fields


class LogoutSerializer(StrictSerializer):
    refresh = serializers.CharField()
