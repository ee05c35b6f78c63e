"""Deal records: create with a gap-free number, edit what the stage allows, receivables with
the double-sale guard, pricing from credit's policy, credit and clearance snapshots."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.selectors import clearances
from core.audit import audit_log
from core.exceptions import InvalidStateError, PermissionDeniedError
from core.money import to_rate
from core.text import nfkc
from credit.calculations import explain_advance_rate, funding_breakdown
from credit.selectors import active_policy, current_grades
from credit.services import check_limit
from customers.models import Customer

from ..calculations import split_by_debtor
from ..choices import LIVE_STAGES, Stage
from ..exceptions import DoubleSale
from ..models import Deal, DealSequence, Receivable

# Until the approval request freezes them, pricing and receivables may change.
EDITABLE_PRICING_STAGES = (Stage.LEAD, Stage.DOCUMENTS, Stage.SCREENING, Stage.UNDERWRITING,
                           Stage.QUOTED)  # fmt: skip
# Fields a user may set through deal_update (pricing goes through deal_price).
UPDATABLE = {
    "name", "department", "channel", "referrer_company", "referrer_person", "campaign",
    "scheme", "notice_required", "registration_required", "repurchase_trigger_days",
    "client_size", "survey_fee", "registration_fee", "scrivener_fee", "transfer_fee",
    "expected_payment_date", "expected_collection_date", "term_sheet_date", "contract_date",
    "e_contract_id", "registration_applied_on", "registration_completed_at",
    "registration_number", "registration_expires_on", "notice_date", "notice_method",
    "notice_reference", "consent_signatory", "defences_waived", "anti_assignment_noted",
    "executed_on", "remittance_account", "executed_amount", "memo_background",
    "memo_judgement", "memo_next", "next_action", "next_action_owner", "next_action_due",
    "owner",
}  # fmt: skip
# Fields of a receivable a user may change through receivable_update (never its deal).
RECEIVABLE_FIELDS = {"debtor", "invoice_number", "issue_date", "due_date", "face_amount",
                     "evidence_received", "verification_method", "verification_note"}  # fmt: skip
PRICING_FIELDS = {"scheme", "registration_required", "client_size", "survey_fee",
                  "registration_fee", "scrivener_fee", "transfer_fee"}  # fmt: skip


def next_deal_number(year: int) -> str:
    """Issue the next ``YYYY-NNNN`` under a row lock; call inside the creating transaction so a
    rollback gives the number back (no gaps)."""
    DealSequence.objects.bulk_create([DealSequence(year=year)], ignore_conflicts=True)
    sequence = DealSequence.objects.select_for_update().get(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{year}-{sequence.last:04d}"


def refresh_funding(deal: Deal, receivables: list[Receivable] | None = None) -> None:
    """Recompute face value and the funding breakdown from the receivables and pricing."""
    receivables = list(deal.receivables.all()) if receivables is None else receivables
    deal.face_value = sum(r.face_amount for r in receivables)
    if deal.advance_rate is not None and deal.fee_rate is not None:
        result = funding_breakdown(deal.face_value, deal.advance_rate, deal.fee_rate,
                                   deal.other_costs)  # fmt: skip
        deal.advance_amount, deal.fee = result.advance_amount, result.fee
        deal.upfront_payment, deal.reserve = result.upfront_payment, result.reserve
    else:
        # Nothing is bought until the deal is priced: no advance, no reserve.
        deal.advance_amount = deal.fee = deal.upfront_payment = deal.reserve = 0


def exposure_split(deal: Deal) -> dict[Customer, int]:
    """Return the advance amount split by debtor, for the exposure ledger."""
    faces: dict[int, int] = {}
    for receivable in deal.receivables.all():
        faces[receivable.debtor_id] = faces.get(receivable.debtor_id, 0) + receivable.face_amount
    parts = split_by_debtor(faces, deal.advance_rate or Decimal(0), deal.advance_amount)
    debtors = Customer.objects.in_bulk(list(parts))
    return {debtors[pk]: amount for pk, amount in parts.items() if amount}


def _save(deal: Deal, actor: Any, action: str, **data: Any) -> Deal:
    deal.full_clean(exclude=["stage", "number"])
    deal.save()
    audit_log(actor=actor, action=action, subject=deal, data={"deal": deal.number, **data})
    return deal


@transaction.atomic
def deal_create(
    *,
    actor: Any,
    client: Customer,
    name: str,
    channel: str,
    scheme: str,
    owner: Any | None = None,
    **fields: Any,
) -> Deal:
    """Open a deal at ``lead`` with the next number of the current year."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"unknown deal fields: {sorted(unknown)}")
    owner = owner or actor
    deal = Deal(
        number=next_deal_number(timezone.localdate().year),
        name=name,
        client=client,
        channel=channel,
        scheme=scheme,
        owner=owner,
        department=fields.pop("department", "") or getattr(owner, "department", ""),
        created_by=actor,
        **fields,
    )
    deal.reserve = 0
    return _save(deal, actor, "deal.created", client=client.pk)


