"""Read-only admin for support staff: customer records change only through the services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import ChangeRequest, Customer, CustomerMerge


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("name", "name_kana", "corporate_number", "status", "is_client", "is_debtor")
    list_filter = ("status", "is_client", "is_debtor", "prefecture")
    search_fields = ("name", "name_kana", "corporate_number", "name_key")


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("customer", "kind", "status", "maker", "checker", "made_at")


@admin.register(CustomerMerge)
class CustomerMergeAdmin(ReadOnlyAdmin):
    list_display = ("survivor", "merged", "merged_by", "merged_at", "undone_at")
