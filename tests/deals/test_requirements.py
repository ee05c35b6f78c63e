"""The stage requirements table (DESIGN §5): a deal missing any requirement of its stage stays
where it is, and the guard, the checklist (``facts.missing``) and ``available_transitions``
name exactly the same missing codes, because one table drives all three.

Each case takes a deal that meets every requirement (``Desk.deal``) to a stage and removes one
thing; the expected codes are listed in the table's order.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.models import KycRecord
from core.exceptions import InvalidStateError
from customers.models import Customer
from deals.choices import Stage
from deals.exceptions import TransitionBlocked
from deals.facts import checklist, missing
from deals.models import Deal
from deals.requirements import REQUIREMENTS, fields_for, requirements_for
from deals.services import (
    available_transitions,
    deal_check_credit,
    deal_transition,
    deal_update,
    next_stage,
    receivable_remove,
    receivable_update,
)
from tests.deals.desk import Desk, codes, reloaded
from tests.factories import BankAccountFactory, KycRecordFactory

pytestmark = pytest.mark.django_db


def assert_blocked(desk: Desk, deal: Deal, expected: list[str]) -> None:
    """Assert the guard refuses the forward move naming ``expected``, and that the checklist
    and the offered transitions say the same."""
    deal = reloaded(deal)
    stage = deal.stage
    with pytest.raises(TransitionBlocked) as blocked:
        deal_transition(deal=deal, actor=desk.sales, to=next_stage(stage))
    assert codes(blocked.value.missing) == expected
    assert codes(missing(deal)) == expected
    assert [c.code for c in checklist(deal) if not c.met] == expected
    forward = available_transitions(deal)[0]
    assert forward["to"] == next_stage(stage) and forward["allowed"] is False
    assert codes(forward["missing"]) == expected
    assert reloaded(deal).stage == stage


def assert_passes(desk: Desk, deal: Deal) -> None:
    deal = reloaded(deal)
    stage = deal.stage
    assert missing(deal) == []
    assert available_transitions(deal)[0]["allowed"] is True
    deal_transition(deal=deal, actor=desk.operations, to=next_stage(stage))
    assert reloaded(deal).stage == next_stage(stage)


# ------------------------------------------------------------------------------ the cases
# Each arranges a deal sitting in the stage, with exactly one thing taken away.


def _lead_client_not_a_client(desk):
    deal = desk.deal()
    Customer.objects.filter(pk=deal.client_id).update(is_client=False)
    return deal


def _lead_referral_without_person(desk):
    return desk.deal(channel="referral", referrer_company="みずほ銀行 渋谷支店")


def _lead_referral_without_company(desk):
    return desk.deal(channel="referral", referrer_person="佐藤")


def _lead_advert_without_campaign(desk):
    return desk.deal(channel="advert")


def _lead_no_next_action(desk):
    return desk.deal(next_action="")


def _lead_no_next_action_owner(desk):
    return desk.deal(next_action_owner=None)


def _lead_no_next_action_due(desk):
    return desk.deal(next_action_due=None)


def _documents_no_receivables(desk):
    deal = desk.deal_at(Stage.DOCUMENTS)
    for receivable in deal.receivables.all():
        receivable_remove(receivable=receivable, actor=desk.sales)
    return deal


def _documents_evidence_missing(desk):
    deal = desk.deal_at(Stage.DOCUMENTS, debtors=[desk.debtor(), desk.debtor()])
    receivable_update(receivable=deal.receivables.last(), actor=desk.sales,
                      evidence_received=False)  # fmt: skip
    return deal


def _documents_existence_unverified(desk):
    deal = desk.deal_at(Stage.DOCUMENTS)
    receivable_update(receivable=deal.receivables.get(), actor=desk.sales, verification_method="")
    return deal


def _screening_client_without_kyc(desk):
    return desk.deal_at(Stage.SCREENING, client=desk.client(kyc=False))


def _screening_one_debtor_without_kyc(desk):
    debtors = [desk.debtor(), desk.debtor(kyc=False)]
    return desk.deal_at(Stage.SCREENING, debtors=debtors)


def _screening_nobody_cleared(desk):
    return desk.deal_at(Stage.SCREENING, client=desk.client(kyc=False),
                        debtors=[desk.debtor(kyc=False)])  # fmt: skip


def _screening_client_kyc_failed(desk):
    client = desk.client()
    KycRecordFactory(customer=client, result="failed",
                     verified_on=timezone.localdate() + timedelta(days=1))  # fmt: skip
    return desk.deal_at(Stage.SCREENING, client=client)


def _underwriting_client_unrated(desk):
    return desk.deal_at(Stage.UNDERWRITING, client=desk.client(grade=None))


def _underwriting_debtor_unrated(desk):
    # Pricing needs every debtor's grade too; the check of the unpriced (zero) amount is done.
    debtors = [desk.debtor(), desk.debtor(grade=None)]
    return desk.deal_at(Stage.UNDERWRITING, debtors=debtors, priced=False)


def _underwriting_unpriced(desk):
    return desk.deal_at(Stage.UNDERWRITING, priced=False)


def _underwriting_unpriced_unchecked(desk):
    return desk.deal_at(Stage.UNDERWRITING, priced=False, checked=False)


def _underwriting_override_without_reason(desk):
    deal = desk.deal_at(Stage.UNDERWRITING)
    # Only data from outside the services can lack it: deal_price insists on a reason.
    Deal.objects.filter(pk=deal.pk).update(advance_override_reason="")
    return deal


def _underwriting_never_checked(desk):
    return desk.deal_at(Stage.UNDERWRITING, checked=False)


def _underwriting_repriced_after_check(desk):
    deal = desk.deal_at(Stage.UNDERWRITING)
    desk.price(deal, rate=None)  # the policy's 72 % instead of the 70 % checked
    return deal


def _underwriting_receivable_added_after_check(desk):
    deal = desk.deal_at(Stage.UNDERWRITING)
    desk.receivable(deal, deal.receivables.get().debtor, 1_000_000)
    return deal


def _quoted_no_term_sheet(desk):
    deal = desk.deal_at(Stage.QUOTED)
    deal_update(deal=deal, actor=desk.sales, term_sheet_date=None)
    return deal


def _quoted_no_expected_collection(desk):
    deal = desk.deal_at(Stage.QUOTED)
    deal_update(deal=deal, actor=desk.sales, expected_collection_date=None)
    return deal


def _quoted_no_expected_payment(desk):
    deal = desk.deal_at(Stage.QUOTED)
    deal_update(deal=deal, actor=desk.sales, expected_payment_date=None)
    return deal


def _quoted_memo_incomplete(desk):
    deal = desk.deal_at(Stage.QUOTED)
    deal_update(deal=deal, actor=desk.sales, memo_judgement="")
    return deal


def _contracted(options: dict | None = None, **changes):
    """Return an arrangement: a contracted deal (built with ``options``), then ``changes``
    (a callable value is called with the deal)."""

    def arrange(desk):
        deal = desk.deal_at(Stage.CONTRACTED, **(options or {}))
        values = {k: v(deal) if callable(v) else v for k, v in changes.items()}
        deal_update(deal=deal, actor=desk.operations, **values)
        return deal

    return arrange


def _unverified_account(deal):
    return BankAccountFactory(customer=deal.client)


def _failed_account(deal):
    return BankAccountFactory(customer=deal.client, verification="failed")


def _closed_account(deal):
    return BankAccountFactory(customer=deal.client, verification="document", is_active=False)


def _debtors_account(deal):
    return BankAccountFactory(customer=deal.receivables.get().debtor, verification="test_deposit")


def _contracted_debtor_kyc_expired(desk):
    deal = desk.deal_at(Stage.CONTRACTED)
    debtor = deal.receivables.get().debtor
    KycRecord.objects.filter(customer=debtor).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    return deal


def _contracted_debtor_kyc_removed(desk):
    deal = desk.deal_at(Stage.CONTRACTED)
    KycRecord.objects.filter(customer=deal.receivables.get().debtor).delete()
    return deal


def _contracted_client_kyc_failed_on_review(desk):
    deal = desk.deal_at(Stage.CONTRACTED)
    KycRecordFactory(customer=deal.client, result="failed",
                     verified_on=timezone.localdate() + timedelta(days=1))  # fmt: skip
    return deal


CASES = [
    (_lead_client_not_a_client, ["client"]),
    (_lead_referral_without_person, ["channel"]),
    (_lead_referral_without_company, ["channel"]),
    (_lead_advert_without_campaign, ["channel"]),
    (_lead_no_next_action, ["next_action"]),
    (_lead_no_next_action_owner, ["next_action"]),
    (_lead_no_next_action_due, ["next_action"]),
    (_documents_no_receivables, ["receivables", "evidence", "existence"]),
    (_documents_evidence_missing, ["evidence"]),
    (_documents_existence_unverified, ["existence"]),
    (_screening_client_without_kyc, ["client_cleared"]),
    (_screening_one_debtor_without_kyc, ["debtors_cleared"]),
    (_screening_nobody_cleared, ["client_cleared", "debtors_cleared"]),
    (_screening_client_kyc_failed, ["client_cleared"]),
    (_underwriting_client_unrated, ["ratings"]),
    (_underwriting_debtor_unrated, ["ratings", "pricing"]),
    (_underwriting_unpriced, ["pricing"]),
    (_underwriting_unpriced_unchecked, ["pricing", "limit_checked"]),
    (_underwriting_override_without_reason, ["override_reason"]),
    (_underwriting_never_checked, ["limit_checked"]),
    (_underwriting_repriced_after_check, ["limit_checked"]),
    (_underwriting_receivable_added_after_check, ["limit_checked"]),
    (_quoted_no_term_sheet, ["term_sheet"]),
    (_quoted_no_expected_payment, ["expected_dates"]),
    (_quoted_no_expected_collection, ["expected_dates"]),
    (_quoted_memo_incomplete, ["memo"]),
    pytest.param(_contracted(e_contract_id=""), ["contract"], id="contract_id"),
    pytest.param(_contracted(contract_date=None), ["contract"], id="contract_date"),
    pytest.param(
        _contracted({"registration_required": True}, registration_number=""),
        ["registration"],
        id="registration_number",
    ),
    pytest.param(
        _contracted({"registration_required": True}, registration_completed_at=None),
        ["registration"],
        id="registration_not_completed",
    ),
    pytest.param(
        _contracted({"scheme": "three_party"}, consent_signatory=""),
        ["consent"],
        id="three_party_consent",
    ),
    pytest.param(
        _contracted({"notice_required": True}, notice_reference=""),
        ["consent"],
        id="notice_required_consent",
    ),
    pytest.param(
        _contracted(remittance_account=_unverified_account), ["remittance"], id="unverified_account"
    ),
    pytest.param(
        _contracted(remittance_account=_failed_account), ["remittance"], id="failed_account"
    ),
    pytest.param(
        _contracted(remittance_account=_closed_account), ["remittance"], id="inactive_account"
    ),
    pytest.param(
        _contracted(remittance_account=_debtors_account), ["remittance"], id="debtors_account"
    ),
    pytest.param(_contracted(remittance_account=None), ["remittance"], id="no_account"),
    pytest.param(_contracted(executed_amount=None), ["execution"], id="executed_amount"),
    pytest.param(_contracted(executed_on=None), ["execution"], id="executed_on"),
    (_contracted_debtor_kyc_expired, ["clearance_recheck"]),
    (_contracted_debtor_kyc_removed, ["clearance_recheck"]),
    (_contracted_client_kyc_failed_on_review, ["clearance_recheck"]),
]


def _id(case) -> str:
    return case.__name__.lstrip("_") if callable(case) else str(case)


class TestEveryStageRequirement:
    @pytest.mark.parametrize(("arrange", "expected"), CASES, ids=_id)
    def test_blocks_the_move_naming_exactly_what_is_missing(self, desk, arrange, expected):
        assert_blocked(desk, arrange(desk), expected)

    @pytest.mark.parametrize(
        "stage",
        [Stage.LEAD, Stage.DOCUMENTS, Stage.SCREENING, Stage.UNDERWRITING, Stage.QUOTED,
         Stage.CONTRACTED],
    )  # fmt: skip
    def test_lets_a_complete_deal_leave_every_stage(self, desk, stage):
        assert_passes(desk, desk.deal_at(stage))

    def test_waits_in_approval_for_the_decision(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        assert codes(missing(deal)) == ["approved"]
        assert [m["to"] for m in available_transitions(deal)] == [Stage.LOST, Stage.CANCELLED]
        with pytest.raises(InvalidStateError):
            deal_transition(deal=deal, actor=desk.sales, to=Stage.CONTRACTED)

    def test_names_every_gap_of_the_stage_at_once(self, desk):
        deal = desk.deal(channel="advert", next_action="")
        Customer.objects.filter(pk=deal.client_id).update(is_client=False)
        assert_blocked(desk, deal, ["client", "channel", "next_action"])

    def test_moves_on_once_the_missing_requirement_is_met(self, desk):
        deal = _underwriting_repriced_after_check(desk)
        deal_check_credit(deal=deal, actor=desk.underwriter)
        assert_passes(desk, deal)


class TestChannelDetails:
    @pytest.mark.parametrize(
        ("channel", "details"),
        [("referral", {"referrer_company": "税理士法人ミライ", "referrer_person": "佐藤"}),
         ("advert", {"campaign": "2026春 リスティング"}), ("web", {}), ("existing", {})],
    )  # fmt: skip
    def test_accepts_a_channel_with_the_details_it_needs(self, desk, channel, details):
        assert_passes(desk, desk.deal(channel=channel, **details))


class TestConditionalRequirements:
    def test_asks_for_registration_only_when_it_is_required(self, desk):
        deal = _contracted(registration_applied_on=None, registration_completed_at=None,
                           registration_number="")(desk)  # fmt: skip
        assert "registration" not in [r.code for r in requirements_for(Stage.CONTRACTED, deal)]
        assert_passes(desk, deal)

    def test_asks_for_consent_only_for_three_party_or_a_required_notice(self, desk):
        deal = _contracted(notice_date=None, notice_method="", notice_reference="",
                           consent_signatory="")(desk)  # fmt: skip
        assert deal.scheme == "two_party" and not deal.notice_required
        assert_passes(desk, deal)

    @pytest.mark.parametrize(
        ("scheme", "notice", "registration", "expected"),
        [("two_party", False, False, set()), ("two_party", False, True, {"registration"}),
         ("two_party", True, False, {"consent"}), ("three_party", False, False, {"consent"}),
         ("three_party", True, True, {"consent", "registration"})],
    )  # fmt: skip
    def test_applies_the_conditional_rows_from_the_deal(self, scheme, notice, registration,
                                                        expected):  # fmt: skip
        deal = Deal(scheme=scheme, notice_required=notice, registration_required=registration)
        applied = {r.code for r in requirements_for(Stage.CONTRACTED, deal)}
        assert applied & {"consent", "registration"} == expected
        fields = fields_for(Stage.CONTRACTED, deal)
        assert ("consent_signatory" in fields) == ("consent" in expected)
        assert ("registration_number" in fields) == ("registration" in expected)


class TestGates:
    def test_refuses_screening_when_the_client_is_not_cleared(self, desk):
        assert_blocked(desk, _screening_client_without_kyc(desk), ["client_cleared"])

    def test_names_the_debtor_that_is_not_cleared_in_the_clearance_snapshot(self, desk):
        from deals.services import deal_check_clearance

        cleared, uncleared = desk.debtor(), desk.debtor(kyc=False)
        deal = desk.deal_at(Stage.SCREENING, debtors=[cleared, uncleared])
        snapshot = deal_check_clearance(deal=deal, actor=desk.sales)
        assert snapshot[str(cleared.pk)]["cleared"] is True
        assert snapshot[str(uncleared.pk)]["cleared"] is False
        assert snapshot[str(uncleared.pk)]["name"] == uncleared.name
        assert snapshot[str(uncleared.pk)]["reasons"]

    def test_rechecks_clearance_at_execution_after_approval(self, desk):
        deal = _contracted_debtor_kyc_expired(desk)
        assert_blocked(desk, deal, ["clearance_recheck"])
        # A renewed KYC clears the way again.
        KycRecordFactory(customer=deal.receivables.get().debtor,
                         verified_on=timezone.localdate() + timedelta(days=1))  # fmt: skip
        assert_passes(desk, deal)

    def test_does_not_ask_compliance_when_the_stage_has_no_gate(self, desk):
        deal = desk.deal(client=desk.client(kyc=False))
        assert_passes(desk, deal)  # clearance is the screening stage's business


class TestTheTable:
    def test_declares_each_requirement_once_for_a_pipeline_stage(self):
        all_codes = [r.code for r in REQUIREMENTS]
        assert len(all_codes) == len(set(all_codes))
        stages = {r.stage for r in REQUIREMENTS}
        assert stages == {Stage.LEAD, Stage.DOCUMENTS, Stage.SCREENING, Stage.UNDERWRITING,
                          Stage.QUOTED, Stage.APPROVAL, Stage.CONTRACTED}  # fmt: skip

    def test_lists_the_fields_a_user_fills_in_at_a_stage(self):
        deal = Deal(scheme="two_party")
        assert fields_for(Stage.QUOTED, deal) == [
            "term_sheet_date", "expected_payment_date", "expected_collection_date",
            "memo_background", "memo_judgement", "memo_next"]  # fmt: skip
        assert "referrer_company" in fields_for(Stage.LEAD, deal)

    def test_gives_every_check_a_label_for_the_checklist(self, desk):
        deal = desk.deal()
        items = checklist(deal)
        assert [c.code for c in items] == ["client", "channel", "next_action"]
        assert all(c.met and c.label for c in items)
