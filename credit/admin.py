"""Admin for support staff: the advance-rate policy is edited here (drafts only); limits,
ratings and the ledger are read-only — they change through the services' workflows."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.exceptions import DomainError

from .choices import PolicyStatus
from .models import AdvanceRatePolicy, CreditLimit, Exposure, ExposureEntry, Rating
from .services import policy_activate, policy_draft_from


@admin.register(AdvanceRatePolicy)
class AdvanceRatePolicyAdmin(admin.ModelAdmin):
    """Versions are immutable once active; copy one into a draft, edit it, activate it."""

    list_display = ("version", "status", "note", "created_at", "activated_at")
    list_filter = ("status",)
    actions = ("copy_to_draft", "activate")
    readonly_fields = ("version", "status", "created_by", "created_at", "activated_at")
    fieldsets = (
        (None, {"fields": ("version", "status", "note", "created_by", "created_at", "activated_at")}),
        (_("Bands"), {"fields": ("two_party_min", "two_party_max", "three_party_min", "three_party_max")}),
        (_("Base rates"), {"fields": ("two_party_base", "three_party_base")}),
        (_("Registration"), {"fields": ("registered_bonus", "unregistered_two_party_cap")}),
        (_("Debtor rating"), {"fields": ("rating_a", "rating_b", "rating_c", "rating_d", "rating_e")}),
        (_("Client size"), {"fields": ("size_large", "size_medium", "size_small")}),
        (_("Earlier deals"), {"fields": ("repeat_from", "repeat_bonus", "regular_from", "regular_bonus")}),
    )  # fmt: skip

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != PolicyStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Copy into a new draft version"))
    def copy_to_draft(self, request, queryset):
        for policy in queryset:
            draft = policy_draft_from(policy=policy, actor=request.user)
            messages.success(request, _("Draft version %(v)s created.") % {"v": draft.version})

    @admin.action(description=_("Activate the selected draft"))
    def activate(self, request, queryset):
        from django.core.exceptions import ValidationError

        for policy in queryset:
            try:
                policy_activate(policy=policy, actor=request.user)
            except (ValidationError, DomainError) as error:
                messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
            else:
                messages.success(request, _("Version %(v)s is now active.") % {"v": policy.version})


@admin.register(CreditLimit)
class CreditLimitAdmin(ReadOnlyAdmin):
    list_display = ("counterparty", "kind", "amount", "status", "valid_until", "review_date")
    list_filter = ("kind", "status")
    search_fields = ("counterparty__name",)


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("counterparty", "grade", "previous_grade", "rated_at", "rated_by")
    list_filter = ("grade",)
    search_fields = ("counterparty__name",)


@admin.register(ExposureEntry)
class ExposureEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "reference", "kind", "counterparty", "debtor", "amount")
    list_filter = ("kind",)
    search_fields = ("reference", "counterparty__name")


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyAdmin):
    list_display = ("counterparty", "client_reserved", "client_consumed", "debtor_reserved",
                    "debtor_consumed", "worst_delay_days")  # fmt: skip
