"""The admin of the school's shared records: settings, calendar, outbox, access log."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from school.models import AccessLogEntry, Closure, OutboxMessage, SchoolSettings, Term
from school.outbox import outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every e-mail the product sent or will send; failed ones can be sent again."""

    list_display = ["created_at", "kind", "to", "subject", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["to", "subject", "key"]
    date_hierarchy = "created_at"
    readonly_fields = ["key", "kind", "to", "subject", "body", "status", "attempts", "last_error", "next_attempt_at",
                       "claimed_at", "sent_at", "created_at"]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # messages come from decisions only
        return False

    @admin.action(description="Send the selected failed messages again")
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        for message in queryset.filter(status=OutboxMessage.Status.FAILED):
            outbox_retry(message=message)


@admin.register(SchoolSettings)
class SchoolSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "register_cutoff_minutes", "guardian_daily_summary", "updated_at"]


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on"]
    search_fields = ["name"]
    date_hierarchy = "starts_on"


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "starts_on", "ends_on"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "starts_on"


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """The access log is evidence: read-only, even for support."""

    list_display = ["at", "username", "kind", "object_type", "object_id", "how"]
    list_filter = ["kind", "how"]
    search_fields = ["username", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccessLogEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccessLogEntry | None = None) -> bool:
        return False
