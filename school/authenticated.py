"""Request types of views that only logged-in users reach: for the type checker, `request.user` is
then a User (not `User | AnonymousUser`). At run time they are the plain request classes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    # The one name from a layer above in the core, for the type checker only (never imported at run
    # time; import-linter's exclude_type_checking_imports): the logged-in user is accounts' User.
    from accounts.models import User

    class AuthenticatedHttpRequest(HttpRequest):
        user: User

    class AuthenticatedRequest(Request):
        @property
        def user(self) -> User: ...

        @user.setter
        def user(self, value: User) -> None: ...
else:
    AuthenticatedHttpRequest = HttpRequest
    AuthenticatedRequest = Request
