from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "last_name",
        "first_name",
        "department",
        "approval_level",
        "is_active",
    )
    list_filter = ("groups", "approval_level", "is_active", "is_demo")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Back office"), {"fields": ("department", "approval_level", "is_demo")}),
    )

    def has_delete_permission(self, request, obj=None):
        # Staff are deactivated, never deleted: the audit trail points at them.
        return False
