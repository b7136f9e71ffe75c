"""Forms of the course pages."""

from __future__ import annotations

from django import forms


class EnrolForm(forms.Form):
    students = forms.TypedMultipleChoiceField(coerce=int, label="Students to enrol",
                                              widget=forms.SelectMultiple(attrs={"size": 6}))

    def __init__(self, *args: object, candidates: list = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["students"].choices = [(s.pk, f"{s.full_name} ({s.student_number})") for s in candidates]


class RosterForm(forms.Form):
    file = forms.FileField(label="Roster CSV", help_text=(
        "Columns: student_number, first_name, last_name (required); guardian_email, consent (yes/no) "
        "(optional). Students are enrolled in this course."))
