"""Forms of the office's course and timetable pages."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.models import Role, User
from classes.models import Course, TimetableSlot


def _teachers() -> Any:
    return User.objects.filter(role__in=[Role.TEACHER, Role.ADMIN], is_active=True).order_by("last_name", "username")


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["name", "code", "description", "teacher"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["teacher"]).queryset = _teachers()
        self.fields["description"].widget = forms.TextInput()


class AssignTeacherForm(forms.Form):
    teacher = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["teacher"]).queryset = _teachers()


class SlotForm(forms.ModelForm):
    class Meta:
        model = TimetableSlot
        fields = ["weekday", "start_time", "end_time", "room", "label"]
        widgets = {"start_time": forms.TimeInput(attrs={"type": "time"}),
                   "end_time": forms.TimeInput(attrs={"type": "time"})}

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The period must end after it starts.")
        return data
