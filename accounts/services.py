"""Writes about people: users, students' profiles, consent and teacher settings."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q

from accounts.consent import biometrics_erase, consent_record
from accounts.guardian import guardian_contact_change
from accounts.models import ConsentEvent, ErasureReceipt, Role, StudentProfile, TeacherSettings, User
from accounts.passwords import user_invite
from accounts.selectors import teacher_settings_get
from school.errors import DomainError, ErrorKind


def _flags_follow_role(user: User) -> None:
    # The role is the one truth: an administrator uses the Django admin with every permission,
    # nobody else has any admin power (see the user_admin_flags_follow_role constraint).
    user.is_staff = user.is_superuser = user.role == Role.ADMIN


@transaction.atomic
def user_create(*, username: str, password: str | None = None, role: str = Role.TEACHER, email: str = "",
                first_name: str = "", last_name: str = "", invite: bool = False, is_active: bool = True) -> User:
    """Creates a login. With `invite`, no password is set: an e-mail with a one-time set-password link
    goes to `email` (through the outbox, after the commit)."""
    if invite and not email:
        raise ValueError("An invitation needs an e-mail address.")
    user = User(username=username, email=email, role=role, first_name=first_name, last_name=last_name,
                is_active=is_active)
    _flags_follow_role(user)
    if password and not invite:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if invite:
        user_invite(user=user)
    return user


def admin_rights_guard(*, user: User, by: User | None, role: str | None = None, is_active: bool | None = None,
                       is_superuser: bool | None = None, deleting: bool = False) -> None:
    """Refuses a change that would leave the school without an active administrator, or an
    administrator taking away their own rights (CANNOT_DEMOTE_SELF, LAST_ADMIN: 409).

    `role`, `is_active`, `is_superuser` are the values after the change (None: unchanged); the
    user's current state is read from the database. Call inside the transaction that writes: the
    active administrators are locked, so two administrators demoting each other cannot both succeed."""
    current = User.objects.filter(pk=user.pk).values("role", "is_active", "is_superuser").first()
    if current is None or not current["is_active"] or not (current["role"] == Role.ADMIN or current["is_superuser"]):
        return  # not an active administrator now: nothing to keep
    # The role is what the API and the pages show: setting it to anything but admin demotes, even a
    # superuser.
    stays_admin = (role == Role.ADMIN if role is not None
                   else current["role"] == Role.ADMIN or (current["is_superuser"] and is_superuser is not False))
    if not deleting and is_active is not False and stays_admin:
        return
    if by is not None and by.pk == user.pk:
        raise DomainError("You cannot remove your own administrator rights or deactivate your own account; "
                          "ask another administrator.", error_code="CANNOT_DEMOTE_SELF",
                          kind=ErrorKind.CONFLICT)
    admins = list(User.objects.select_for_update().filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
                  .order_by("pk").values_list("pk", flat=True))
    if not [pk for pk in admins if pk != user.pk]:
        raise DomainError("This is the last active administrator: make someone else an administrator first.",
                          error_code="LAST_ADMIN", kind=ErrorKind.CONFLICT)


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any], by: User | None = None) -> User:
    """Changes a login; `is_staff` and `is_superuser` follow the role. A new password revokes every
    JWT issued before it (SIMPLE_JWT CHECK_REVOKE_TOKEN) and ends the user's page sessions. The last
    active administrator cannot be demoted or deactivated, nor can an administrator demote or
    deactivate themself (admin_rights_guard)."""
    admin_rights_guard(user=user, by=by, role=data.get("role"), is_active=data.get("is_active"),
                       is_superuser=data.get("is_superuser"))
    password = data.pop("password", None)
    for field, value in data.items():
        setattr(user, field, value)
    _flags_follow_role(user)
    if password:
        user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_delete(*, user: User, by: User | None) -> None:
    """Deletes a login. Refused for oneself (CANNOT_DELETE_SELF), the last active administrator
    (LAST_ADMIN) and a teacher who still teaches courses (HAS_COURSES: reassign them first); 409."""
    if by is not None and by.pk == user.pk:
        raise DomainError("You cannot delete your own account.", error_code="CANNOT_DELETE_SELF",
                          kind=ErrorKind.CONFLICT)
    admin_rights_guard(user=user, by=by, deleting=True)
    try:
        with transaction.atomic():
            user.delete()
    except ProtectedError:
        courses = sorted(user.courses.values_list("pk", flat=True))
        raise DomainError(f"This user still teaches {len(courses)} course(s): give them to another teacher first.",
                          error_code="HAS_COURSES", kind=ErrorKind.CONFLICT,
                          details={"courses": courses}) from None


@transaction.atomic
def student_create(*, by: User, student_number: str, first_name: str, last_name: str,
                   guardian_email: str = "", consent_given: bool = False, user: User | None = None,
                   year_group: str = "", date_of_birth: datetime.date | None = None,
                   channel: str = ConsentEvent.Channel.API,
                   consent_given_by: str = ConsentEvent.Party.STAFF) -> StudentProfile:
    """Creates a student; consent, when given, is recorded through the consent history."""
    student = StudentProfile(student_number=student_number, first_name=first_name, last_name=last_name,
                             guardian_email=guardian_email, user=user, created_by=by, year_group=year_group,
                             date_of_birth=date_of_birth)
    student.full_clean()
    _save_linked(student)
    if consent_given:
        consent_record(student=student, given=True, by=by, channel=channel, given_by=consent_given_by)
    return student


@transaction.atomic
def student_update(*, student: StudentProfile, by: User, data: dict[str, Any],
                   channel: str = ConsentEvent.Channel.API,
                   consent_given_by: str = ConsentEvent.Party.STAFF) -> StudentProfile:
    """Changes a student; a change of `consent_given` goes through the consent history (a withdrawal
    deletes the student's face data), one of `guardian_email` through guardian_contact_change (the
    office only once an address is set; audited, links revoked, the former address told)."""
    consent = data.pop("consent_given", None)
    guardian_email = data.pop("guardian_email", None)
    if guardian_email is not None:
        # First, from the stored address (a page's ModelForm has already set the new one on `student`).
        guardian_contact_change(student=student, email=guardian_email, by=by, channel=channel)
    for field, value in data.items():
        setattr(student, field, value)
    _save_linked(student)
    if consent is not None:
        consent_record(student=student, given=consent, by=by, channel=channel, given_by=consent_given_by)
    return student


def _save_linked(student: StudentProfile) -> None:
    # A login linked to two profiles: the unique constraint decides, under concurrency too.
    try:
        with transaction.atomic():
            student.save()
    except IntegrityError as exc:
        if "user" not in str(exc).lower():
            raise
        raise DomainError("This login is already linked to another student.", error_code="LOGIN_ALREADY_LINKED",
                          kind=ErrorKind.CONFLICT) from None


def student_consent_set(*, student: StudentProfile, consent_given: bool, by: User,
                        channel: str = ConsentEvent.Channel.PAGE, given_by: str = ConsentEvent.Party.STAFF,
                        given_by_name: str = "", note: str = "") -> ConsentEvent | None:
    """Records consent or withdraws it (withdrawing deletes the student's face data), an explicit
    act: a grant of the current text after a grant of an older one is recorded as a renewal."""
    return consent_record(student=student, given=consent_given, by=by, channel=channel, given_by=given_by,
                          given_by_name=given_by_name, note=note, renew=True)


@transaction.atomic
def student_delete(*, student: StudentProfile, by: User | None = None) -> ErasureReceipt:
    """Deletes a student and, first, their biometric data and its files in storage. The erasure
    receipt and the consent history stay (with the student's number and name)."""
    # The student's row is locked first, as deleting one of their faces locks it: the two wait for each
    # other instead of writing a receipt for a student deleted in between.
    StudentProfile.objects.select_for_update().filter(pk=student.pk).first()
    receipt = biometrics_erase(student=student, rule=ErasureReceipt.Rule.STUDENT_DELETED, by=by)
    student.delete()
    return receipt


@transaction.atomic
def teacher_settings_update(*, user: User, data: dict[str, Any]) -> TeacherSettings:
    teacher_settings = teacher_settings_get(user=user)
    for field, value in data.items():
        setattr(teacher_settings, field, value)
    teacher_settings.full_clean()
    teacher_settings.save()
    return teacher_settings


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User) -> User:
    """Deactivates (no login, data kept) or reactivates a login; nobody deactivates themself."""
    if user.pk == by.pk and not active:
        raise ValueError("You cannot deactivate your own account.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def student_login_invite(*, student: StudentProfile, username: str, email: str) -> User:
    """Opens a student login for `student` and e-mails its set-password link (no password is sent)."""
    if student.user_id is not None:
        raise ValueError("This student already has a login.")
    user = user_create(username=username, email=email, role=Role.STUDENT, first_name=student.first_name,
                       last_name=student.last_name, invite=True)
    student.user = user
    student.save(update_fields=["user", "updated_at"])
    return user
