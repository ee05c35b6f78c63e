"""Guards added after review: dash variants in invoice numbers, the owner frozen during
approval, and a limit suspended between approval and execution blocking execution."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.exceptions import InvalidStateError
from credit.services import suspend_limits_of
from deals.choices import Stage
from deals.exceptions import DoubleSale, TransitionBlocked
from deals.services import deal_transition, deal_update, receivable_add

from .desk import Desk

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["INV−77", "INV‐77", "ＩＮＶー７７", "inv – 77"])
def test_every_dash_variant_of_a_sold_invoice_is_refused(desk: Desk, typed: str):
    debtor = desk.debtor()
    first = desk.deal(client=desk.client())
    receivable_add(deal=first, actor=desk.sales, debtor=debtor, invoice_number="INV-77",
                   issue_date=date.today(), due_date=date.today() + timedelta(days=30),
                   face_amount=100_000)  # fmt: skip
    second = desk.deal(client=desk.client())
    with pytest.raises(DoubleSale):
        receivable_add(deal=second, actor=desk.sales, debtor=debtor, invoice_number=typed,
                       issue_date=date.today(), due_date=date.today() + timedelta(days=30),
                       face_amount=100_000)  # fmt: skip


def test_the_owner_cannot_be_changed_while_the_deal_is_in_approval(desk: Desk):
    deal = desk.deal_at(Stage.APPROVAL)
    with pytest.raises(InvalidStateError):
        deal_update(deal=deal, actor=desk.sales, owner=desk.approver)


def test_a_limit_suspended_after_approval_blocks_execution(desk: Desk):
    deal = desk.deal_at(Stage.APPROVAL)
    desk.decide(deal, "approve", comment="可")
    deal.refresh_from_db()
    suspend_limits_of(deal.client, reason="支払遅延")
    deal_update(deal=deal, actor=desk.operations, **desk.paperwork(deal.client))
    with pytest.raises(TransitionBlocked) as blocked:
        deal_transition(deal=deal, actor=desk.operations, to=Stage.EXECUTED)
    assert [m["code"] for m in blocked.value.missing] == ["limits_in_force"]
