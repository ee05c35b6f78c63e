"""Exposure ledger writes: reserve at approval, consume at execution, release on collection
or cancellation, adjust by hand. Deals and collection call these; credit never calls them.

Each service locks the balances of every party touched (client, its group parents, each
debtor) in pk order, re-checks the limits on the locked rows, then appends ledger entries
and moves the balances in the same transaction — concurrent calls cannot over-commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from accounts.models import ApprovalLevel
from core.audit import AuditRecord, audit_log, audit_log_many
from core.bulk import update_rows
from core.exceptions import PermissionDeniedError
from customers.models import Customer

from ..checks import LimitCheck, ancestor_ids, ancestors_of, evaluate, load_touched, split_for
from ..choices import EntryKind
from ..exceptions import LimitExceeded, NothingToRelease
from ..locks import lock_exposures
from ..models import Exposure, ExposureEntry

K = TypeVar("K")


@dataclass(frozen=True)
class Escalation:
    """An approver of the escalated level signing for a red amount, with conditions."""

    approver: Any
    conditions: str


def check_limit(
    counterparty: Customer,
    amount: int,
    debtor: Customer | None = None,
    *,
    debtor_split: Mapping[Customer, int] | None = None,
) -> LimitCheck:
    """Return how ``amount`` bought from ``counterparty`` sits under every limit it touches."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    split = split_for(amount, debtor, debtor_split)
    return evaluate(load_touched(counterparty.pk, amount, split))


