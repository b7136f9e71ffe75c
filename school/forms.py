"""Forms of the office pages: the calendar and the school settings."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from school.models import Closure, SchoolSettings
from school.validators import school_date

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class _RangeForm(forms.Form):
    name = forms.CharField(max_length=100)
    starts_on = forms.DateField(label="First day", widget=_DATE, validators=[school_date])
    ends_on = forms.DateField(label="Last day", widget=_DATE, validators=[school_date])

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The last day must not be before the first day.")
        return data


class TermForm(_RangeForm):
    pass


class ClosureForm(_RangeForm):
    kind = forms.ChoiceField(choices=Closure.Kind.choices)


class SchoolSettingsForm(forms.ModelForm):
    class Meta:
        model = SchoolSettings
        fields = ["register_cutoff_minutes", "guardian_daily_summary"]
