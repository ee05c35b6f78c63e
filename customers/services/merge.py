"""名寄せ merge: move every relation to the survivor, keep the merged record, allow undo.

Relations are found through the model registry (every foreign key to Customer, in any
app), so deals, limits and screening records added by later apps move too without this
module importing them. History tables are never rewritten.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log

from .. import merge_hooks
from ..choices import CustomerStatus
from ..exceptions import MergeError
from ..models import Customer, CustomerMerge, DuplicateCandidate
from .records import AUDITED_FIELDS

# Fields the user may take from the merged record, field by field.
MERGEABLE_FIELDS = tuple(f for f in AUDITED_FIELDS if f not in ("status", "parent_id"))
UNIQUE_KEYS = ("corporate_number", "invoice_number")
# Bookkeeping about customers themselves, not relations to move.
_NOT_MOVED = {CustomerMerge, DuplicateCandidate}


def _relations() -> list[tuple[type[models.Model], str]]:
    """Return (model, field name) of every foreign key to Customer that should follow a merge."""
    found = []
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if not relation.one_to_many or model in _NOT_MOVED:
            continue
        if model.__name__.startswith("Historical") or relation.field.name == "merged_into":
            continue
        found.append((model, relation.field.name))
    return found


def _label(model: type[models.Model], field: str) -> str:
    return f"{model._meta.label_lower}.{field}"


def _fields(customer: Customer) -> dict[str, Any]:
    values = {field: getattr(customer, field) for field in (*MERGEABLE_FIELDS, "status")}
    values["established"] = values["established"].isoformat() if values["established"] else None
    return values


def _lock_pair(first: Customer, second: Customer) -> tuple[Customer, Customer]:
    """Lock both rows in pk order (the shared order every service uses)."""
    rows = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[first.pk, second.pk])
        .order_by("pk")
    }
    return rows[first.pk], rows[second.pk]


@transaction.atomic
def customer_merge(
    *,
    survivor: Customer,
    merged: Customer,
    actor: Any,
    take_from_merged: list[str] | tuple[str, ...] = (),
) -> CustomerMerge:
    """Merge ``merged`` into ``survivor``; ``take_from_merged`` names the fields to copy across."""
    if survivor.pk == merged.pk:
        raise MergeError(_("A customer cannot be merged into itself."))
    survivor, merged = _lock_pair(survivor, merged)
    if CustomerStatus.MERGED in (survivor.status, merged.status):
        raise MergeError(_("A customer that was already merged cannot take part in another merge."))
    unknown = set(take_from_merged) - set(MERGEABLE_FIELDS)
    if unknown:
        raise MergeError(
            _("These fields cannot be merged: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )

    before = {"survivor": _fields(survivor), "merged": _fields(merged)}
    merge_hooks.run_before(survivor=survivor, merged=merged, actor=actor)
    moved: dict[str, dict[str, list[int]]] = {}
    for model, field in _relations():
        manager = model._base_manager
        ids = list(manager.filter(**{field: merged}).values_list("pk", flat=True))
        had = list(manager.filter(**{field: survivor}).values_list("pk", flat=True))
        if ids:
            manager.filter(pk__in=ids).update(**{field: survivor})
        moved[_label(model, field)] = {"moved": ids, "survivor_had": had}

    for field in UNIQUE_KEYS:
        if field in take_from_merged:
            setattr(survivor, field, getattr(merged, field))
            setattr(merged, field, None)  # release the unique key before the survivor takes it
    merged.status = CustomerStatus.MERGED
    merged.merged_into = survivor
    merged.save()
    for field in take_from_merged:
        if field not in UNIQUE_KEYS:
            setattr(survivor, field, getattr(merged, field))
    survivor.full_clean()
    survivor.save()
    merge_hooks.run_after(survivor=survivor, merged=merged, actor=actor)

    DuplicateCandidate.objects.filter(
        models.Q(first=merged) | models.Q(second=merged), status=DuplicateCandidate.Status.OPEN
    ).update(status=DuplicateCandidate.Status.MERGED, decided_by=actor, decided_at=timezone.now())
    record = CustomerMerge.objects.create(
        survivor=survivor, merged=merged, before=before, moved=moved, merged_by=actor
    )
    audit_log(
        actor=actor,
        action="customer.merged",
        subject=survivor,
        data={
            "merge_id": record.pk,
            "merged_id": merged.pk,
            "merged_name": merged.name,
            "taken_from_merged": list(take_from_merged),
            "moved": {label: len(v["moved"]) for label, v in moved.items() if v["moved"]},
        },
    )
    return record


def _registry() -> dict[str, tuple[type[models.Model], str]]:
    return {_label(model, field): (model, field) for model, field in _relations()}


@transaction.atomic
def customer_merge_undo(*, merge: CustomerMerge, actor: Any) -> CustomerMerge:
    """Undo a merge exactly, while nothing new has been attached to the survivor since."""
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeError(_("This merge has already been undone."))
    survivor, merged = _lock_pair(merge.survivor, merge.merged)
    registry = _registry()
    for label, ids in merge.moved.items():
        model, field = registry[label]
        current = set(model._base_manager.filter(**{field: survivor}).values_list("pk", flat=True))
        if current != set(ids["moved"]) | set(ids["survivor_had"]):
            raise MergeError(
                _(
                    "Records were attached to or removed from %(name)s after the merge; undo it by hand."
                )
                % {"name": survivor.name}
            )
    for label, ids in merge.moved.items():
        model, field = registry[label]
        if ids["moved"]:
            model._base_manager.filter(pk__in=ids["moved"]).update(**{field: merged})

    # Release the unique keys on both rows first, so restoring them never collides.
    for customer in (survivor, merged):
        for field in UNIQUE_KEYS:
            setattr(customer, field, None)
        customer.save()
    for customer, values in (
        (survivor, merge.before["survivor"]),
        (merged, merge.before["merged"]),
    ):
        for field, value in values.items():
            setattr(customer, field, value)
        customer.merged_into = None
        customer.full_clean()
        customer.save()

    merge_hooks.run_after(survivor=survivor, merged=merged, actor=actor)
    merge.undone_by = actor
    merge.undone_at = timezone.now()
    merge.save()
    audit_log(
        actor=actor,
        action="customer.merge_undone",
        subject=survivor,
        data={"merge_id": merge.pk, "merged_id": merged.pk},
    )
    return merge
