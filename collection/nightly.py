"""Nightly collection check: overdue statuses, overdue alerts, payment delays reported to
credit, repurchase at the deal's trigger, broken promises to pay.

Set-based: each step selects its rows with one query built on due-date cutoffs (bank business
days computed once in Python, see ``collection.overdue``) and skips in SQL what an earlier run
already did, so a second run on the same day costs a fixed handful of queries and raises
nothing. Only new alerts, new repurchase requests and changed payment delays loop, through
the services that audit them.
"""

from __future__ import annotations

from datetime import date

from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext as _

from core.choices import AlertKind, AlertSeverity
from core.jobs import CheckOutcome, nightly_check
from core.models import Alert
from core.services import alert_raise
from credit.models import Exposure
from credit.services import payment_delay_report
from customers.models import Customer

from .models import Allocation, CollectionStatus, DunningLog, ExpectedCollection
from .overdue import ALERT_AFTER_DAYS, days_overdue, overdue_cutoff
from .selectors import unpaid_collections, unpaid_q
from .services.recovery import repurchase_open

JOB = "job:collection_overdue"
OVERDUE_KEY = "collection_overdue:"
PROMISE_KEY = "collection_promise_broken:"


def _not_alerted(prefix: str) -> Exists:
    """Return ``EXISTS`` of the alert keyed ``prefix`` + the row's pk (the unique index)."""
    key = Concat(Value(prefix), Cast(OuterRef("pk"), output_field=CharField()))
    return ~Exists(Alert.objects.filter(dedup_key=key))


def refresh_statuses(today: date) -> int:
    """Mark unpaid open or partly paid collections due before ``today`` overdue (and put back
    any overdue one whose due date is not past, as ``derive_status`` would); return how many
    became overdue. Statuses are derived data: the check's run is the audit record."""
    marked = ExpectedCollection.objects.filter(
        unpaid_q(),
        status__in=[CollectionStatus.OPEN, CollectionStatus.PARTIAL],
        due_date__lt=today,
    ).update(status=CollectionStatus.OVERDUE)
    not_due = ExpectedCollection.objects.filter(
        status=CollectionStatus.OVERDUE, due_date__gte=today
    )
    not_due.filter(paid_amount=0).update(status=CollectionStatus.OPEN)
    not_due.filter(paid_amount__gt=0).update(status=CollectionStatus.PARTIAL)
    return marked


def alert_overdue(today: date) -> int:
    """Raise one alert per collection unpaid ``ALERT_AFTER_DAYS`` business days after its due
    date, assigned to the deal owner and the collections role; return how many were raised."""
    rows = (
        unpaid_collections()
        .filter(due_date__lt=overdue_cutoff(today, ALERT_AFTER_DAYS))
        .filter(_not_alerted(OVERDUE_KEY))
        .select_related("receivable", "deal__owner", "payer")
        .order_by("due_date", "pk")
    )
    raised = 0
    for row in rows:
        days = days_overdue(row.due_date, today)
        _alert, created = alert_raise(
            kind=AlertKind.RECEIVABLE_OVERDUE,
            dedup_key=f"{OVERDUE_KEY}{row.pk}",
            title=_("Receivable overdue: %(invoice)s (%(deal)s)")
            % {"invoice": row.receivable.invoice_number, "deal": row.deal.number},
            message=_(
                "%(payer)s has not paid %(amount)s yen due on %(date)s; "
                "%(days)s business days overdue."
            )
            % {
                "payer": row.payer.name,
                "amount": f"{row.outstanding:,}",
                "date": row.due_date.isoformat(),
                "days": days,
            },
            severity=AlertSeverity.WARNING,
            subject=row.deal,
            due_date=today,
            assignee=row.deal.owner,
            role="collections",
            actor_label=JOB,
        )
        raised += int(created)
    return raised


def report_payment_delays(today: date) -> tuple[int, int]:
    """Report each payer's worst current delay (bank business days) to credit when it
    differs from what credit holds — 0 for payers no longer late — so delays over
    ``CREDIT_SUSPEND_DELAY_DAYS`` suspend their limits. Return (overdue collections seen,
    limits suspended now)."""
    late = (
        unpaid_collections()
        .filter(due_date__lt=today)
        .values("payer")
        .annotate(oldest=Min("due_date"), n=Count("pk"))
        .order_by()
    )
    worst: dict[int, int] = {}
    seen = 0
    for row in late:
        worst[row["payer"]] = days_overdue(row["oldest"], today)
        seen += row["n"]
    held = dict(
        Exposure.objects.filter(worst_delay_days__gt=0).values_list("pk", "worst_delay_days")
    )
    changed = {pk: days for pk, days in worst.items() if days != held.get(pk, 0)}
    changed.update({pk: 0 for pk in held if pk not in worst})
    suspended = 0
    if changed:
        payers = Customer.objects.in_bulk(list(changed))
        for pk in sorted(changed):
            limits = payment_delay_report(
                counterparty=payers[pk], days=changed[pk], actor_label=JOB
            )
            suspended += len(limits)
    return seen, suspended


