"""The whole OpenAPI schema fuzzed with schemathesis as a teacher, a student, the office (a school
administrator) and the Django superuser, with every check schemathesis has (`--checks all`): no 5xx,
every status, header and content type documented, every response shaped as documented, no answer
without the credentials it needs, no undocumented method answered.

They include `negative_data_rejection` (a value of the wrong JSON type is refused, never
coerced: school/api/strict.py, school/api/filters.py) and `positive_data_acceptance`, where a refusal of
a well-formed request by a rule of the school passes only with that rule's own error code.

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
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import User
from smart_attendance.wsgi import application
from tests import factories

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
load_all_checks()
# `--checks all` but max_response_time (a timing, not a check of the contract).
ALL_CHECKS = [check for check in CHECKS.get_all() if getattr(check, "__name__", "") != "max_response_time"]
# Error codes that call a request malformed: a schema-valid request must never get them.
MALFORMED = {"VALIDATION_ERROR", "MALFORMED_REQUEST", "UNSUPPORTED_MEDIA_TYPE"}


def _accepts_valid_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance, with the one case the schema cannot state: a rule of
    the school refusing a well-formed request (a wrong old password, an overlapping term, an invalid
    check-in code, a photo with no face). Such a refusal passes only with its own error code (never
    one of MALFORMED) and a status the operation documents."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        documented = str(response.status_code) in case.operation.definition.raw.get("responses", {})
        code = (response.json() or {}).get("error_code") if response.status_code in (400, 415, 422) else None
        if code and code not in MALFORMED and documented:
            return None
        raise


CHECKS_USED = [_accepts_valid_data if getattr(check, "__name__", "") == "positive_data_acceptance" else check
               for check in ALL_CHECKS]
assert len(CHECKS_USED) == len(ALL_CHECKS) and _accepts_valid_data in CHECKS_USED


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
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS_USED)
