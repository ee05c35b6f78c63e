"""Compliance reads; ``clearance`` is the gate deals ask before moving money."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer

from .choices import ConnectionStatus, HitStatus, KycResult
from .models import ConnectionApproval, KycRecord, ScreeningHit, ScreeningState


@dataclass(frozen=True)
class ClearanceReason:
    code: str
    message: str


@dataclass(frozen=True)
class Clearance:
    """Whether a customer may be dealt with now, and every reason it may not."""

    cleared: bool
    reasons: list[ClearanceReason] = field(default_factory=list)
    kyc: KycRecord | None = None
    screened_at: Any = None

    def __bool__(self) -> bool:
        return self.cleared

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


def clearance(customer: Customer, *, today: date | None = None) -> Clearance:
    """Return cleared or not, with every reason: KYC, open hits, true matches, screening age."""
    return clearances([customer], today=today)[customer.pk]


def clearances(customers: list[Customer], *, today: date | None = None) -> dict[int, Clearance]:
    """Return ``{customer id: Clearance}`` for many customers in three queries (a deal asks for
    its client and every debtor at once)."""
    today = today or timezone.localdate()
    ids = [customer.pk for customer in customers]
    latest: dict[int, KycRecord] = {}
    records = KycRecord.objects.filter(customer_id__in=ids, person__isnull=True).order_by(
        "customer_id", "-verified_on", "-id"
    )
    for record in records:
        latest.setdefault(record.customer_id, record)
    hits: dict[int, dict[str, int]] = {}
    rows = (
        ScreeningHit.objects.filter(customer_id__in=ids)
        .values("customer_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        hits.setdefault(row["customer_id"], {})[row["status"]] = row["n"]
    states = {
        state.customer_id: state for state in ScreeningState.objects.filter(customer_id__in=ids)
    }
    return {pk: _judge(latest.get(pk), hits.get(pk, {}), states.get(pk), today) for pk in ids}


def _judge(kyc, hits: dict[str, int], state, today: date) -> Clearance:
    reasons: list[ClearanceReason] = []
    if kyc is None:
        reasons.append(ClearanceReason("kyc_missing", _("No KYC verification on record.")))
    elif kyc.result != KycResult.VERIFIED:
        reasons.append(ClearanceReason("kyc_not_verified", _("The latest KYC was not verified.")))
    elif kyc.expires_on < today:
        reasons.append(
            ClearanceReason(
                "kyc_expired", _("KYC expired on %(date)s.") % {"date": kyc.expires_on.isoformat()}
            )
        )
    if hits.get(HitStatus.TRUE_MATCH):
        reasons.append(
            ClearanceReason(
                "true_match", _("A watchlist true match was confirmed: business is blocked.")
            )
        )
    if hits.get(HitStatus.OPEN):
        reasons.append(
            ClearanceReason(
                "open_hits", _("%(n)s screening hit(s) await review.") % {"n": hits[HitStatus.OPEN]}
            )
        )
    screened_at = state.screened_at if state else None
    if state is None:
        reasons.append(
            ClearanceReason("screening_missing", _("Never screened against the watchlists."))
        )
    elif timezone.localdate(state.screened_at) < today - timedelta(
        days=settings.SCREENING_INTERVAL_DAYS
    ):
        reasons.append(
            ClearanceReason(
                "screening_stale",
                _("Last screened on %(date)s, older than the policy allows.")
                % {"date": timezone.localdate(state.screened_at).isoformat()},
            )
        )
    return Clearance(cleared=not reasons, reasons=reasons, kyc=kyc, screened_at=screened_at)


def open_hits() -> QuerySet[ScreeningHit]:
    """Return hits waiting for review, best score first."""
    return (
        ScreeningHit.objects.filter(status=HitStatus.OPEN)
        .select_related("customer", "person", "entry", "entry__watchlist", "run")
        .order_by("-score", "created_at")
    )


def hit_list(*, status: str | None = None) -> QuerySet[ScreeningHit]:
    queryset = ScreeningHit.objects.select_related(
        "customer", "person", "entry", "entry__watchlist", "reviewed_by"
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("status", "-score", "-created_at")


def latest_kyc_records() -> QuerySet[KycRecord]:
    """Return each subject's latest KYC record (no newer one for the same customer and person)."""
    newer = KycRecord.objects.filter(
        customer=OuterRef("customer"),
        person=OuterRef("person"),
        verified_on__gt=OuterRef("verified_on"),
    )
    newer_company = KycRecord.objects.filter(
        customer=OuterRef("customer"), person__isnull=True, verified_on__gt=OuterRef("verified_on")
    )
    return (
        KycRecord.objects.annotate(
            superseded=Exists(newer), superseded_company=Exists(newer_company)
        )
        .exclude(superseded=True)
        .exclude(person__isnull=True, superseded_company=True)
        .select_related("customer", "person", "verified_by")
    )


def kyc_expiring(*, today: date, within_days: int) -> QuerySet[KycRecord]:
    """Return latest KYC records of live customers that expire within ``within_days`` (or have expired)."""
    return (
        latest_kyc_records()
        .filter(expires_on__lte=today + timedelta(days=within_days))
        .exclude(customer__status__in=["closed", "merged"])
        .order_by("expires_on")
    )


def connections_expiring(*, today: date, within_days: int) -> QuerySet[ConnectionApproval]:
    """Return live connections whose approval or certificate ends within ``within_days``."""
    limit = today + timedelta(days=within_days)
    return (
        ConnectionApproval.objects.exclude(status=ConnectionStatus.EXPIRED)
        .filter(Q(valid_until__lte=limit) | Q(certificate_expires_on__lte=limit))
        .select_related("responsible")
        .order_by("valid_until")
    )


def customers_due_for_screening(*, today: date, versions_key: str) -> QuerySet[Customer]:
    """Return live customers never screened, screened too long ago, or before a list import."""
    cutoff = timezone.make_aware(
        datetime.combine(today - timedelta(days=settings.SCREENING_INTERVAL_DAYS), time.min)
    )
    fresh = ScreeningState.objects.filter(
        customer=OuterRef("pk"), screened_at__gte=cutoff, versions_key=versions_key
    )
    return (
        Customer.objects.filter(status__in=["active", "dormant"])
        .exclude(is_client=False, is_debtor=False)
        .exclude(Exists(fresh))
        .order_by("pk")
    )
