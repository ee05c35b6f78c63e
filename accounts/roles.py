"""The roles of DESIGN §1, as Django groups, with the permissions each one holds.

This table is the one place that says what a role may do; the data migration and every
``migrate`` afterwards bring the groups' permissions in line with it. Permissions of
apps not built yet are skipped until their models exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

COMMON = ("core.view_alert", "core.change_alert")

# 顧客: everyone reads the register; who edits, approves double-checked changes, merges.
CUSTOMER_READ = tuple(
    f"customers.view_{model}"
    for model in (
        "customer", "keyperson", "bankaccount", "transfername", "branch", "contactlog",
        "customerdocument", "changerequest", "duplicatecandidate", "customermerge",
    )
)  # fmt: skip
CUSTOMER_EDIT = (
    "customers.add_customer", "customers.change_customer", "customers.add_keyperson",
    "customers.add_changerequest", "customers.add_contactlog", "customers.add_customerdocument",
    "customers.add_transfername", "customers.add_branch",
)  # fmt: skip
CUSTOMER_CHECKER = ("customers.approve_change",)

# Compliance: everyone sees clearance; compliance staff keep KYC, lists, hits and connections.
COMPLIANCE_READ = (
    "compliance.view_kycrecord",
    "compliance.view_screeninghit",
    "compliance.view_screeningrun",
)
COMPLIANCE_STAFF = (
    *COMPLIANCE_READ,
    "compliance.add_kycrecord", "compliance.view_watchlist", "compliance.view_watchlistentry",
    "compliance.add_watchlistentry", "compliance.view_watchlistimport", "compliance.add_screeningrun",
    "compliance.review_screeninghit", "compliance.view_connectionapproval",
    "compliance.add_connectionapproval", "compliance.change_connectionapproval",
    "compliance.view_kycpolicy",
)  # fmt: skip
CUSTOMER_STEWARD = ("customers.merge_customer", "customers.view_personal_data")

# Credit: everyone who works deals sees limits, headroom and the calculator; underwriters
# propose limits and rate parties, approvers decide limits; the monthly sheet is an export.
CREDIT_READ = (
    "credit.view_creditlimit", "credit.view_rating", "credit.view_exposure",
    "credit.view_exposureentry", "credit.view_advanceratepolicy",
)  # fmt: skip
CREDIT_UNDERWRITE = ("credit.add_creditlimit", "credit.add_rating", "credit.export_creditsheet")
CREDIT_APPROVE = ("credit.approve_creditlimit", "credit.export_creditsheet")

# Collection: collections staff import statements, reconcile, dun and settle; everyone who
# follows deals reads what was collected.
COLLECTION_READ = (
    "collection.view_expectedcollection", "collection.view_allocation",
    "collection.view_repurchaserequest", "collection.view_reservesettlement",
    "collection.view_dunninglog",
)  # fmt: skip
COLLECTION_WORK = (
    *COLLECTION_READ, "collection.view_statementimport", "collection.add_statementimport",
    "collection.view_bankentry", "collection.add_allocation", "collection.change_allocation",
    "collection.change_bankentry", "collection.add_dunninglog",
    "collection.change_repurchaserequest", "collection.change_reservesettlement",
    "collection.view_csvmapping",
)  # fmt: skip

# Deals: everyone traces deals by id; sales, underwriters and operations work them through
# the pipeline; underwriters may override the advance rate; approvers decide 稟議.
DEAL_READ = (
    "deals.view_deal", "deals.view_receivable", "deals.view_stagechange",
    "deals.view_approvalrequest", "deals.view_lostreason", "deals.view_savedfilter",
    "deals.add_savedfilter", "deals.delete_savedfilter",
)  # fmt: skip
DEAL_WORK = (
    "deals.add_deal", "deals.change_deal", "deals.add_receivable", "deals.change_receivable",
    "deals.delete_receivable", "deals.transition_deal",
)  # fmt: skip


@dataclass(frozen=True)
class Role:
    code: str
    label: Any
    description: Any
    permissions: tuple[str, ...]


ROLES: tuple[Role, ...] = (
    Role(
        "sales",
        _("Sales"),
        _("Pipeline, deals, customers and tasks"),
        (
            *COMMON,
            *CUSTOMER_READ,
            *CUSTOMER_EDIT,
            *COMPLIANCE_READ,
            *CREDIT_READ,
            *DEAL_READ,
            *DEAL_WORK,
        ),
    ),
    Role(
        "underwriter",
        _("Underwriter"),
        _("Screening results, credit evaluation, funding"),
        (
            *COMMON,
            *CUSTOMER_READ,
            *CUSTOMER_EDIT,
            *CUSTOMER_CHECKER,
            *CUSTOMER_STEWARD,
            *COMPLIANCE_READ,
            *CREDIT_READ,
            *CREDIT_UNDERWRITE,
            *DEAL_READ,
            *DEAL_WORK,
            "deals.override_advance_rate",
            "deals.export_deal",
            *COLLECTION_READ,
        ),
    ),
    Role(
        "approver",
        _("Approver"),
        _("Approval inbox (稟議) and decisions"),
        (
            *COMMON,
            *CUSTOMER_READ,
            *COMPLIANCE_READ,
            *CREDIT_READ,
            *CREDIT_APPROVE,
            *DEAL_READ,
            "deals.decide_approval",
            "deals.export_deal",
        ),
    ),
    Role(
        "operations",
        _("Operations"),
        _("Contracts, registration, notices, execution"),
        (
            *COMMON,
            *CUSTOMER_READ,
            "customers.add_changerequest",
            *CUSTOMER_CHECKER,
            *COMPLIANCE_READ,
            *CREDIT_READ,
            *DEAL_READ,
            "deals.change_deal",
            "deals.change_receivable",
            "deals.transition_deal",
            *COLLECTION_READ,
        ),
    ),
    Role(
        "collections",
        _("Collections"),
        _("Bank statements, reconciliation, overdue and dunning"),
        (
            *COMMON,
            *CUSTOMER_READ,
            "customers.add_transfername",
            "customers.add_contactlog",
            *CREDIT_READ,
            *DEAL_READ,
            *COLLECTION_WORK,
        ),
    ),
    Role(
        "compliance",
        _("Compliance"),
        _("KYC, screening hits, connection approvals, audit log"),
        (
            *COMMON,
            "core.view_all_alerts",
            "core.view_auditevent",
            *CUSTOMER_READ,
            *CUSTOMER_CHECKER,
            *CUSTOMER_STEWARD,
            *COMPLIANCE_STAFF,
            *CREDIT_READ,
            *DEAL_READ,
        ),
    ),
    Role(
        "manager",
        _("Manager"),
        _("KPI dashboard and exports"),
        (
            *COMMON,
            "core.view_all_alerts",
            *CUSTOMER_READ,
            *COMPLIANCE_READ,
            *CREDIT_READ,
            "credit.export_creditsheet",
            *DEAL_READ,
            "deals.export_deal",
            *COLLECTION_READ,
            "accounts.view_kpi_dashboard",
        ),
    ),
    Role(
        "admin",
        _("System administrator"),
        _("Users, roles and policies"),
        (
            *COMMON,
            "core.view_all_alerts",
            "core.view_auditevent",
            *CUSTOMER_READ,
            *COMPLIANCE_READ,
            "compliance.view_kycpolicy",
            "compliance.change_kycpolicy",
            "compliance.view_connectionapproval",
            "compliance.view_watchlist",
            "credit.view_advanceratepolicy",
            "credit.add_advanceratepolicy",
            "credit.change_advanceratepolicy",
            "deals.view_authorityrule",
            "deals.change_authorityrule",
            "deals.view_stallthreshold",
            "deals.change_stallthreshold",
            "deals.view_lostreason",
            "deals.add_lostreason",
            "deals.change_lostreason",
            "collection.view_csvmapping",
            "collection.add_csvmapping",
            "collection.change_csvmapping",
            "accounts.view_user",
            "accounts.add_user",
            "accounts.change_user",
            "auth.view_group",
            "django_celery_beat.view_periodictask",
            "django_celery_beat.change_periodictask",
            "django_celery_beat.view_crontabschedule",
            "django_celery_beat.change_crontabschedule",
        ),
    ),
)

ROLE_BY_CODE: dict[str, Role] = {role.code: role for role in ROLES}
ROLE_CODES: tuple[str, ...] = tuple(role.code for role in ROLES)


def role_codes_of(user: Any) -> list[str]:
    """Return ``user``'s role codes in ROLES order (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_role_codes", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = [code for code in ROLE_CODES if code in names]
        user._role_codes = cached
    return cached


def has_role(user: Any, *codes: str) -> bool:
    """Return True when ``user`` holds any of the roles ``codes``."""
    return any(code in role_codes_of(user) for code in codes)


def sync_role_groups(group_model: Any, permission_model: Any) -> None:
    """Create every role's group and set its permissions to exactly those of ROLES.

    Takes the model classes so the data migration can pass its historical models.
    """
    for role in ROLES:
        group, _created = group_model.objects.get_or_create(name=role.code)
        wanted = []
        for dotted in role.permissions:
            app_label, codename = dotted.split(".", 1)
            wanted.extend(
                permission_model.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)
