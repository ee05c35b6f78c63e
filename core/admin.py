"""Read-only admin for support staff: audit events can never be edited, alerts only read."""

from django.contrib import admin

from .models import Alert, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept for the audit trail: viewable by support staff, changed only by services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "occurred_at", "actor_label", "action", "subject_repr")
    list_filter = ("action",)
    search_fields = ("actor_label", "action", "subject_repr")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "severity", "title", "status", "due_date", "assignee")
    list_filter = ("status", "severity", "kind")
    search_fields = ("title", "dedup_key")
    readonly_fields = [f.name for f in Alert._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
