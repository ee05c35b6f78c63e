"""Recovering late money: the dunning log (督促履歴) with promises to pay, repurchase (買戻し)
by the client, and paying back the reserve (返還額). Each write is one transaction with its
audit event.

Repurchase lifecycle: ``repurchase_open`` asks the client for what is still outstanding
(the receivable stays ``overdue`` while the request is open, so it keeps ageing and stays on
the overdue list); ``repurchase_settle`` records the client's payment — the receivable
becomes ``repurchased``, its remaining exposure is released, and a deal with nothing else to
collect closes with its reserve settlement; ``repurchase_waive`` drops a request (e.g. the
debtor paid after all).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.choices import AlertKind, AlertSeverity
from core.exceptions import InvalidStateError
from core.services import alert_raise
from deals.models import Deal

from ..models import (
    CollectionStatus,
    DunningLog,
    DunningMethod,
    ExpectedCollection,
    RepurchaseRequest,
    RepurchaseStatus,
    ReserveSettlement,
)
from ..overdue import days_overdue
from ..selectors import SETTLED_STATUSES
from .settlement import advance_deal, release_receivable


def _lock_expected(expected: ExpectedCollection) -> ExpectedCollection:
    return (
        ExpectedCollection.objects.select_for_update(of=("self",))
        .select_related("receivable__debtor", "deal__client", "deal__owner", "payer")
        .get(pk=expected.pk)
    )


def _require_outstanding(expected: ExpectedCollection) -> None:
    if expected.status in SETTLED_STATUSES or expected.outstanding == 0:
        raise InvalidStateError(_("Nothing is outstanding on this receivable."))


def _not_in_future(field: str, value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


@transaction.atomic
def dunning_record(
    *,
    expected: ExpectedCollection,
    actor: Any,
    contacted_on: date,
    method: str,
    person: str,
    agreed: str = "",
    promise_date: date | None = None,
    promise_amount: int | None = None,
) -> DunningLog:
    """Log one contact about an unpaid receivable, with any promise to pay.

    A promise date without an amount promises everything outstanding now; an amount needs a
    date. The nightly check alerts when the date passes without that much paid since.
    """
    expected = _lock_expected(expected)
    _require_outstanding(expected)
    errors: dict[str, str] = {}
    if method not in DunningMethod.values:
        errors["method"] = _("Choose how the payer was contacted.")
    if not person.strip():
        errors["person"] = _("Say who was contacted.")
    if contacted_on > timezone.localdate():
        errors["contacted_on"] = _("The date cannot be in the future.")
    if promise_amount is not None and promise_date is None:
        errors["promise_date"] = _("A promised amount needs the promised payment date.")
    if promise_date is not None and promise_date < contacted_on:
        errors["promise_date"] = _("The promised date cannot be before the contact.")
    if promise_amount is not None and promise_amount <= 0:
        errors["promise_amount"] = _("Enter a positive amount of yen.")
    elif promise_amount is not None and promise_amount > expected.outstanding:
        errors["promise_amount"] = _("More than is still open on this receivable.")
    if errors:
        raise ValidationError(errors)
    if promise_date is not None and promise_amount is None:
        promise_amount = expected.outstanding
    entry = DunningLog.objects.create(
        expected=expected, contacted_on=contacted_on, method=method, person=person.strip(),
        agreed=agreed.strip(), promise_date=promise_date, promise_amount=promise_amount,
        recorded_by=actor,
    )  # fmt: skip
    audit_log(actor=actor, action="collection.dunning_recorded", subject=expected.deal,
              data={"dunning": entry.pk, "receivable": expected.pk, "method": method,
                    "contacted_on": contacted_on, "promise_date": promise_date,
                    "promise_amount": promise_amount})  # fmt: skip
    return entry


@transaction.atomic
def repurchase_open(
    *, expected: ExpectedCollection, today: date, actor: Any | None = None, actor_label: str = ""
) -> tuple[RepurchaseRequest, bool]:
    """Ask the deal's client to buy back an overdue receivable for what is still outstanding.

    Idempotent: a receivable has at most one request; an existing one is returned untouched
    with ``False``. Alerts collections and the deal owner once. The receivable keeps its
    ``overdue`` status until the request is settled.
    """
    expected = _lock_expected(expected)
    existing = RepurchaseRequest.objects.filter(expected=expected).first()
    if existing is not None:
        return existing, False
    _require_outstanding(expected)
    days = days_overdue(expected.due_date, today)
    if days < 1:
        raise InvalidStateError(_("The receivable is not overdue."))
    deal = expected.deal
    request = RepurchaseRequest.objects.create(
        expected=expected, client=deal.client, amount=expected.outstanding, opened_on=today,
        days_overdue=days,
    )  # fmt: skip
    audit_log(actor=actor, actor_label=actor_label, action="collection.repurchase_opened",
              subject=deal, data={"repurchase": request.pk, "receivable": expected.pk,
                                  "amount": request.amount, "days_overdue": days})  # fmt: skip
    alert_raise(
        kind=AlertKind.REPURCHASE_OPENED,
        dedup_key=f"collection_repurchase:{expected.pk}",
        title=_("Repurchase requested: %(invoice)s (%(deal)s)")
        % {"invoice": expected.receivable.invoice_number, "deal": deal.number},
        message=_(
            "%(client)s is asked to buy back the invoice for %(amount)s yen; "
            "%(days)s business days overdue."
        )
        % {"client": deal.client.name, "amount": f"{request.amount:,}", "days": days},
        severity=AlertSeverity.HIGH,
        subject=deal,
        due_date=today,
        assignee=deal.owner,
        role="collections",
        actor=actor,
        actor_label=actor_label,
    )
    return request, True


def _lock_request(request: RepurchaseRequest) -> RepurchaseRequest:
    request = RepurchaseRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    if request.status != RepurchaseStatus.OPEN:
        raise InvalidStateError(_("Only an open repurchase request can be settled or waived."))
    return request


@transaction.atomic
def repurchase_settle(
    *, request: RepurchaseRequest, actor: Any, settled_on: date
) -> RepurchaseRequest:
    """Record that the client paid the repurchase: the client pays what is outstanding on
    the receivable now (payments that arrived after the request reduce it), the receivable
    becomes ``repurchased``, its exposure is released, and the deal closes when done."""
    request = _lock_request(request)
    _not_in_future("settled_on", settled_on)
    if settled_on < request.opened_on:
        message = _("The repurchase cannot be settled before it was requested.")
        raise ValidationError({"settled_on": message})
    expected = _lock_expected(ExpectedCollection(pk=request.expected_id))
    _require_outstanding(expected)
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=expected.deal_id)
    )
    requested = request.amount
    request.amount = expected.outstanding
    request.status = RepurchaseStatus.SETTLED
    request.settled_on = settled_on
    request.save(update_fields=["amount", "status", "settled_on"])
    expected.status = CollectionStatus.REPURCHASED
    if not expected.exposure_released:
        release_receivable(
            expected,
            deal,
            actor=actor,
            note=_("Repurchased %(invoice)s") % {"invoice": expected.receivable.invoice_number},
        )
        expected.exposure_released = True
    expected.save(update_fields=["status", "exposure_released"])
    audit_log(actor=actor, action="collection.repurchase_settled", subject=deal,
              data={"repurchase": request.pk, "receivable": expected.pk,
                    "amount": request.amount, "requested": requested,
                    "settled_on": settled_on})  # fmt: skip
    advance_deal(deal, actor=actor, comment=_("Repurchase settled"))
    return request


@transaction.atomic
def repurchase_waive(*, request: RepurchaseRequest, actor: Any, reason: str) -> RepurchaseRequest:
    """Drop an open repurchase request (the debtor paid after all, or it was agreed
    otherwise); the receivable stays as it is. A waived request is not opened again."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the repurchase is waived.")})
    request = _lock_request(request)
    request.status = RepurchaseStatus.WAIVED
    request.note = reason.strip()[:300]
    request.save(update_fields=["status", "note"])
    audit_log(actor=actor, action="collection.repurchase_waived", subject=request.expected.deal,
              data={"repurchase": request.pk, "receivable": request.expected_id,
                    "reason": request.note})  # fmt: skip
    return request


@transaction.atomic
def reserve_settlement_pay(
    *, settlement: ReserveSettlement, actor: Any, paid_on: date
) -> ReserveSettlement:
    """Record that the reserve (返還額) was paid back to the client."""
    settlement = (
        ReserveSettlement.objects.select_for_update(of=("self",))
        .select_related("deal")
        .get(pk=settlement.pk)
    )
    if settlement.paid_on is not None:
        raise InvalidStateError(_("This reserve was already returned."))
    _not_in_future("paid_on", paid_on)
    if paid_on < settlement.computed_on:
        message = _("The reserve cannot be returned before it was computed.")
        raise ValidationError({"paid_on": message})
    settlement.paid_on = paid_on
    settlement.paid_by = actor
    settlement.save(update_fields=["paid_on", "paid_by"])
    audit_log(actor=actor, action="collection.reserve_returned", subject=settlement.deal,
              data={"settlement": settlement.pk, "amount": settlement.amount,
                    "paid_on": paid_on})  # fmt: skip
    return settlement
