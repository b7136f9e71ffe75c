"""JWT revocation on password change, for the refresh and verify endpoints too.

simplejwt's CHECK_REVOKE_TOKEN puts a digest of the password hash in each token and its
authentication class refuses an access token whose digest no longer matches. Its refresh and verify
serializers do not look: a stolen refresh token would still mint access tokens (useless, but
"valid") after the password changed. These two refuse it, so a client learns at once that it must
log in again.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer, TokenVerifySerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token, UntypedToken
from rest_framework_simplejwt.utils import get_md5_hash_password

REVOKED_MESSAGE = "The password was changed (or the account removed) since this token was issued; log in again."


def token_revoked(token: Token) -> bool:
    """True when the token's user is gone or their password changed after it was issued."""
    if not api_settings.CHECK_REVOKE_TOKEN:
        return False
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).only("password").first()
    if user is None:
        return True
    return token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)


class RevocationCheckingRefreshSerializer(TokenRefreshSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])
        if token_revoked(refresh):
            with contextlib.suppress(AttributeError, TokenError):
                refresh.blacklist()  # and never again
            raise AuthenticationFailed(REVOKED_MESSAGE, code="password_changed")
        return super().validate(attrs)


class RevocationCheckingVerifySerializer(TokenVerifySerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[Any, Any]:
        result = super().validate(attrs)
        if token_revoked(UntypedToken(attrs["token"])):
            raise InvalidToken(REVOKED_MESSAGE)
        return result
