"""Log in (each role lands on its own page), password reset by e-mail and password change.

Django's auth views do the work; this module picks the outbox form, the throttles and the landing page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.urls import path, reverse

from accounts.devices import device_remember
from accounts.passwords import OutboxPasswordResetForm
from school.api.throttling import LoginThrottle
from school.pages import throttled


class SchoolLoginView(auth_views.LoginView):
    """Teachers and admins land on the dashboard, students on their own page (/me/)."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        # This browser is now a trusted device of the login: others' wrong passwords do not lock it.
        device_remember(request=self.request, response=response, username=form.cleaned_data["username"])
        return response

    def get_default_redirect_url(self) -> str:
        if self.request.user.is_authenticated and self.request.user.is_student:
            return reverse("my-page")
        return super().get_default_redirect_url()


# Every POST that checks a password or sends a link shares the login's per-IP budget.
urlpatterns = [
    path("login/", throttled(LoginThrottle)(SchoolLoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", throttled(LoginThrottle)(auth_views.PasswordChangeView.as_view()),
         name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", throttled(LoginThrottle)(auth_views.PasswordResetView.as_view(
        form_class=OutboxPasswordResetForm)), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", throttled(LoginThrottle)(auth_views.PasswordResetConfirmView.as_view()),
         name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
