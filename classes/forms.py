"""Forms of the course pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django import forms

if TYPE_CHECKING:
    from accounts.models import StudentProfile


class EnrolForm(forms.Form):
    students = forms.TypedMultipleChoiceField(coerce=int, label="Students to enrol",
                                              widget=forms.SelectMultiple(attrs={"size": 6}))

    def __init__(self, *args: Any, candidates: Sequence[StudentProfile] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["students"]).choices = [
            (s.pk, f"{s.full_name} ({s.student_number})") for s in candidates]


class RosterForm(forms.Form):
    file = forms.FileField(label="Roster CSV", help_text=(
        "Columns: student_number, first_name, last_name (required); guardian_email, consent (yes/no) "
        "(optional). Students are enrolled in this course."))
