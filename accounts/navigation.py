"""The navigation menu: each entry says who sees it, so the menu follows the user's roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    icon: str
    permission: str | None = None
    staff_only: bool = False


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Pipeline"), "deals:kanban", "kanban", permission="deals.view_deal"),
    NavItem(_("Deals"), "deals:list", "list-ul", permission="deals.view_deal"),
    NavItem(_("My next actions"), "deals:tasks", "check2-circle", permission="deals.change_deal"),
    NavItem(
        _("Approval inbox (稟議)"), "deals:approvals", "inboxes", permission="deals.decide_approval"
    ),
    NavItem(_("Customers"), "customers:list", "buildings", permission="customers.view_customer"),
    NavItem(
        _("Approvals"), "customers:changes", "check2-square", permission="customers.approve_change"
    ),
    NavItem(
        _("Duplicate review"),
        "customers:duplicates",
        "intersect",
        permission="customers.merge_customer",
    ),
    NavItem(
        _("Compliance queue"),
        "compliance:home",
        "shield-exclamation",
        permission="compliance.review_screeninghit",
    ),
    NavItem(
        _("Connections"),
        "compliance:connections",
        "plug",
        permission="compliance.view_connectionapproval",
    ),
    NavItem(
        _("Funding calculator"),
        "credit:calculator",
        "calculator",
        permission="credit.view_advanceratepolicy",
    ),
    NavItem(_("Credit"), "credit:list", "speedometer2", permission="credit.view_creditlimit"),
    NavItem(
        _("Limit approvals"), "credit:inbox", "patch-check", permission="credit.approve_creditlimit"
    ),
    NavItem(_("Alerts"), "core:alert_list", "bell", permission="core.view_alert"),
    NavItem(_("Audit log"), "core:audit_list", "journal-check", permission="core.view_auditevent"),
    NavItem(_("Administration"), "admin:index", "gear", staff_only=True),
)


def nav_for(user: Any) -> list[dict[str, Any]]:
    """Return the menu entries ``user`` may open, with their URLs resolved."""
    items = []
    for item in NAV_ITEMS:
        if item.staff_only and not user.is_staff:
            continue
        if item.permission and not user.has_perm(item.permission):
            continue
        items.append({"label": item.label, "url": reverse(item.url_name), "icon": item.icon})
    return items
