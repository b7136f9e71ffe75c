"""REST endpoints of passwords for the mobile app: reset by e-mail, confirm a reset, change.

Same services (and the same one-time tokens) as the pages; rate-limited per IP like the login."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import passwords
from accounts.passwords import password_rejected
from school.api.openapi import ErrorSerializer  # the one error shape, one component
from school.api.strict import StrictSerializer
from school.api.throttling import LoginThrottle
from school.authenticated import AuthenticatedRequest
from school.errors import DomainError


class PasswordResetRequestSerializer(StrictSerializer):
    email = serializers.EmailField()


class PasswordResetConfirmSerializer(StrictSerializer):
    uid = serializers.CharField(help_text="The `uidb64` part of the link in the e-mail.")
    token = serializers.CharField(help_text="The token part of the link in the e-mail.")
    new_password = serializers.CharField(style={"input_type": "password"})


class PasswordChangeSerializer(StrictSerializer):
    old_password = serializers.CharField(style={"input_type": "password"})
    new_password = serializers.CharField(style={"input_type": "password"})


class DetailSerializer(StrictSerializer):
    detail = serializers.CharField()


_ERRORS = {400: OpenApiResponse(ErrorSerializer, description=(
    "Malformed input (VALIDATION_ERROR), an invalid link (RESET_LINK_INVALID), a wrong old password "
    "(OLD_PASSWORD_WRONG) or a new password the school's rules refuse (PASSWORD_REJECTED, why in details).")),
           429: OpenApiResponse(ErrorSerializer, description="Too many attempts from this address (Retry-After).")}


def _refuse(errors: dict[str, list[str]]) -> None:
    if not errors:
        return
    if "token" in errors:
        raise DomainError(errors["token"][0], error_code="RESET_LINK_INVALID")
    if "old_password" in errors:
        raise DomainError(errors["old_password"][0], error_code="OLD_PASSWORD_WRONG", details=errors)
    raise password_rejected(errors)


class PasswordResetRequestView(APIView):
    """POST {email}: e-mails a one-time link to choose a new password. Always 202, whether or not an
    account has this address (nobody learns which addresses exist)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [LoginThrottle]

    @extend_schema(request=PasswordResetRequestSerializer, responses={202: DetailSerializer, **_ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        passwords.password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": "If an account has this address, a reset link was e-mailed."},
                        status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    """POST {uid, token, new_password}: sets the password; the link then stops working."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [LoginThrottle]

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None, **_ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _refuse(passwords.password_reset_confirm(uidb64=data["uid"], token=data["token"],
                                                 new_password=data["new_password"]))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    """POST {old_password, new_password}: the logged-in user's new password (the old one is required)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [LoginThrottle]

    @extend_schema(request=PasswordChangeSerializer, responses={
        204: None, 401: OpenApiResponse(ErrorSerializer, description="Not logged in."), **_ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _refuse(passwords.password_change(user=request.user, old_password=data["old_password"],
                                          new_password=data["new_password"]))
        return Response(status=status.HTTP_204_NO_CONTENT)
