"""Forms of the office's people pages: invite a teacher, create or edit a student, import a roster."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.models import Role, StudentProfile, User


class InviteForm(forms.ModelForm):
    """A new staff login, invited by e-mail (the person chooses their password)."""

    role = forms.ChoiceField(choices=[(Role.TEACHER, "Teacher"), (Role.ADMIN, "Office (administrator)")])

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = "The invitation with the set-password link goes here."


class StudentForm(forms.ModelForm):
    class Meta:
        model = StudentProfile
        fields = ["student_number", "first_name", "last_name", "guardian_email", "year_group", "date_of_birth"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}


class StudentLoginForm(forms.Form):
    """Optional: a login for the student, invited by e-mail."""

    username = forms.CharField(max_length=150, required=False, label="Login username (optional)")
    email = forms.EmailField(required=False, label="Student's e-mail (for the invitation)")

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        username, email = data.get("username"), data.get("email")
        if username and not email:
            self.add_error("email", "The invitation needs the student's e-mail address.")
        if email and not username:
            self.add_error("username", "Choose a login username.")
        if username and User.objects.filter(username__iexact=username).exists():
            self.add_error("username", "This username is taken.")
        return data


class RosterUploadForm(forms.Form):
    file = forms.FileField(label="Roster CSV", help_text=(
        "Columns: student_number, first_name, last_name (required); guardian_email, course_code, consent "
        "(yes/no) (optional). An existing student number is updated."))