def _lock(deal: Deal) -> Deal:
    return Deal.objects.select_for_update(of=("self",)).select_related("client").get(pk=deal.pk)


@transaction.atomic
def deal_update(*, deal: Deal, actor: Any, **fields: Any) -> Deal:
    """Change the fields the user may edit; pricing inputs only until the approval request."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"unknown deal fields: {sorted(unknown)}")
    deal = _lock(deal)
    if deal.stage in (Stage.CLOSED, Stage.LOST, Stage.CANCELLED):
        raise InvalidStateError(_("A finished deal cannot be changed."))
    if set(fields) & PRICING_FIELDS and deal.stage not in EDITABLE_PRICING_STAGES:
        raise InvalidStateError(_("Pricing is frozen once the deal is in approval."))
    if "owner" in fields and fields["owner"] != deal.owner and deal.stage == Stage.APPROVAL:
        # The owner may never decide; handing the deal over mid-approval would dodge that.
        raise InvalidStateError(_("The owner cannot change while the deal is in approval."))
    changed = {k: v for k, v in fields.items() if getattr(deal, k) != v}
    for name, value in changed.items():
        setattr(deal, name, value)
    if changed.keys() & PRICING_FIELDS:
        refresh_funding(deal)
    return _save(deal, actor, "deal.updated", fields=sorted(changed))


_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−ーｰ"})


def invoice_key(invoice_number: str) -> str:
    """Return the comparison key of an invoice number: width-folded, upper-case, no spaces,
    every dash-like character as ``-`` (so 二重譲渡 is caught however it was typed, and
    collection finds an invoice named in bank text as deals stored it)."""
    return "".join(nfkc(invoice_number).translate(_DASHES).upper().split())


def _guard_double_sale(debtor: Customer, key: str, deal: Deal) -> None:
    """Refuse an invoice already sold in another live deal; serialised per invoice."""
    if connection.vendor == "postgresql":
        digest = hashlib.blake2b(f"{debtor.pk}:{key}".encode(), digest_size=8).digest()
        lock_id = int.from_bytes(digest, "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
    other = (
        Receivable.objects.filter(debtor=debtor, invoice_key=key, deal__stage__in=LIVE_STAGES)
        .exclude(deal=deal)
        .select_related("deal")
        .first()
    )
    if other is not None:
        raise DoubleSale(other.deal)


def _check_debtor(debtor: Customer, deal: Deal) -> None:
    if not debtor.is_debtor:
        raise ValidationError({"debtor": _("The debtor must be a customer marked as debtor.")})
    if debtor.pk == deal.client_id:
        raise ValidationError({"debtor": _("The client cannot be its own debtor.")})


@transaction.atomic
def receivable_add(
    *,
    deal: Deal,
    actor: Any,
    debtor: Customer,
    invoice_number: str,
    issue_date: date,
    due_date: date,
    face_amount: int,
    evidence_received: bool = False,
    verification_method: str = "",
    verification_note: str = "",
) -> Receivable:
    """Add a purchased invoice; refused when another live deal already bought it."""
    deal = _lock(deal)
    if deal.stage not in EDITABLE_PRICING_STAGES:
        raise InvalidStateError(_("Receivables are frozen once the deal is in approval."))
    _check_debtor(debtor, deal)
    key = invoice_key(invoice_number)
    _guard_double_sale(debtor, key, deal)
    receivable = Receivable(
        deal=deal, debtor=debtor, invoice_number=invoice_number.strip(), invoice_key=key,
        issue_date=issue_date, due_date=due_date, face_amount=face_amount,
        evidence_received=evidence_received, verification_method=verification_method,
        verification_note=verification_note,
    )  # fmt: skip
    receivable.full_clean()
    receivable.save()
    refresh_funding(deal)
    _save(deal, actor, "deal.receivable_added", invoice=receivable.invoice_number,
          debtor=debtor.pk, face_amount=face_amount)  # fmt: skip
    return receivable


@transaction.atomic
def receivable_update(*, receivable: Receivable, actor: Any, **fields: Any) -> Receivable:
    """Record evidence and verification, or correct amounts before the approval request."""
    unknown = set(fields) - RECEIVABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown receivable fields: {sorted(unknown)}")
    deal = _lock(receivable.deal)
    allowed_late = {"evidence_received", "verification_method", "verification_note"}
    if deal.stage not in EDITABLE_PRICING_STAGES and set(fields) - allowed_late:
        raise InvalidStateError(_("Receivables are frozen once the deal is in approval."))
    for name, value in fields.items():
        setattr(receivable, name, value)
    if "debtor" in fields:
        _check_debtor(receivable.debtor, deal)
    if "invoice_number" in fields or "debtor" in fields:
        receivable.invoice_key = invoice_key(receivable.invoice_number)
        _guard_double_sale(receivable.debtor, receivable.invoice_key, deal)
    receivable.full_clean()
    receivable.save()
    refresh_funding(deal)
    _save(deal, actor, "deal.receivable_updated", receivable=receivable.pk, fields=sorted(fields))
    return receivable


@transaction.atomic
def receivable_remove(*, receivable: Receivable, actor: Any) -> None:
    deal = _lock(receivable.deal)
    if deal.stage not in EDITABLE_PRICING_STAGES:
        raise InvalidStateError(_("Receivables are frozen once the deal is in approval."))
    invoice = receivable.invoice_number
    receivable.delete()
    refresh_funding(deal)
    _save(deal, actor, "deal.receivable_removed", invoice=invoice)


def prior_deal_count(deal: Deal) -> int:
    """Return how many earlier deals of this client were executed (for the advance rate)."""
    return (
        Deal.objects.filter(client_id=deal.client_id,
                            stage__in=[Stage.EXECUTED, Stage.COLLECTING, Stage.CLOSED])
        .exclude(pk=deal.pk)
        .count()
    )  # fmt: skip


@transaction.atomic
def deal_price(
    *,
    deal: Deal,
    actor: Any,
    fee_rate: Decimal,
    advance_override: Decimal | None = None,
    override_reason: str = "",
) -> Deal:
    """Set the fee and the advance rate from the active policy (its version kept). An
    override needs the underwriter's permission and a reason."""
    deal = _lock(deal)
    if deal.stage not in EDITABLE_PRICING_STAGES:
        raise InvalidStateError(_("Pricing is frozen once the deal is in approval."))
    receivables = list(deal.receivables.all())
    if not receivables:
        raise ValidationError(_("Add the receivables before pricing the deal."))
    grades = current_grades(sorted({r.debtor_id for r in receivables}))
    if len(grades) < len({r.debtor_id for r in receivables}):
        raise ValidationError(_("Rate every debtor before pricing the deal."))
    worst = max(grades.values())
    policy = active_policy()
    explanation = explain_advance_rate(
        scheme=deal.scheme, registered=deal.registration_required, debtor_rating=worst,
        client_size=deal.client_size, prior_deals=prior_deal_count(deal),
        policy=policy.as_policy(),
    )  # fmt: skip
    deal.policy_rate, deal.policy_version = explanation.rate, policy.version
    deal.fee_rate = to_rate(fee_rate)
    if advance_override is not None and to_rate(advance_override) != explanation.rate:
        if not actor.has_perm("deals.override_advance_rate"):
            raise PermissionDeniedError(_("Only an underwriter may override the advance rate."))
        if not override_reason.strip():
            raise ValidationError(
                {"advance_override_reason": _("Say why the advance rate differs from the policy.")}
            )
        deal.advance_rate = to_rate(advance_override)
        deal.advance_override_reason = override_reason.strip()
    else:
        deal.advance_rate = explanation.rate
        deal.advance_override_reason = ""
    refresh_funding(deal, receivables)
    return _save(deal, actor, "deal.priced", advance_rate=deal.advance_rate,
                 policy_rate=explanation.rate, policy_version=policy.version,
                 fee_rate=deal.fee_rate, override=bool(deal.advance_override_reason))  # fmt: skip


