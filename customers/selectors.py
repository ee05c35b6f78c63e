"""Reads of the customer register, with a constant number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from .choices import ChangeStatus
from .filters import CustomerFilter
from .models import (
    BankAccount,
    ChangeRequest,
    ContactLog,
    Customer,
    CustomerDocument,
    CustomerMerge,
    DuplicateCandidate,
    KeyPerson,
)


def customer_list(*, user: Any, filters: dict | None = None) -> QuerySet[Customer]:
    """Return the register filtered by the list's FilterSet (every role may read it)."""
    queryset = Customer.objects.select_related("parent")
    return CustomerFilter(filters or {}, queryset=queryset).qs


def customer_get(*, pk: int) -> Customer:
    """Return one customer with everything its detail page shows, in a fixed number of queries."""
    return (
        Customer.objects.select_related("parent", "merged_into", "created_by")
        .prefetch_related(
            "transfer_names",
            "branches",
            Prefetch("persons", queryset=KeyPerson.objects.order_by("role", "id")),
            Prefetch("bank_accounts", queryset=BankAccount.objects.order_by("-is_active", "id")),
            Prefetch("contacts", queryset=ContactLog.objects.select_related("recorded_by")),
            Prefetch("documents", queryset=CustomerDocument.objects.select_related("uploaded_by")),
            Prefetch(
                "change_requests",
                queryset=ChangeRequest.objects.select_related("maker", "checker").order_by(
                    "-made_at"
                ),
            ),
        )
        .get(pk=pk)
    )


def pending_changes(*, customer: Customer | None = None) -> QuerySet[ChangeRequest]:
    """Return changes waiting for a second person, oldest first."""
    queryset = ChangeRequest.objects.filter(status=ChangeStatus.PENDING).select_related(
        "customer", "maker"
    )
    if customer is not None:
        queryset = queryset.filter(customer=customer)
    return queryset.order_by("made_at")


def open_duplicate_candidates() -> QuerySet[DuplicateCandidate]:
    """Return 名寄せ candidate pairs waiting for review, best score first."""
    return (
        DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.OPEN)
        .exclude(first__status="merged")
        .exclude(second__status="merged")
        .select_related("first", "second")
    )


def last_merge_of(*, customer: Customer) -> CustomerMerge | None:
    """Return the merge that folded ``customer`` into another, if it can still be undone."""
    return (
        CustomerMerge.objects.filter(merged=customer, undone_at__isnull=True)
        .select_related("survivor")
        .first()
    )


@dataclass
class GroupMember:
    customer: Customer
    depth: int
    children: list[GroupMember] = field(default_factory=list)


def group_tree(*, customer: Customer, max_depth: int = 10) -> GroupMember:
    """Return the group (グループ) tree around ``customer``: from its top parent down.

    One query per level; groups are shallow (holding company, subsidiaries, their subsidiaries).
    """
    top = customer
    for _level in range(max_depth):
        if top.parent_id is None:
            break
        top = Customer.objects.only("id", "parent_id").get(pk=top.parent_id)
    root = GroupMember(Customer.objects.get(pk=top.pk), 0)
    level = [root]
    for depth in range(1, max_depth + 1):
        by_id = {member.customer.pk: member for member in level}
        children = (
            Customer.objects.filter(parent_id__in=by_id)
            .exclude(status="merged")
            .order_by("name_kana")
        )
        level = []
        for child in children:
            member = GroupMember(child, depth)
            by_id[child.parent_id].children.append(member)
            level.append(member)
        if not level:
            break
    return root


def flatten(member: GroupMember) -> list[GroupMember]:
    """Return the tree as a list in display order (parent before its children)."""
    rows = [member]
    for child in member.children:
        rows.extend(flatten(child))
    return rows


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    user: Any
    record: str
    action: str
    changes: list[tuple[str, Any, Any]]


_HISTORY_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def history_timeline(*, customer: Customer, limit: int = 200) -> list[TimelineEntry]:
    """Return a readable change timeline of the customer and its records, newest first.

    One query per history table; each row is compared with the previous version of the
    same record in Python, so the page never issues a query per change.
    """
    from simple_history.utils import get_history_model_for_model

    sources = [
        (Customer, {"id": customer.pk}),
        (KeyPerson, {"customer_id": customer.pk}),
        (BankAccount, {"customer_id": customer.pk}),
        (ContactLog, {"customer_id": customer.pk}),
        (CustomerDocument, {"customer_id": customer.pk}),
    ]
    entries: list[TimelineEntry] = []
    for model, lookup in sources:
        history = get_history_model_for_model(model)
        rows = list(
            history.objects.filter(**lookup)
            .select_related("history_user")
            .order_by("id", "history_id")
        )
        fields = [
            f
            for f in model._meta.fields
            if f.name
            not in ("id", "name_key", "kana_key", "phone_key", "address_key", "updated_at")
        ]
        previous: dict[int, Any] = {}
        for row in rows:
            before = previous.get(row.id)
            changes = []
            if before is not None:
                for f in fields:
                    old, new = getattr(before, f.attname), getattr(row, f.attname)
                    if old != new:
                        changes.append((str(f.verbose_name), old, new))
            previous[row.id] = row
            if before is not None and not changes and row.history_type == "~":
                continue
            entries.append(
                TimelineEntry(
                    at=row.history_date,
                    user=row.history_user,
                    record=f"{model._meta.verbose_name}: {row}",
                    action=_HISTORY_ACTIONS.get(row.history_type, row.history_type),
                    changes=changes,
                )
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
