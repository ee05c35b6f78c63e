"""Admin for support staff: imported statements and entries, read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import BankEntry, CsvMapping, StatementImport


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "format", "account_number", "period_start", "period_end",
                    "entries_in_file", "entries_added", "imported_at")  # fmt: skip


@admin.register(BankEntry)
class BankEntryAdmin(ReadOnlyAdmin):
    list_display = ("value_date", "payer_name", "amount", "direction", "status")
    list_filter = ("status", "direction")
    search_fields = ("payer_name", "description", "edi_info")


@admin.register(CsvMapping)
class CsvMappingAdmin(admin.ModelAdmin):
    """Each bank account's CSV layout, kept by support staff."""

    list_display = ("name", "bank_code", "branch_code", "account_number", "encoding")
