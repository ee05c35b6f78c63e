"""The deals demo seeder: through the services for a small demo, in bulk at scale."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import User
from compliance.selectors import clearance
from core.demo import DemoOptions
from credit.calculations import funding_breakdown
from credit.models import Exposure, ExposureEntry
from credit.selectors import current_grades
from customers.models import Customer
from deals.choices import ApprovalStatus, Stage
from deals.demo import seed_deals
from deals.milestones import business_days_in_stage, refresh_milestones
from deals.models import ApprovalRequest, Deal, DealSequence, Receivable, StageChange
from deals.services import may_decide
from deals.services.records import invoice_key

pytestmark = pytest.mark.django_db


def test_the_small_demo_walks_deals_into_every_part_of_the_pipeline():
    call_command("seed_demo", deals=40)
    stages = Counter(Deal.objects.values_list("stage", flat=True))
    assert sum(stages.values()) == 40
    assert {"lead", "documents", "approval", "collecting", "closed", "lost"} <= set(stages)
    assert len(stages) >= 8

    approver = User.objects.get(username="approver")
    pending = ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).select_related("deal")
    assert pending and all(a.deal.stage == Stage.APPROVAL for a in pending)
    assert any(may_decide(approval, approver) for approval in pending)
    lost = Deal.objects.filter(stage=Stage.LOST).annotate(n=Count("lost_reasons"))
    assert all(1 <= deal.n <= 3 for deal in lost)
    sales = User.objects.get(username="sales")
    assert Deal.objects.filter(next_action_owner=sales,
                               next_action_due__lte=timezone.localdate()).exists()  # fmt: skip

    call_command("seed_demo", deals=40)  # idempotent: nothing added, nothing broken
    assert Deal.objects.count() == 40


def test_the_large_path_writes_a_consistent_book_in_bulk():
    call_command("seed_demo", customers=20, deals=0)
    logged: list[str] = []
    # 40 customers asked for: the seeder adds the missing 20 in bulk.
    seed_deals(DemoOptions(customers=40, deals=600, receivables_per_deal=3), logged.append)

    assert Customer.objects.count() == 40
    added = list(Customer.objects.order_by("-pk")[:20])
    assert all(clearance(c).cleared for c in added)
    assert len(current_grades([c.pk for c in added])) == 20

    deals = list(Deal.objects.annotate(total=Sum("receivables__face_amount"),
                                       n=Count("receivables")))  # fmt: skip
    assert len(deals) == 600
    numbers = [deal.number for deal in deals]
    assert len(set(numbers)) == 600
    assert all(re.fullmatch(r"20(24|25|26)-\d{4,}", number) for number in numbers)
    for year, last in DealSequence.objects.values_list("year", "last"):
        assert last == max(int(n[5:]) for n in numbers if n.startswith(f"{year}-"))
    assert all(deal.n == 3 and deal.face_value == deal.total for deal in deals)
    for deal in deals:
        if deal.advance_rate is not None:
            funding = funding_breakdown(deal.face_value, deal.advance_rate, deal.fee_rate,
                                        deal.other_costs)  # fmt: skip
            assert (deal.advance_amount, deal.upfront_payment, deal.reserve) == (
                funding.advance_amount, funding.upfront_payment, funding.reserve)  # fmt: skip
        else:  # nothing is bought until the deal is priced
            assert deal.advance_amount == deal.reserve == 0
    keys = Receivable.objects.values_list("debtor_id", "invoice_key", "invoice_number")
    assert len({(debtor, key) for debtor, key, _ in keys}) == len(keys)
    assert all(key == invoice_key(number) for _, key, number in keys)

    last_move = {}
    for change in StageChange.objects.order_by("at", "pk"):
        last_move[change.deal_id] = change
    for deal in deals:
        change = last_move.get(deal.pk)
        assert (change.to_stage if change else Stage.LEAD) == deal.stage
        assert deal.stage_entered_at == (change.at if change else deal.created_at)
    # Milestones and days in stage written in bulk equal those recomputed from the log.
    written = dict(Deal.objects.values_list("pk", "first_quoted_at"))
    furthest = dict(Deal.objects.values_list("pk", "furthest_stage"))
    assert any(written.values()) and any(furthest.values())
    refresh_milestones()
    assert dict(Deal.objects.values_list("pk", "first_quoted_at")) == written
    assert dict(Deal.objects.values_list("pk", "furthest_stage")) == furthest
    for change in StageChange.objects.all():
        assert change.business_days == business_days_in_stage(change.at, change.seconds_in_stage)
    stages = Counter(deal.stage for deal in deals)
    assert stages[Stage.LOST] > stages[Stage.APPROVAL] and len(stages) >= 10
    pending = Counter(ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING)
                      .values_list("deal__stage", flat=True))  # fmt: skip
    assert pending == Counter({Stage.APPROVAL: stages[Stage.APPROVAL]})
    assert ApprovalRequest.objects.filter(status=ApprovalStatus.APPROVED).exists()

    # Open exposure is on the ledger (contracted: reserved; executed, collecting: consumed)
    # and every balance equals the sum of its entries.
    held = dict(ExposureEntry.objects.values_list("reference").annotate(
        r=Sum("reserved_change"), c=Sum("consumed_change")).values_list("reference", "r"))  # fmt: skip
    for deal in deals:
        if deal.stage == Stage.CONTRACTED:
            assert held[deal.number] == deal.advance_amount
    for exposure in Exposure.objects.all():
        as_client = ExposureEntry.objects.filter(counterparty=exposure.pk).aggregate(
            r=Sum("reserved_change", default=0), c=Sum("consumed_change", default=0))  # fmt: skip
        as_debtor = ExposureEntry.objects.filter(debtor=exposure.pk).aggregate(
            r=Sum("reserved_change", default=0), c=Sum("consumed_change", default=0))  # fmt: skip
        assert (exposure.client_reserved, exposure.client_consumed) == (
            as_client["r"],
            as_client["c"],
        )
        assert (exposure.debtor_reserved, exposure.debtor_consumed) == (
            as_debtor["r"],
            as_debtor["c"],
        )
    assert any("600" in line for line in logged)
