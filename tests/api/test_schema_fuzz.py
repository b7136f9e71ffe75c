"""The whole OpenAPI schema fuzzed with schemathesis as a teacher, a student, the office (a school
administrator) and the Django superuser, with every check schemathesis has (`--checks all`) but two:
no 5xx, every status, header and content type documented, every response shaped as documented, no
answer without the credentials it needs, no undocumented method answered.

Not yet: `positive_data_acceptance` (a schema-valid request refused by a rule the schema cannot state,
such as a wrong old password, an overlapping term or an unknown id in a filter, is a 400) and
`negative_data_rejection` (DRF coerces some schema-violating values: a number for a text field, an empty
`?date=`, "null" for a boolean in a form).

Bounded: a few examples per operation and role (SCHEMATHESIS_MAX_EXAMPLES, default 8), so that the
four runs take a few minutes. Requests go through the WSGI application in-process, inside the test's
transaction."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import CHECKS, load_all_checks

from accounts.models import User
from smart_attendance.wsgi import application
from tests import factories

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
load_all_checks()
# `--checks all` (max_response_time is a timing, not a check of the contract) but the two above.
NOT_YET = {"positive_data_acceptance", "negative_data_rejection"}
ALL_CHECKS = [check for check in CHECKS.get_all() if getattr(check, "__name__", "") not in NOT_YET]


def _schema() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


schema = schemathesis.openapi.from_dict(_schema())
# Every request, the checks' own re-sends too (ignored_auth sends it again without the token), goes
# through the WSGI application in-process.
schema.app = application


@pytest.fixture
def world(db: None, settings: Any) -> dict[str, Any]:
    """A small school, so that generated ids sometimes name real objects."""
    settings.ALLOWED_HOSTS = ["*"]
    teacher = factories.TeacherFactory(username="fuzz_teacher")
    student_login = factories.StudentUserFactory(username="fuzz_pupil")
    course = factories.CourseFactory(teacher=teacher, code="FUZZ-1")
    student = factories.StudentFactory(user=student_login, created_by=teacher)
    factories.EnrollmentFactory(course=course, student=student)
    for _ in range(2):
        factories.EnrollmentFactory(course=course, student=factories.StudentFactory(created_by=teacher))
    from attendance.register import services

    services.session_create(course=course, date="2026-11-20", by=teacher)
    office = factories.AdminFactory(username="fuzz_office")
    admin = User.objects.create_superuser("fuzz_admin", "fuzz_admin@school.example", factories.PASSWORD)
    return {"teacher": teacher, "student": student_login, "office": office, "admin": admin}


@pytest.fixture
def _in_process_requests() -> Iterator[None]:
    # As Django's test client does: a request's end must not close the test's connection (and
    # with it the transaction holding the data).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["teacher", "student", "office", "admin"])
def token(request: pytest.FixtureRequest, world: dict[str, Any], _in_process_requests: None) -> str:
    return str(RefreshToken.for_user(world[request.param]).access_token)


@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                     phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=ALL_CHECKS)