def _require_positive(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": _("Enter a positive whole number of yen.")})


def _approve_escalation(check: LimitCheck, escalation: Escalation | None) -> None:
    if check.allowed:
        return
    if escalation is None or not check.overridable:
        raise LimitExceeded(check)
    if getattr(escalation.approver, "approval_level", 0) < ApprovalLevel.EXECUTIVE:
        raise PermissionDeniedError(
            _("Only an executive approver may sign for an amount over a limit.")
        )
    if not escalation.conditions.strip():
        raise ValidationError({"conditions": _("An escalated approval must state its conditions.")})


def _post(
    *,
    client_id: int,
    ancestors: list[int],
    exposures: dict[int, Exposure],
    moves: list[tuple[int | None, int, int, int]],
    kind: str,
    reference: str,
    actor: Any,
    actor_label: str,
    note: str,
) -> list[ExposureEntry]:
    """Append one entry per (debtor, amount, Δreserved, Δconsumed) and move the balances."""
    entries = [
        ExposureEntry(
            counterparty_id=client_id,
            debtor_id=debtor_id,
            reference=reference,
            kind=kind,
            amount=amount,
            reserved_change=d_reserved,
            consumed_change=d_consumed,
            note=note[:300],
            created_by=actor,
            actor_label=actor_label,
        )
        for debtor_id, amount, d_reserved, d_consumed in moves
        if d_reserved or d_consumed or kind == EntryKind.ADJUST
    ]
    ExposureEntry.objects.bulk_create(entries)
    changed: dict[int, set[str]] = {}
    for debtor_id, _amount, d_reserved, d_consumed in moves:
        for party, field in _bump(exposures, client_id, ancestors, debtor_id, d_reserved,
                                  d_consumed):  # fmt: skip
            changed.setdefault(party, set()).add(field)
    for party, fields in changed.items():
        values = {field: getattr(exposures[party], field) for field in sorted(fields)}
        if any(value < 0 for value in values.values()):
            raise ValidationError(_("Exposure would become negative; nothing was posted."))
        Exposure.objects.filter(pk=party).update(**values)
    return entries


def _bump(exposures: dict[int, Exposure], client_id: int, ancestors: list[int],
          debtor_id: int | None, d_reserved: int, d_consumed: int) -> list[tuple[int, str]]:  # fmt: skip
    """Move the in-memory balances of the client, its group parents and the debtor; return
    the (party, field) pairs moved, so callers write only what changed."""
    roles = [(client_id, "client"), *((party, "group") for party in ancestors)]
    if debtor_id is not None:
        roles.append((debtor_id, "debtor"))
    moved = []
    for party, role in roles:
        for kind, by in (("reserved", d_reserved), ("consumed", d_consumed)):
            if by:
                field = f"{role}_{kind}"
                setattr(exposures[party], field, getattr(exposures[party], field) + by)
                moved.append((party, field))
    return moved


def _split(parts: list[tuple[K, int, int]], amount: int) -> list[tuple[K, int, int]]:
    """Take ``amount`` from ``parts`` (key, reserved, outstanding): every part's reservation
    before any outstanding exposure, not part by part. Return (key, from reserved, from
    outstanding) of each part taken from."""
    left = amount
    from_reserved = []
    for _key, held, _consumed in parts:
        from_reserved.append(min(held, left))
        left -= from_reserved[-1]
    taken = []
    for (key, _held, consumed), reserved in zip(parts, from_reserved, strict=True):
        from_consumed = min(consumed, left)
        left -= from_consumed
        if reserved or from_consumed:
            taken.append((key, reserved, from_consumed))
    return taken


def _lock(client: Customer, debtor_ids: list[int]) -> tuple[list[int], dict[int, Exposure]]:
    ancestors = ancestor_ids(client.pk)
    exposures = lock_exposures([client.pk, *ancestors, *debtor_ids])
    return ancestors, exposures


def _audit(action: str, client: Customer, actor: Any, actor_label: str, **data: Any) -> None:
    audit_log(actor=actor, actor_label=actor_label, action=action, subject=client, data=data)


@transaction.atomic
def reserve(
    *,
    counterparty: Customer,
    amount: int,
    reference: str,
    actor: Any,
    debtor: Customer | None = None,
    debtor_split: Mapping[Customer, int] | None = None,
    escalation: Escalation | None = None,
    note: str = "",
    actor_label: str = "",
) -> LimitCheck:
    """Reserve ``amount`` of headroom for ``reference`` (a deal's approval), or refuse.

    Raises ``LimitExceeded`` when any limit touched would go red, unless an executive signs
    the escalation with conditions and no limit is missing, suspended or lapsed.
    """
    _require_positive(amount)
    split = split_for(amount, debtor, debtor_split)
    ancestors, exposures = _lock(counterparty, list(split))
    check = evaluate(
        load_touched(counterparty.pk, amount, split, exposures=exposures, ancestors=ancestors,
                     lock_limits=True)
    )  # fmt: skip
    _approve_escalation(check, escalation)
    moves = [(d, a, a, 0) for d, a in sorted(split.items())] or [(None, amount, amount, 0)]
    if escalation is not None and not check.allowed:
        note = f"{note} [escalated by {escalation.approver}: {escalation.conditions}]".strip()
    _post(
        client_id=counterparty.pk, ancestors=ancestors, exposures=exposures, moves=moves,
        kind=EntryKind.RESERVE, reference=reference, actor=actor, actor_label=actor_label,
        note=note,
    )  # fmt: skip
    _audit(
        "credit.reserved", counterparty, actor, actor_label, reference=reference, amount=amount,
        debtors={str(k): v for k, v in split.items()}, status=check.status,
        escalated_by=getattr(escalation.approver, "pk", None) if escalation else None,
    )  # fmt: skip
    return check


def _outstanding(client: Customer, reference: str) -> dict[int | None, tuple[int, int]]:
    """Return ``{debtor id: (reserved, outstanding)}`` still open under ``reference``."""
    rows = (
        ExposureEntry.objects.filter(counterparty=client, reference=reference)
        .values("debtor_id")
        .annotate(reserved=Sum("reserved_change"), consumed=Sum("consumed_change"))
        .order_by("debtor_id")
    )
    return {
        row["debtor_id"]: (int(row["reserved"] or 0), int(row["consumed"] or 0))
        for row in rows
        if row["reserved"] or row["consumed"]
    }


@transaction.atomic
def consume(
    *,
    counterparty: Customer,
    amount: int,
    reference: str,
    actor: Any,
    debtor: Customer | None = None,
    debtor_split: Mapping[Customer, int] | None = None,
    escalation: Escalation | None = None,
    release_rest: bool = True,
    note: str = "",
    actor_label: str = "",
) -> LimitCheck:
    """Turn the reservation of ``reference`` into outstanding exposure at execution.

    What exceeds the reservation is checked against the limits like a new reservation; what
    was reserved and not executed is released unless ``release_rest`` is False.
    """
    _require_positive(amount)
    split = split_for(amount, debtor, debtor_split)
    parts: dict[int | None, int] = dict(split) or {None: amount}
    known = _outstanding(counterparty, reference)
    ancestors, exposures = _lock(counterparty, [d for d in {*parts, *known} if d is not None])
    reserved = _outstanding(counterparty, reference)
    moves: list[tuple[int | None, int, int, int]] = []
    excess: dict[int | None, int] = {}
    for debtor_id, part in sorted(parts.items(), key=lambda kv: kv[0] or 0):
        held = reserved.get(debtor_id, (0, 0))[0]
        take = min(held, part)
        moves.append((debtor_id, part, -take, part))
        if part > take:
            excess[debtor_id] = part - take
    check = evaluate(
        load_touched(counterparty.pk, sum(excess.values()),
                     {d: a for d, a in excess.items() if d is not None},
                     exposures=exposures, ancestors=ancestors, lock_limits=True)
    )  # fmt: skip
    if excess:
        _approve_escalation(check, escalation)
    _post(
        client_id=counterparty.pk, ancestors=ancestors, exposures=exposures, moves=moves,
        kind=EntryKind.CONSUME, reference=reference, actor=actor, actor_label=actor_label,
        note=note,
    )  # fmt: skip
    if release_rest:
        rest = []
        for debtor_id, (held, _consumed) in reserved.items():
            used = next((-m[2] for m in moves if m[0] == debtor_id), 0)
            if held - used > 0:
                rest.append((debtor_id, held - used, -(held - used), 0))
        if rest:
            _post(
                client_id=counterparty.pk, ancestors=ancestors, exposures=exposures, moves=rest,
                kind=EntryKind.RELEASE, reference=reference, actor=actor,
                actor_label=actor_label, note=_("Reservation not executed"),
            )  # fmt: skip
    _audit(
        "credit.consumed", counterparty, actor, actor_label, reference=reference, amount=amount,
        beyond_reservation=sum(excess.values()),
    )  # fmt: skip
    return check


@transaction.atomic
def release(
    *,
    counterparty: Customer,
    reference: str,
    actor: Any,
    amount: int | None = None,
    debtor: Customer | None = None,
    note: str = "",
    actor_label: str = "",
) -> int:
    """Release exposure of ``reference``: all of it, or ``amount`` (reserved first, then
    outstanding), e.g. when a deal is lost after approval or a receivable is collected.
    Return the amount released."""
    if amount is not None:
        _require_positive(amount)
    known = _outstanding(counterparty, reference)
    ancestors, exposures = _lock(counterparty, [d for d in known if d is not None])
    open_parts = _outstanding(counterparty, reference)
    if debtor is not None:
        open_parts = {k: v for k, v in open_parts.items() if k == debtor.pk}
    available = sum(r + c for r, c in open_parts.values())
    if not available:
        raise NothingToRelease()
    if amount is not None and amount > available:
        raise ValidationError(
            {"amount": _("Only %(open)s yen is outstanding under %(ref)s.")
             % {"open": f"{available:,}", "ref": reference}}
        )  # fmt: skip
    parts = sorted(open_parts.items(), key=lambda kv: kv[0] or 0)
    moves = [
        (debtor_id, from_reserved + from_consumed, -from_reserved, -from_consumed)
        for debtor_id, from_reserved, from_consumed in _split(
            [(debtor_id, held, consumed) for debtor_id, (held, consumed) in parts],
            available if amount is None else amount,
        )
    ]
    _post(
        client_id=counterparty.pk, ancestors=ancestors, exposures=exposures, moves=moves,
        kind=EntryKind.RELEASE, reference=reference, actor=actor, actor_label=actor_label,
        note=note,
    )  # fmt: skip
    released = sum(m[1] for m in moves)
    _audit("credit.released", counterparty, actor, actor_label, reference=reference,
           amount=released)  # fmt: skip
    return released


@dataclass(frozen=True)
class ReleaseRequest:
    """Release ``amount`` (None: all that is open) of ``reference`` for one debtor."""

    counterparty_id: int
    reference: str
    debtor_id: int | None
    amount: int | None
    note: str = ""  # its own ledger note, else the call's


def _open_by_key(requests: list[ReleaseRequest]) -> dict[tuple[int, str, int | None], list[int]]:
    """Return ``{(client, reference, debtor): [reserved, outstanding]}`` for the requests'
    references, in one grouped query."""
    rows = (
        ExposureEntry.objects.filter(
            counterparty_id__in={r.counterparty_id for r in requests},
            reference__in={r.reference for r in requests},
        )
        .values("counterparty_id", "reference", "debtor_id")
        .annotate(reserved=Sum("reserved_change"), consumed=Sum("consumed_change"))
        .order_by()
    )
    return {
        (row["counterparty_id"], row["reference"], row["debtor_id"]): [
            int(row["reserved"] or 0), int(row["consumed"] or 0)
        ]
        for row in rows
        if row["reserved"] or row["consumed"]
    }  # fmt: skip


@transaction.atomic
def release_many(
    requests: Iterable[ReleaseRequest], *, actor: Any, note: str, actor_label: str = ""
) -> int:
    """Release many references' exposure at once (a reconciliation run's paid receivables).

    Same rule as ``release`` — reserved before outstanding, never below zero, capped at what
    is open (a request for more releases what is left) — but every balance touched is locked
    once, in pk order, the ledger rows are inserted together and each client's balances move
    once; one audit event per client and reference. Return the total released."""
    requests = [r for r in requests if r.amount is None or r.amount > 0]
    if not requests:
        return 0
    open_parts = _open_by_key(requests)
    parents = ancestors_of({r.counterparty_id for r in requests})
    debtors = {key[2] for key in open_parts if key[2] is not None}
    exposures = lock_exposures([*parents, *(p for ps in parents.values() for p in ps), *debtors])
    open_parts = _open_by_key(requests)  # again, under the locks
    by_reference: dict[tuple[int, str], list[tuple[int, str, int | None]]] = {}
    for key in sorted(open_parts, key=lambda key: (key[0], key[1], key[2] or 0)):
        by_reference.setdefault(key[:2], []).append(key)
    entries: list[ExposureEntry] = []
    released: dict[tuple[int, str], int] = {}
    touched: set[int] = set()
    for request in requests:
        keys = [
            key for key in by_reference.get((request.counterparty_id, request.reference), [])
            if request.debtor_id is None or key[2] == request.debtor_id
        ]  # fmt: skip
        left = sum(sum(open_parts[key]) for key in keys)
        if request.amount is not None:
            left = min(left, request.amount)
        for key, from_reserved, from_consumed in _split([(key, *open_parts[key]) for key in keys],
                                                        left):  # fmt: skip
            open_parts[key][0] -= from_reserved
            open_parts[key][1] -= from_consumed
            entries.append(ExposureEntry(
                counterparty_id=key[0], debtor_id=key[2], reference=key[1],
                kind=EntryKind.RELEASE, amount=from_reserved + from_consumed,
                reserved_change=-from_reserved, consumed_change=-from_consumed,
                note=(request.note or note)[:300], created_by=actor, actor_label=actor_label,
            ))  # fmt: skip
            moved = _bump(exposures, key[0], parents[key[0]], key[2], -from_reserved,
                          -from_consumed)  # fmt: skip
            touched.update(party for party, _field in moved)
            released[key[:2]] = released.get(key[:2], 0) + from_reserved + from_consumed
    ExposureEntry.objects.bulk_create(entries, batch_size=1000)
    changed = [row for row in exposures.values() if row.pk in touched]
    if any(getattr(row, f) < 0 for row in changed for f in _BALANCE_FIELDS):
        raise ValidationError(_("Exposure would become negative; nothing was posted."))
    update_rows(Exposure, changed, _BALANCE_FIELDS)
    clients = Customer.objects.in_bulk({key[0] for key in released})
    audit_log_many([
        AuditRecord(actor=actor, actor_label=actor_label, action="credit.released",
                    subject=clients[client], data={"reference": ref, "amount": amount})
        for (client, ref), amount in released.items()
    ])  # fmt: skip
    return sum(released.values())


_BALANCE_FIELDS = [
    "client_reserved", "client_consumed", "group_reserved", "group_consumed",
    "debtor_reserved", "debtor_consumed",
]  # fmt: skip


@transaction.atomic
def adjust(
    *,
    counterparty: Customer,
    amount: int,
    reference: str,
    actor: Any,
    note: str,
    debtor: Customer | None = None,
) -> ExposureEntry:
    """Correct outstanding exposure by a signed ``amount`` with a stated reason."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValidationError({"amount": _("Enter a non-zero whole number of yen.")})
    if not note.strip():
        raise ValidationError({"note": _("Say why the exposure is adjusted.")})
    ancestors, exposures = _lock(counterparty, [debtor.pk] if debtor else [])
    debtor_id = debtor.pk if debtor else None
    (entry,) = _post(
        client_id=counterparty.pk, ancestors=ancestors, exposures=exposures,
        moves=[(debtor_id, amount, 0, amount)], kind=EntryKind.ADJUST, reference=reference,
        actor=actor, actor_label="", note=note,
    )  # fmt: skip
    _audit("credit.adjusted", counterparty, actor, "", reference=reference, amount=amount,
           note=note)  # fmt: skip
    return entry
