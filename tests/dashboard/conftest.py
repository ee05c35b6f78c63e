"""Dashboard fixtures: a manager, and a small hand-built book with known answers.

``dashboard_world`` (May 2026, today Friday 29 May; the previous period is April):

- executed in May: 9 deals, ¥16,000,000 paid out, ¥800,000 fees (¥88,888 per deal); lead
  times 3 (28 Apr → 7 May across Golden Week), 7, 1 and 6 × 2 bank business days: 2.6 on
  average. April: one deal, ¥4,000,000, fees ¥200,000, 7 days.
- quoted for the first time in May: 24 deals, 9 of them executed (37.5 %), 5 lost (reasons
  price ×3, speed ×2, competitor ×1); 32 new deals in May → quote rate 75 %.
- today: 9 leads, 6 quoted (4 stalled), 4 in approval (1 stalled) → bottleneck: quoted.
- collections due in May before today: 5, of which 4 delayed (0.8000), 2 + 17 + 5 business
  days late over 3 timed rows (8.0), 1 repurchased (0.2000); overdue today: one row of
  ¥1,000,000 in the 4–30 bucket, debtor A; debtor D (rated D) is red on its limit.
- expected loss: ¥1,000,000 on A × 0.5 % × 45 % = ¥2,250; ¥2,000,000 on D × 10 % × 45 % =
  ¥90,000; total ¥92,250.
- forecast for May: 2 quoted × ¥1,000,000 at 50 %, 1 approval ¥2,000,000 at 70 %, executed
  ¥16,000,000 at 100 %: unweighted ¥20,000,000, weighted ¥18,400,000.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import factory
import pytest

from collection.models import CollectionStatus
from credit.models import Exposure
from dashboard.filters import DashboardFilters, Period
from deals.models import LostReason
from tests.factories import CreditLimitFactory, CustomerFactory, DealFactory, RatingFactory

from .factories import ExpectedCollectionFactory, RepurchaseFactory, at, history

TODAY = date(2026, 5, 29)
MAY = Period.month(TODAY)
M = 1_000_000


class ExposureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exposure


@pytest.fixture
def manager(make_user):
    """Return a user holding the manager role (view_kpi_dashboard)."""
    return make_user("manager", username="kpi-manager")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    client.user = manager
    return client


@pytest.fixture
def dashboard_world(db, make_user) -> SimpleNamespace:
    """Return the hand-built book described in this module's docstring."""
    owner_a = make_user("sales", username="owner-a", department="営業1部")
    owner_b = make_user("sales", username="owner-b", department="営業2部")
    retail = CustomerFactory(industry="I")
    maker = CustomerFactory(industry="E")
    debtor_a = CustomerFactory(is_client=False, is_debtor=True)
    debtor_d = CustomerFactory(is_client=False, is_debtor=True)
    RatingFactory(counterparty=debtor_a, grade="A")
    RatingFactory(counterparty=debtor_d, grade="D")
    CreditLimitFactory(counterparty=debtor_d, kind="debtor", amount=1 * M)
    ExposureFactory(counterparty=debtor_d, debtor_consumed=2 * M)

    def deal(created: date, stage: str, **fields):
        fields.setdefault("owner", owner_a)
        fields.setdefault("client", retail)
        fields.setdefault("department", fields["owner"].department)
        fields.setdefault("stage_entered_at", at(TODAY))
        return DealFactory(created_at=at(created, 9), stage=stage, **fields)

    def executed(created: date, on: date, amount: int, fee: int, quoted: date, **fields):
        fields.setdefault("advance_amount", amount)
        d = deal(created, "executed", executed_on=on, executed_amount=amount, fee=fee,
                 upfront_payment=amount, face_value=amount + fee, **fields)  # fmt: skip
        history(d, [("documents", at(created, 11)), ("screening", at(created, 12)),
                    ("underwriting", at(created, 13)), ("quoted", at(quoted, 14)),
                    ("approval", at(quoted, 15)), ("contracted", at(quoted, 16)),
                    ("executed", at(on, 17))])  # fmt: skip
        return d

    # Executed in May (won: quoted in May too).
    e1 = executed(date(2026, 4, 28), date(2026, 5, 7), 3 * M, 150_000, date(2026, 5, 1),
                  channel="referral")  # fmt: skip
    e2 = executed(date(2026, 5, 1), date(2026, 5, 15), 5 * M, 250_000, date(2026, 5, 12),
                  client=maker, owner=owner_b)  # fmt: skip
    e3 = executed(date(2026, 5, 11), date(2026, 5, 12), 2 * M, 100_000, date(2026, 5, 11))
    small = [
        executed(
            date(2026, 5, 18),
            date(2026, 5, 20),
            1 * M,
            50_000,
            date(2026, 5, 19),
            advance_amount=500_000,
        )
        for _ in range(6)
    ]
    # Executed in April.
    e0 = executed(date(2026, 4, 1), date(2026, 4, 10), 4 * M, 200_000, date(2026, 4, 3))
    # Lost in May after being quoted in May.
    reasons = {r.code: r for r in LostReason.objects.all()}
    lost = []
    for codes in (["price"], ["price", "speed"], ["price"], ["competitor"], ["speed"]):
        d = deal(date(2026, 5, 7), "lost", channel="advert")
        history(d, [("documents", at(date(2026, 5, 7), 11)),
                    ("screening", at(date(2026, 5, 7), 12)),
                    ("underwriting", at(date(2026, 5, 7), 13)),
                    ("quoted", at(date(2026, 5, 8))), ("lost", at(date(2026, 5, 20)))])  # fmt: skip
        d.lost_reasons.set([reasons[c] for c in codes])
        lost.append(d)
    # Open, quoted in May: 6 in quoted (4 stalled since 20 April… in stage), 4 in approval.
    open_quoted = []
    for i in range(6):
        entered = at(date(2026, 5, 8)) if i < 4 else at(TODAY)
        d = deal(date(2026, 5, 7), "quoted", stage_entered_at=entered,
                 expected_payment_date=date(2026, 5, 30) if i < 2 else date(2026, 6, 15),
                 upfront_payment=1 * M, advance_amount=1 * M, face_value=1_200_000)  # fmt: skip
        history(d, [("documents", at(date(2026, 5, 7), 11)),
                    ("screening", at(date(2026, 5, 7), 12)),
                    ("underwriting", at(date(2026, 5, 7), 13)), ("quoted", entered)])  # fmt: skip
        open_quoted.append(d)
    approval = []
    for i in range(4):
        entered = at(date(2026, 5, 20)) if i == 0 else at(TODAY)
        d = deal(date(2026, 5, 7), "approval", stage_entered_at=entered,
                 expected_payment_date=date(2026, 5, 31) if i == 0 else None,
                 upfront_payment=2 * M if i == 0 else 0, advance_amount=2 * M)  # fmt: skip
        history(d, [("documents", at(date(2026, 5, 7), 11)),
                    ("screening", at(date(2026, 5, 7), 12)),
                    ("underwriting", at(date(2026, 5, 7), 13)),
                    ("quoted", at(date(2026, 5, 8))), ("approval", entered)])  # fmt: skip
        approval.append(d)
    leads = [deal(date(2026, 5, 25), "lead", channel="advert") for _ in range(9)]

    # Collections.
    def due(deal_, day, debtor=debtor_a, **fields):
        return ExpectedCollectionFactory(deal=deal_, debtor=debtor, due_date=day, **fields)

    c1 = due(e1, date(2026, 5, 8), status=CollectionStatus.PAID, paid_amount=M,
             paid_on=date(2026, 5, 8))  # fmt: skip
    c2 = due(e1, date(2026, 5, 8), status=CollectionStatus.PAID, paid_amount=M,
             paid_on=date(2026, 5, 12))  # fmt: skip
    c3 = due(e2, date(2026, 5, 1), status=CollectionStatus.OVERDUE)
    c4 = due(e2, date(2026, 5, 15), status=CollectionStatus.REPURCHASED)
    RepurchaseFactory(expected=c4, status="settled", settled_on=date(2026, 5, 22))
    c5 = due(e3, date(2026, 5, 20), status=CollectionStatus.WRITTEN_OFF)
    c6 = due(e3, date(2026, 6, 15), debtor=debtor_d, expected_amount=2 * M)
    c0 = due(e0, date(2026, 4, 10), status=CollectionStatus.PAID, paid_amount=M,
             paid_on=date(2026, 4, 10))  # fmt: skip

    return SimpleNamespace(
        today=TODAY, period=MAY, filters=DashboardFilters(period=MAY),
        owners=(owner_a, owner_b), retail=retail, maker=maker, debtor_a=debtor_a,
        debtor_d=debtor_d, executed=[e1, e2, e3, *small], april=e0, lost=lost,
        open_quoted=open_quoted, approval=approval, leads=leads,
        collections=[c1, c2, c3, c4, c5, c6], april_collection=c0,
    )  # fmt: skip
