"""Forms of the attendance pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils import timezone

from attendance.register.services import MANUAL_STATUSES
from school.validators import school_date

STATUS_CHOICES = [(status, status.capitalize()) for status in MANUAL_STATUSES]


if TYPE_CHECKING:
    from accounts.models import StudentProfile


class SessionForm(forms.Form):
    date = forms.DateField(initial=timezone.localdate, validators=[school_date],
                           widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    label = forms.CharField(max_length=50, required=False, help_text="Optional, e.g. 'Period 2'.")
    starts_at = forms.TimeField(required=False, label="Starts at",
                                widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
                                help_text="Optional: students first seen after this plus your grace are late.")


class PhotoForm(forms.Form):
    image = forms.FileField(label="Classroom photo", help_text="JPEG, PNG or WebP.")


class CorrectionForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES)
    note = forms.CharField(max_length=2000, required=False, widget=forms.TextInput)


class AssignForm(forms.Form):
    """Who a face is. Nothing is preselected: the empty choice comes first and is refused."""

    student = forms.TypedChoiceField(coerce=int, label="Who is this?")
    add_embedding = forms.BooleanField(required=False, label="Also enrol this face for the student (needs consent)")

    def __init__(self, *args: Any, students: Sequence[StudentProfile] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["student"]).choices = [
            ("", "Choose a student"), *[(s.pk, s.full_name) for s in students]]


class FinalizeForm(forms.Form):
    resolve_pending = forms.ChoiceField(
        required=False, widget=forms.RadioSelect,
        choices=[("", "Leave them: I will decide each one first"), ("present", "Mark every pending match present"),
                 ("absent", "Mark every pending match absent")], initial="")
    note = forms.CharField(max_length=2000, required=False)