@transaction.atomic
def deal_check_credit(*, deal: Deal, actor: Any) -> dict:
    """Run ``check_limit`` on the deal's advance amount and keep the result with the ratings."""
    deal = _lock(deal)
    split = exposure_split(deal)
    check = check_limit(deal.client, deal.advance_amount, debtor_split=split or None)
    parties = [deal.client_id, *sorted({d.pk for d in split})]
    deal.credit_result = {
        "grades": {str(k): v for k, v in current_grades(parties).items()},
        "check": check.as_dict(),
    }
    deal.credit_checked_at = timezone.now()
    _save(deal, actor, "deal.credit_checked", status=check.status, amount=check.amount)
    return deal.credit_result


def snapshot_clearance(deal: Deal) -> dict:
    """Set the deal's clearance snapshot of the client and every debtor (not saved)."""
    debtor_ids = sorted({r.debtor_id for r in deal.receivables.all()})
    parties = list(Customer.objects.filter(pk__in=[deal.client_id, *debtor_ids]))
    results = clearances(parties)
    snapshot = {}
    for party in parties:
        result = results[party.pk]
        snapshot[str(party.pk)] = {
            "name": party.name,
            "cleared": result.cleared,
            "reasons": [str(reason.message) for reason in result.reasons],
        }
    deal.clearance_snapshot = snapshot
    deal.clearance_checked_at = timezone.now()
    return snapshot


@transaction.atomic
def deal_check_clearance(*, deal: Deal, actor: Any) -> dict:
    """Snapshot compliance clearance of the client and every debtor on the deal."""
    deal = _lock(deal)
    snapshot = snapshot_clearance(deal)
    _save(deal, actor, "deal.clearance_checked",
          cleared=all(v["cleared"] for v in snapshot.values()))  # fmt: skip
    return snapshot