def open_repurchases(today: date) -> int:
    """Open a repurchase request for each unpaid collection overdue more business days than
    its deal's ``repurchase_trigger_days`` (default 30: from the 31st business day late);
    return how many were opened."""
    unrequested = unpaid_collections().filter(
        due_date__lt=overdue_cutoff(today, 1), repurchase__isnull=True
    )
    triggers = sorted(
        set(
            unrequested.order_by()
            .values_list("deal__repurchase_trigger_days", flat=True)
            .distinct()
        )
    )
    if not triggers:
        return 0
    condition = Q()
    for trigger in triggers:
        cutoff = overdue_cutoff(today, trigger + 1)
        condition |= Q(deal__repurchase_trigger_days=trigger, due_date__lt=cutoff)
    rows = unrequested.filter(condition).order_by("due_date", "pk")
    opened = 0
    for row in rows:
        _request, created = repurchase_open(expected=row, today=today, actor_label=JOB)
        opened += int(created)
    return opened


def alert_broken_promises(today: date) -> int:
    """Alert once per dunning entry whose promised date has passed while less than the
    promised amount was paid (value date on or after the contact) and the receivable is
    still unpaid; assigned to whoever recorded the promise and the collections role."""
    paid_since = (
        Allocation.objects.filter(
            expected=OuterRef("expected_id"),
            reversed_at__isnull=True,
            entry__value_date__gte=OuterRef("contacted_on"),
        )
        .values("expected")
        .annotate(total=Sum(F("amount") + F("fee")))
        .values("total")
    )
    rows = (
        DunningLog.objects.filter(promise_date__lt=today, promise_amount__isnull=False)
        .filter(unpaid_q("expected__"))
        .annotate(
            paid_since=Coalesce(Subquery(paid_since, output_field=BigIntegerField()), Value(0))
        )
        .filter(paid_since__lt=F("promise_amount"))
        .filter(_not_alerted(PROMISE_KEY))
        .select_related("expected__receivable", "expected__deal", "recorded_by")
        .order_by("promise_date", "pk")
    )
    raised = 0
    for entry in rows:
        expected = entry.expected
        _alert, created = alert_raise(
            kind=AlertKind.PROMISE_BROKEN,
            dedup_key=f"{PROMISE_KEY}{entry.pk}",
            title=_("Promise to pay broken: %(invoice)s (%(deal)s)")
            % {"invoice": expected.receivable.invoice_number, "deal": expected.deal.number},
            message=_(
                "%(person)s promised %(amount)s yen by %(date)s; "
                "%(paid)s yen has been paid since %(contacted)s."
            )
            % {
                "person": entry.person,
                "amount": f"{entry.promise_amount:,}",
                "date": entry.promise_date.isoformat(),
                "paid": f"{entry.paid_since:,}",
                "contacted": entry.contacted_on.isoformat(),
            },
            severity=AlertSeverity.HIGH,
            subject=expected.deal,
            due_date=today,
            assignee=entry.recorded_by,
            role="collections",
            actor_label=JOB,
        )
        raised += int(created)
    return raised


@nightly_check(
    "collection_overdue",
    "Overdue receivables: statuses, alerts, payment delays to credit, repurchase, promises",
)
def check_collection_overdue(*, today: date) -> CheckOutcome:
    """Refresh overdue statuses, alert 3 business days after the due date, report payment
    delays to credit, open repurchases at each deal's trigger and alert broken promises.
    ``processed`` counts the overdue collections; ``raised`` the alerts raised now (overdue,
    repurchase, broken promise, and credit's limit suspensions)."""
    refresh_statuses(today)
    raised = alert_overdue(today)
    processed, suspended = report_payment_delays(today)
    raised += suspended
    raised += open_repurchases(today)
    raised += alert_broken_promises(today)
    return CheckOutcome(processed=processed, raised=raised)
