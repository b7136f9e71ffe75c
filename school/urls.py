"""The office's pages of the school itself."""

from __future__ import annotations

from django.urls import path

from school import views as school_pages

urlpatterns = [
    path("office/calendar/", school_pages.calendar_page, name="office-calendar"),
    path("office/calendar/<str:kind>/<int:entry_id>/delete/", school_pages.calendar_delete,
         name="office-calendar-delete"),
    path("office/outbox/", school_pages.outbox_page, name="office-outbox"),
    path("office/outbox/<int:message_id>/retry/", school_pages.outbox_retry, name="office-outbox-retry"),
    path("office/settings/", school_pages.school_settings_page, name="office-settings"),
]
