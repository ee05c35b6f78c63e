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
    group: str = ""  # items of one group share a dropdown when more than one is visible


GROUPS = {
    "deals": (_("Deals"), "briefcase"),
    "customers": (_("Customers"), "buildings"),
    "credit": (_("Credit"), "speedometer2"),
    "compliance": (_("Compliance"), "shield-check"),
    "collection": (_("Collection"), "cash-coin"),
}


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        _("KPI dashboard"),
        "dashboard:home",
        "graph-up-arrow",
        permission="accounts.view_kpi_dashboard",
    ),
    NavItem(_("Pipeline"), "deals:kanban", "kanban", permission="deals.view_deal", group="deals"),
    NavItem(_("Deals"), "deals:list", "list-ul", permission="deals.view_deal", group="deals"),
    NavItem(
        _("My next actions"),
        "deals:tasks",
        "check2-circle",
        permission="deals.change_deal",
        group="deals",
    ),
    NavItem(
        _("Approval inbox (稟議)"), "deals:approvals", "inboxes", permission="deals.decide_approval"
    ),
    NavItem(
        _("Customers"),
        "customers:list",
        "buildings",
        permission="customers.view_customer",
        group="customers",
    ),
    NavItem(
        _("Approvals"),
        "customers:changes",
        "check2-square",
        permission="customers.approve_change",
        group="customers",
    ),
    NavItem(
        _("Duplicate review"),
        "customers:duplicates",
        "intersect",
        permission="customers.merge_customer",
        group="customers",
    ),
    NavItem(
        _("Compliance queue"),
        "compliance:home",
        "shield-exclamation",
        permission="compliance.review_screeninghit",
        group="compliance",
    ),
    NavItem(
        _("Connections"),
        "compliance:connections",
        "plug",
        permission="compliance.view_connectionapproval",
        group="compliance",
    ),
    NavItem(
        _("Funding calculator"),
        "credit:calculator",
        "calculator",
        permission="credit.view_advanceratepolicy",
        group="credit",
    ),
    NavItem(
        _("Credit"),
        "credit:list",
        "speedometer2",
        permission="credit.view_creditlimit",
        group="credit",
    ),
    NavItem(
        _("Limit approvals"),
        "credit:inbox",
        "patch-check",
        permission="credit.approve_creditlimit",
        group="credit",
    ),
    NavItem(
        _("Bank statements"),
        "collection:statements",
        "bank",
        permission="collection.view_statementimport",
        group="collection",
    ),
    NavItem(
        _("Reconciliation queue"),
        "collection:queue",
        "list-check",
        permission="collection.view_bankentry",
        group="collection",
    ),
    NavItem(
        _("Receivable ledger"),
        "collection:ledger",
        "journal-text",
        permission="collection.view_expectedcollection",
        group="collection",
    ),
    NavItem(
        _("Overdue"),
        "collection:overdue",
        "exclamation-octagon",
        permission="collection.view_expectedcollection",
        group="collection",
    ),
    NavItem(
        _("Repurchases"),
        "collection:repurchases",
        "arrow-counterclockwise",
        permission="collection.view_repurchaserequest",
        group="collection",
    ),
    NavItem(
        _("Reserve settlements"),
        "collection:reserves",
        "piggy-bank",
        permission="collection.view_reservesettlement",
        group="collection",
    ),
    NavItem(_("Alerts"), "core:alert_list", "bell", permission="core.view_alert"),
    NavItem(_("Audit log"), "core:audit_list", "journal-check", permission="core.view_auditevent"),
    NavItem(_("Administration"), "admin:index", "gear", staff_only=True),
)


def nav_for(user: Any) -> list[dict[str, Any]]:
    """Return the menu entries ``user`` may open, with their URLs resolved; a group with more
    than one visible entry becomes one dropdown, so the bar fits whatever the role."""
    entries: list[dict[str, Any]] = []
    grouped: dict[str, dict[str, Any]] = {}
    for item in NAV_ITEMS:
        if item.staff_only and not user.is_staff:
            continue
        if item.permission and not user.has_perm(item.permission):
            continue
        entry = {"label": item.label, "url": reverse(item.url_name), "icon": item.icon}
        if not item.group:
            entries.append(entry)
            continue
        if item.group not in grouped:
            label, icon = GROUPS[item.group]
            grouped[item.group] = {"label": label, "icon": icon, "children": []}
            entries.append(grouped[item.group])
        grouped[item.group]["children"].append(entry)
    return [
        entry["children"][0] if "children" in entry and len(entry["children"]) == 1 else entry
        for entry in entries
    ]
