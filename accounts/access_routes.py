"""The access-log classification of the routes of people: signing in, logins, students' profiles,
consent (see school/access_log.py). None serves biometric data or a report."""

from __future__ import annotations

from school.access_log import NotLogged, RouteClass

_SIGN_IN = NotLogged("signing in, passwords and tokens")
_PEOPLE = NotLogged("logins and students' profiles: names, numbers, addresses; no face, no report")
_CONSENT = NotLogged("the consent history and erasure receipts: who agreed to what, counts of deleted data")

ROUTES: dict[str, RouteClass] = {
    **dict.fromkeys(["login", "logout", "password_change", "password_change_done", "password_reset",
                     "password_reset_done", "password_reset_confirm", "password_reset_complete",
                     "api:token-obtain", "api:token-refresh", "api:token-verify", "api:token-logout",
                     "api:api-password-reset", "api:api-password-reset-confirm", "api:api-password-change"],
                    _SIGN_IN),
    **dict.fromkeys(["api:me", "api:me-settings", "api:user-list", "api:user-detail", "api:student-list",
                     "api:student-detail", "office-teachers", "office-teacher-active", "office-students",
                     "office-student-edit"], _PEOPLE),
    "api:student-consent": _CONSENT,
    "office-access-log": NotLogged("the access log itself (office only)"),
}
