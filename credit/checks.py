"""Evaluate an amount against every limit it touches: the client's, its group parents', each
debtor's, and any cap on a share of the whole book.

Shared by the read-only ``check_limit`` and by the ledger services, which run it again on
rows they hold locked, so what a user is told and what is enforced are the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApprovalLevel
from customers.models import Customer

from .calculations import share_cap, utilization_status, worst_status
from .choices import LimitKind, LimitStatus
from .models import CreditLimit, Exposure

LIVE_STATUSES = (LimitStatus.ACTIVE, LimitStatus.SUSPENDED)
LEVEL_FOR_STATUS = {
    "green": ApprovalLevel.TEAM_MANAGER,
    "yellow": ApprovalLevel.HEAD_OF_CREDIT,
    "red": ApprovalLevel.EXECUTIVE,
}


@dataclass(frozen=True)
class LimitLine:
    """One limit touched by an amount, before and after it."""

    kind: str
    counterparty_id: int
    counterparty_name: str
    limit_id: int | None
    limit: int | None
    exposure: int
    requested: int
    status: str
    reason: str = ""
    # True when no approver may override it: the limit is missing, suspended or lapsed.
    hard_block: bool = False

    @property
    def after(self) -> int:
        return self.exposure + self.requested

    @property
    def headroom(self) -> int:
        """What is still free under this limit before the amount (0 without a usable limit)."""
        return max((self.limit or 0) - self.exposure, 0) if self.limit is not None else 0

    @property
    def headroom_after(self) -> int:
        return (self.limit or 0) - self.after


@dataclass(frozen=True)
class LimitCheck:
    """The answer to "do we have room": each limit touched, the overall light, the headroom and
    the approver level the amount needs (red escalates to an executive)."""

    amount: int
    lines: tuple[LimitLine, ...]
    status: str
    headroom: int
    required_level: int
    blocked_reasons: tuple[str, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return self.status != "red"

    @property
    def overridable(self) -> bool:
        """Red only because amounts exceed limits, which an escalated approver may sign for."""
        return self.status == "red" and not any(line.hard_block for line in self.lines)

    def as_dict(self) -> dict:
        return {
            "amount": self.amount,
            "status": self.status,
            "allowed": self.allowed,
            "overridable": self.overridable,
            "headroom": self.headroom,
            "required_level": self.required_level,
            "reasons": list(self.blocked_reasons),
            "lines": [
                {
                    "kind": str(line.kind),
                    "counterparty_id": line.counterparty_id,
                    "counterparty_name": line.counterparty_name,
                    "limit_id": line.limit_id,
                    "limit": line.limit,
                    "exposure": line.exposure,
                    "requested": line.requested,
                    "after": line.after,
                    "headroom": line.headroom,
                    "status": line.status,
                    "reason": line.reason,
                }
                for line in self.lines
            ],
        }


def ancestor_ids(customer_id: int) -> list[int]:
    """Return the group parents of a customer, nearest first, in one recursive query."""
    return ancestors_of([customer_id])[customer_id]


def ancestors_of(customer_ids: Iterable[int]) -> dict[int, list[int]]:
    """Return each customer's group parents, nearest first, for many customers in one query."""
    ids = sorted(set(customer_ids))
    found: dict[int, list[int]] = {pk: [] for pk in ids}
    if not ids:
        return found
    table = connection.ops.quote_name(Customer._meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"WITH RECURSIVE chain(origin, id, parent_id, depth) AS ("
        f" SELECT id, id, parent_id, 0 FROM {table} WHERE id IN ({marks})"
        f" UNION ALL SELECT chain.origin, c.id, c.parent_id, chain.depth + 1 FROM {table} c"
        f" JOIN chain ON c.id = chain.parent_id WHERE chain.depth < 20)"
        f" SELECT origin, id FROM chain WHERE depth > 0 ORDER BY origin, depth"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for origin, parent in cursor.fetchall():
            found[origin].append(parent)
    return found


def book_total() -> int:
    """Return the whole book's client exposure (reserved and outstanding)."""
    total = Exposure.objects.aggregate(total=Sum(F("client_reserved") + F("client_consumed")))[
        "total"
    ]
    return int(total or 0)


@dataclass
class Touched:
    """What an evaluation needs: the parties, their balances and their live limits."""

    client_id: int
    amount: int
    ancestors: list[int]
    split: dict[int, int]
    names: dict[int, str]
    exposures: dict[int, Exposure]
    limits: dict[tuple[int, str], CreditLimit]


def load_touched(
    client_id: int, amount: int, split: Mapping[int, int], *, exposures: dict[int, Exposure] | None = None,
    ancestors: list[int] | None = None, lock_limits: bool = False,
) -> Touched:  # fmt: skip
    """Load the parties, balances and live limits an amount touches (constant queries)."""
    ancestors = ancestor_ids(client_id) if ancestors is None else ancestors
    ids = sorted({client_id, *ancestors, *split})
    names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
    if exposures is None:
        exposures = {e.pk: e for e in Exposure.objects.filter(pk__in=ids)}
    limits_qs = CreditLimit.objects.filter(counterparty_id__in=ids, status__in=LIVE_STATUSES)
    if lock_limits:
        limits_qs = limits_qs.select_for_update(of=("self",)).order_by("pk")
    limits = {(limit.counterparty_id, limit.kind): limit for limit in limits_qs}
    return Touched(client_id, amount, ancestors, dict(split), names, exposures, limits)


def _limit_reason(limit: CreditLimit | None, kind: str, today: date) -> str:
    if limit is None:
        return {
            LimitKind.CLIENT: _("No active client limit."),
            LimitKind.DEBTOR: _("No active debtor limit."),
        }.get(kind, "")
    if limit.status == LimitStatus.SUSPENDED:
        return _("The limit is suspended: %(reason)s") % {"reason": limit.suspension_reason}
    if limit.valid_from > today:
        return _("The limit is valid only from %(date)s.") % {"date": limit.valid_from}
    if limit.valid_until < today:
        return _("The limit expired on %(date)s.") % {"date": limit.valid_until}
    return ""


def _line(kind, party_id, touched, limit, exposure, requested, today) -> LimitLine:
    reason = _limit_reason(limit, kind, today)
    hard = bool(reason)
    if limit is None:
        status = "red" if reason else "green"
        amount = None
    else:
        amount = limit.amount
        status = "red" if reason else utilization_status(amount, exposure + requested)
        if status == "red" and not reason:
            reason = _("%(name)s: %(after)s yen exceeds the limit of %(limit)s yen.") % {
                "name": touched.names.get(party_id, ""),
                "after": f"{exposure + requested:,}",
                "limit": f"{amount:,}",
            }
    return LimitLine(
        kind=kind,
        counterparty_id=party_id,
        counterparty_name=touched.names.get(party_id, ""),
        limit_id=limit.pk if limit else None,
        limit=amount,
        exposure=exposure,
        requested=requested,
        status=status,
        reason=reason,
        hard_block=hard,
    )


def evaluate(
    touched: Touched, *, today: date | None = None, total: int | None = None
) -> LimitCheck:
    """Return the limit check of ``touched.split`` bought from ``touched.client_id``."""
    today = today or timezone.localdate()
    amount = touched.amount
    empty = Exposure()
    lines: list[LimitLine] = []
    client = touched.exposures.get(touched.client_id, empty)
    client_limit = touched.limits.get((touched.client_id, LimitKind.CLIENT))
    lines.append(
        _line(LimitKind.CLIENT, touched.client_id, touched, client_limit, client.client_total,
              amount, today)
    )  # fmt: skip
    for party_id in (touched.client_id, *touched.ancestors):
        group_limit = touched.limits.get((party_id, LimitKind.GROUP))
        if group_limit is not None:
            group = touched.exposures.get(party_id, empty)
            lines.append(
                _line(LimitKind.GROUP, party_id, touched, group_limit, group.group_total,
                      amount, today)
            )  # fmt: skip
    for debtor_id, part in sorted(touched.split.items()):
        debtor_limit = touched.limits.get((debtor_id, LimitKind.DEBTOR))
        exposure = touched.exposures.get(debtor_id, empty).debtor_total
        lines.append(
            _line(LimitKind.DEBTOR, debtor_id, touched, debtor_limit, exposure, part, today)
        )
    # Only the roles the amount touches: a debtor's own client limit says nothing about
    # buying its invoices from someone else.
    touched_limits = [
        touched.limits.get((touched.client_id, LimitKind.CLIENT)),
        *(
            touched.limits.get((p, LimitKind.GROUP))
            for p in (touched.client_id, *touched.ancestors)
        ),
        *(touched.limits.get((d, LimitKind.DEBTOR)) for d in sorted(touched.split)),
    ]
    capped = [limit for limit in touched_limits if limit is not None and limit.max_share]
    if capped:
        whole = book_total() if total is None else total
        for limit in capped:
            own = touched.exposures.get(limit.counterparty_id, empty)
            if limit.kind == LimitKind.DEBTOR:
                exposure, requested = own.debtor_total, touched.split[limit.counterparty_id]
            elif limit.kind == LimitKind.GROUP:
                exposure, requested = own.group_total, amount
            else:
                exposure, requested = own.client_total, amount
            # The rest of the book is everything but this party's own share of it.
            cap = share_cap(max(whole - exposure, 0), limit.max_share)
            status = utilization_status(cap, exposure + requested)
            reason = ""
            if status == "red":
                reason = _(
                    "%(name)s would hold more than %(share)s%% of the book (at most %(cap)s yen)."
                ) % {
                    "name": touched.names.get(limit.counterparty_id, ""),
                    "share": f"{limit.max_share * 100:.2f}",
                    "cap": f"{cap:,}",
                }
            lines.append(
                LimitLine("share", limit.counterparty_id, touched.names.get(limit.counterparty_id, ""),
                          limit.pk, cap, exposure, requested, status, reason)
            )  # fmt: skip
    status = worst_status([line.status for line in lines])
    with_limits = [line.headroom for line in lines if line.limit is not None]
    return LimitCheck(
        amount=amount,
        lines=tuple(lines),
        status=status,
        headroom=min(with_limits)
        if with_limits and all(line.limit is not None for line in lines)
        else 0,
        required_level=int(LEVEL_FOR_STATUS[status]),
        blocked_reasons=tuple(line.reason for line in lines if line.reason),
    )


def split_for(
    amount: int, debtor: object | None, debtor_split: Mapping[object, int] | None
) -> dict[int, int]:
    """Return ``{debtor id: amount}``; empty when the amount names no debtor."""
    if debtor_split:
        split = {_pk(d): int(a) for d, a in debtor_split.items()}
        if sum(split.values()) != amount:
            raise ValueError("the debtor split must add up to the amount")
        return split
    if debtor is not None:
        return {_pk(debtor): amount}
    return {}


def _pk(party: object) -> int:
    return party if isinstance(party, int) else party.pk  # type: ignore[attr-defined]
