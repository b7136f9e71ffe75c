"""Administrators cannot lock the school out: not by a form-style PUT, not by demoting or deactivating
themselves, never by removing the last active administrator (API and Django admin)."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from tests import factories
from tests.conftest import ClientFor, api_client_for

pytestmark = pytest.mark.django_db


def test_a_put_without_is_active_keeps_the_account_active(admin_api: Any, admin_user: Any) -> None:
    teacher = factories.TeacherFactory(username="kept")
    response = admin_api.put(f"/api/v1/users/{teacher.pk}/", {"username": "kept", "role": "teacher",
                                                               "email": "kept@school.example"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True and User.objects.get(pk=teacher.pk).is_active


def test_is_active_can_still_be_set_explicitly(admin_api: Any) -> None:
    teacher = factories.TeacherFactory(username="leaving")
    loose = admin_api.patch(f"/api/v1/users/{teacher.pk}/", {"is_active": "false"}, format="json")
    assert loose.status_code == 400 and User.objects.get(pk=teacher.pk).is_active  # text is not a boolean
    response = admin_api.patch(f"/api/v1/users/{teacher.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and not User.objects.get(pk=teacher.pk).is_active


def test_a_user_can_be_created_with_the_documented_is_active(admin_api: Any) -> None:
    response = admin_api.post("/api/v1/users/", {"username": "later", "password": "a-strong-pass-93",
                                                 "role": "teacher", "is_active": False}, format="json")
    assert response.status_code == 201, response.content
    assert User.objects.get(username="later").is_active is False


@pytest.mark.parametrize("change", [{"role": "student"}, {"role": "teacher"}, {"is_active": False}])
def test_an_admin_cannot_demote_or_deactivate_themself(admin_api: Any, admin_user: Any, change: dict) -> None:
    factories.AdminFactory(username="second_admin")  # not the last one: still refused for oneself
    response = admin_api.patch(f"/api/v1/users/{admin_user.pk}/", change, format="json")
    assert response.status_code == 409 and response.json()["error_code"] == "CANNOT_DEMOTE_SELF"
    admin_user.refresh_from_db()
    assert admin_user.role == "admin" and admin_user.is_active


def test_the_last_admin_guard_in_the_api(admin_user: Any) -> None:
    second = factories.AdminFactory(username="second")
    api = api_client_for(second)
    assert api.patch(f"/api/v1/users/{admin_user.pk}/", {"is_active": False}, format="json").status_code == 200
    # `second` is now the only active admin: a reactivated first admin may not remove them.
    User.objects.filter(pk=admin_user.pk).update(is_active=True)
    first = api_client_for(User.objects.get(pk=admin_user.pk))
    User.objects.filter(pk=admin_user.pk).update(is_active=False)
    assert first.get("/api/v1/users/").status_code == 401
    # With nobody else active, every way of removing `second` is refused, even by a superuser script.
    from accounts import services
    from school.errors import DomainError

    for attempt in (lambda: services.user_update(user=second, data={"role": "teacher"}, by=None),
                    lambda: services.user_update(user=second, data={"is_active": False}, by=None),
                    lambda: services.user_delete(user=second, by=None)):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.error_code == "LAST_ADMIN"
    second.refresh_from_db()
    assert second.is_active and second.role == "admin"


def test_deleting_a_teacher_with_courses_is_409(admin_api: Any) -> None:
    course = factories.CourseFactory()
    response = admin_api.delete(f"/api/v1/users/{course.teacher.pk}/")
    assert response.status_code == 409, response.content
    assert response.json()["error_code"] == "HAS_COURSES" and response.json()["details"]["courses"] == [course.pk]


def test_the_django_admin_refuses_to_demote_oneself(admin_user: Any, client_for: ClientFor) -> None:
    client = client_for(admin_user)
    page = client.get(f"/admin/accounts/user/{admin_user.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"role": "student", "is_superuser": "", "is_active": "on", "date_joined_0": "2026-01-01",
                 "date_joined_1": "00:00:00", "student_profile-TOTAL_FORMS": "0",
                 "student_profile-INITIAL_FORMS": "0", "teacher_settings-TOTAL_FORMS": "0",
                 "teacher_settings-INITIAL_FORMS": "0"})
    data.pop("groups", None), data.pop("user_permissions", None), data.pop("last_login", None)
    data.pop("date_joined", None)

    response = client.post(f"/admin/accounts/user/{admin_user.pk}/change/", data)

    assert response.status_code == 200  # the form again, with the refusal
    assert "cannot remove your own administrator rights" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == "admin" and admin_user.is_superuser


def test_the_django_admin_cannot_delete_the_last_admin(admin_user: Any, client_for: ClientFor) -> None:
    client = client_for(admin_user)
    assert client.post(f"/admin/accounts/user/{admin_user.pk}/delete/", {"post": "yes"}).status_code == 403
    teacher = factories.TeacherFactory(username="t1")
    response = client.post("/admin/accounts/user/", {"action": "delete_selected", "post": "yes",
                                                     "_selected_action": [admin_user.pk, teacher.pk]})
    assert response.status_code == 403
    assert User.objects.filter(pk__in=[admin_user.pk, teacher.pk]).count() == 2
