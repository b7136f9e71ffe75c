"""Forms of the student and settings pages."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.models import ConsentEvent, TeacherSettings


class ConsentForm(forms.Form):
    consent_given = forms.TypedChoiceField(coerce=lambda v: v == "yes", choices=[("yes", "Give"), ("no", "Withdraw")])
    given_by = forms.ChoiceField(choices=ConsentEvent.Party.choices, initial=ConsentEvent.Party.GUARDIAN,
                                 required=False, label="Given or withdrawn by",
                                 help_text="Left empty, the staff member recording it is the one who gave it.")
    given_by_name = forms.CharField(max_length=200, required=False, label="Their name")
    note = forms.CharField(max_length=500, required=False, label="Note (e.g. where the signed form is filed)")
    confirm = forms.BooleanField(required=False, label="I understand that withdrawing deletes this student's "
                                                      "enrolled faces and their photos.")

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        data["given_by"] = data.get("given_by") or ConsentEvent.Party.STAFF
        if data.get("consent_given") is False and not data.get("confirm"):
            self.add_error("confirm", "Tick the box to confirm: the enrolled faces will be deleted.")
        return data


class FaceForm(forms.Form):
    image = forms.FileField(label="Photo of the student alone",
                            help_text="Face the camera, in good light; JPEG, PNG or WebP.")


class TeacherSettingsForm(forms.ModelForm):
    class Meta:
        model = TeacherSettings
        fields = ["confident_threshold", "uncertain_threshold", "low_attendance_percent", "late_grace_minutes",
                  "notify_guardians_on_absence", "notify_low_attendance"]
        help_texts = {
            "confident_threshold": ("A face closer than this to a student's enrolled face marks them present "
                                    "without asking (0.35-0.65; lower is stricter)."),
            "uncertain_threshold": ("Between the two thresholds the match waits for your decision (pending); "
                                    "farther than this the face is unknown."),
            "low_attendance_percent": "Students under this attendance rate are shown as at risk and you get an alert.",
            "late_grace_minutes": ("A student first seen in a photo taken more than this many minutes after the "
                                   "period starts is marked late."),
            "notify_guardians_on_absence": "E-mail the guardian of each absent student when you finalise a session.",
            "notify_low_attendance": "E-mail me when a student falls under the low-attendance rate.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out (an older page, an API-like post), the grace keeps its current value.
        self.fields["late_grace_minutes"].required = False

    def clean_late_grace_minutes(self) -> int:
        value = self.cleaned_data.get("late_grace_minutes")
        return self.instance.late_grace_minutes if value is None else value

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        confident, uncertain = data.get("confident_threshold"), data.get("uncertain_threshold")
        if confident is not None and uncertain is not None and uncertain < confident:
            self.add_error("uncertain_threshold", "Must be at least the confident threshold.")
        return data
