"""Admin: the KYC policy table is edited here; everything else is read-only for support staff."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.admin import ReadOnlyAdmin

from .models import (
    ConnectionApproval,
    KycPolicy,
    KycRecord,
    ScreeningHit,
    Watchlist,
    WatchlistImport,
)


@admin.register(KycPolicy)
class KycPolicyAdmin(SimpleHistoryAdmin):
    list_display = ("risk", "validity_months")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KycRecord)
class KycRecordAdmin(ReadOnlyAdmin):
    list_display = ("customer", "person", "result", "risk", "verified_on", "expires_on")
    list_filter = ("result", "risk")


@admin.register(Watchlist)
class WatchlistAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "version", "is_active")


@admin.register(WatchlistImport)
class WatchlistImportAdmin(ReadOnlyAdmin):
    list_display = ("watchlist", "version", "file_name", "imported_by", "imported_at")


@admin.register(ScreeningHit)
class ScreeningHitAdmin(ReadOnlyAdmin):
    list_display = ("subject_name", "entry", "score", "status", "reviewed_by")
    list_filter = ("status",)


@admin.register(ConnectionApproval)
class ConnectionApprovalAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "status", "valid_until", "certificate_expires_on")
