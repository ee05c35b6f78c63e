"""A deal from lead to executed through the services, with the evidence each stage leaves."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from credit.models import Exposure
from deals.choices import ApprovalStatus, Stage
from deals.exceptions import TransitionBlocked
from deals.models import StageChange
from deals.services import (
    approval_decide,
    deal_check_credit,
    deal_create,
    deal_price,
    deal_transition,
    deal_update,
    receivable_add,
)
from tests.factories import BankAccountFactory, CustomerFactory, cleared, creditworthy

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def cast(make_user):
    return {
        "sales": make_user("sales"),
        "underwriter": make_user("underwriter"),
        "operations": make_user("operations"),
        "approver": make_user("approver", approval_level=3),
    }


def _parties():
    client = creditworthy(cleared(CustomerFactory()), grade="B")
    debtor = creditworthy(cleared(CustomerFactory(is_client=False, is_debtor=True)),
                          grade="A", kind="debtor")  # fmt: skip
    return client, debtor


def test_a_deal_travels_from_lead_to_executed(cast):
    client, debtor = _parties()
    sales, underwriter = cast["sales"], cast["underwriter"]
    deal = deal_create(actor=sales, client=client, name="3月分請求書の買取", channel="web",
                       scheme="two_party", registration_required=True)  # fmt: skip
    assert deal.number == f"{TODAY.year}-0001" and deal.stage == Stage.LEAD

    with pytest.raises(TransitionBlocked) as blocked:
        deal_transition(deal=deal, actor=sales, to=Stage.DOCUMENTS)
    assert [m["code"] for m in blocked.value.missing] == ["next_action"]

    deal_update(deal=deal, actor=sales, next_action="書類回収", next_action_owner=sales,
                next_action_due=TODAY + timedelta(days=3))  # fmt: skip
    deal_transition(deal=deal, actor=sales, to=Stage.DOCUMENTS)
    receivable_add(deal=deal, actor=sales, debtor=debtor, invoice_number="A-100",
                   issue_date=TODAY - timedelta(days=5), due_date=TODAY + timedelta(days=55),
                   face_amount=10_000_000, evidence_received=True,
                   verification_method="debtor_call")  # fmt: skip
    deal_transition(deal=deal, actor=sales, to=Stage.SCREENING)
    deal_transition(deal=deal, actor=sales, to=Stage.UNDERWRITING)
    deal.refresh_from_db()
    assert deal.clearance_snapshot[str(client.pk)]["cleared"] is True

    deal_price(deal=deal, actor=underwriter, fee_rate=Decimal("0.1000"),
               advance_override=Decimal("0.7000"), override_reason="記事の例に合わせる")  # fmt: skip
    deal_check_credit(deal=deal, actor=underwriter)
    deal.refresh_from_db()
    assert (deal.advance_amount, deal.fee, deal.upfront_payment, deal.reserve) == (
        7_000_000, 700_000, 6_300_000, 3_000_000)  # fmt: skip
    assert deal.total_to_client == 9_300_000 and deal.policy_version == 1
    deal_transition(deal=deal, actor=underwriter, to=Stage.QUOTED)

    deal_update(deal=deal, actor=sales, term_sheet_date=TODAY,
                expected_payment_date=TODAY + timedelta(days=7),
                expected_collection_date=TODAY + timedelta(days=55),
                memo_background="継続取引", memo_judgement="売掛先A格", memo_next="契約準備")  # fmt: skip
    deal_transition(deal=deal, actor=sales, to=Stage.APPROVAL)
    approval = deal.approvals.get()
    assert approval.required_level == 3  # ¥7M is above the head of credit's ¥5M band
    assert approval.summary["funding"]["total_to_client"] == 9_300_000

    approval_decide(approval=approval, actor=cast["approver"], decision="approve",
                    comment="承認")  # fmt: skip
    deal.refresh_from_db()
    approval.refresh_from_db()
    assert deal.stage == Stage.CONTRACTED and approval.status == ApprovalStatus.APPROVED
    assert Exposure.objects.get(pk=client.pk).client_reserved == 7_000_000

    account = BankAccountFactory(customer=client, verification="test_deposit")
    ops = cast["operations"]
    with pytest.raises(TransitionBlocked) as blocked:
        deal_transition(deal=deal, actor=ops, to=Stage.EXECUTED)
    assert {m["code"] for m in blocked.value.missing} == {
        "contract", "registration", "remittance", "execution"}  # fmt: skip
    deal_update(deal=deal, actor=ops, contract_date=TODAY, e_contract_id="CS-1",
                registration_applied_on=TODAY, registration_completed_at=deal.created_at,
                registration_number="第2026-123号", remittance_account=account,
                executed_on=TODAY, executed_amount=6_300_000)  # fmt: skip
    deal_transition(deal=deal, actor=ops, to=Stage.EXECUTED)
    exposure = Exposure.objects.get(pk=client.pk)
    assert (exposure.client_reserved, exposure.client_consumed) == (0, 7_000_000)
    stages = list(StageChange.objects.filter(deal=deal).values_list("to_stage", flat=True))
    assert stages == ["documents", "screening", "underwriting", "quoted", "approval",
                      "contracted", "executed"]  # fmt: skip
