"""稟議: the level the authority matrix asks for, maker-checker, the decisions and what each
does to the deal and the exposure ledger, red limits, recorded exceptions and two-factor."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.exceptions import InvalidStateError, PermissionDeniedError
from credit.choices import EntryKind
from credit.exceptions import LimitExceeded
from credit.models import ExposureEntry
from deals.authority import required_level, risk_tier
from deals.choices import ApprovalStatus, Stage
from deals.models import ApprovalRequest, AuthorityRule
from deals.services import approval_decide, deal_create, deal_transition, may_decide
from tests.deals.desk import balances, reloaded

pytestmark = pytest.mark.django_db
M = 1_000_000


def level(amount: int, grades: list[str], status: str = "green") -> int:
    return required_level(amount, risk_tier(grades, status), status, AuthorityRule.objects.all())


# ------------------------------------------------------------------------------ the matrix


class TestAuthorityMatrix:
    @pytest.mark.parametrize(
        ("amount", "grades", "status", "expected"),
        [
            (700_000, ["A", "B"], "green", 1),
            (1_000_000, ["B", "B"], "green", 1),
            (1_000_001, ["B", "A"], "green", 2),
            (700_000, ["C", "A"], "green", 2),
            (700_000, ["B", "C"], "green", 2),
            (700_000, ["A", "A"], "yellow", 2),
            (5_000_000, ["A", "A"], "green", 2),
            (5_000_000, ["C", "A"], "yellow", 2),
            (5_000_001, ["A", "A"], "green", 3),
            (50_000_000, ["C", "A"], "green", 3),
            (300_000, ["D", "A"], "green", 3),
            (300_000, ["A", "E"], "green", 3),
            (300_000, ["A", ""], "green", 3),  # an unrated party counts as high risk
            (100_000, ["A", "A"], "red", 3),
        ],
    )
    def test_requires_the_level_of_the_amount_band_and_risk(self, amount, grades, status,
                                                            expected):  # fmt: skip
        assert level(amount, grades, status) == expected

    @pytest.mark.parametrize(
        ("grades", "status", "tier"),
        [(["A", "B"], "green", "normal"), (["C"], "green", "elevated"),
         (["A"], "yellow", "elevated"), (["D"], "green", "high"), (["E", "A"], "yellow", "high"),
         (["A"], "red", "high"), (["B"], "", "high")],
    )  # fmt: skip
    def test_takes_the_worst_of_the_grades_and_the_limit_light(self, grades, status, tier):
        assert risk_tier(grades, status) == tier

    def test_follows_an_edited_matrix(self):
        AuthorityRule.objects.filter(amount_upto=1_000_000, risk="normal").update(required_level=2)
        assert level(700_000, ["A", "A"]) == 2


class TestApprovalRequest:
    @pytest.mark.parametrize(
        ("face", "client_grade", "debtor_grade", "expected", "risk"),
        [
            (1 * M, "B", "A", 1, "normal"),  # ¥700,000
            (1_428_572, "B", "A", 1, "normal"),  # ¥1,000,000 exactly
            (1_428_573, "B", "A", 2, "normal"),  # ¥1,000,001
            (1 * M, "C", "A", 2, "elevated"),
            (1 * M, "B", "C", 2, "elevated"),
            (7_142_858, "B", "A", 2, "normal"),  # ¥5,000,000 exactly
            (7_142_860, "B", "A", 3, "normal"),  # ¥5,000,002
            (1 * M, "B", "D", 3, "high"),
            (1 * M, "E", "A", 3, "high"),
        ],
    )
    def test_asks_for_the_level_the_matrix_sets(self, desk, face, client_grade, debtor_grade,
                                                expected, risk):  # fmt: skip
        deal = desk.deal_at(Stage.APPROVAL, client=desk.client(client_grade),
                            debtors=[desk.debtor(debtor_grade)], faces=[face])  # fmt: skip
        approval = desk.pending(deal)
        assert (approval.required_level, approval.risk, approval.limit_status) == (
            expected, risk, "green")  # fmt: skip
        assert approval.amount == deal.advance_amount

    def test_treats_yellow_utilisation_as_elevated_risk(self, desk):
        # ¥700,000 under a client limit of ¥800,000 is 87.5 % used.
        deal = desk.deal_at(Stage.APPROVAL, client=desk.client(limit=800_000), faces=[1 * M])
        approval = desk.pending(deal)
        assert (approval.limit_status, approval.risk, approval.required_level) == (
            "yellow", "elevated", 2)  # fmt: skip

    def test_needs_an_executive_when_a_debtor_limit_would_be_exceeded(self, desk):
        deal = desk.deal_at(Stage.APPROVAL, debtors=[desk.debtor(limit=500_000)], faces=[1 * M])
        approval = desk.pending(deal)
        assert (approval.limit_status, approval.risk, approval.required_level) == (
            "red", "high", 3)  # fmt: skip

    def test_uses_the_edited_matrix_for_new_requests_only(self, desk):
        earlier = desk.deal_at(Stage.APPROVAL, faces=[1 * M])
        AuthorityRule.objects.filter(amount_upto=1_000_000, risk="normal").update(required_level=2)
        later = desk.deal_at(Stage.APPROVAL, faces=[1 * M])
        assert desk.pending(earlier).required_level == 1
        assert desk.pending(later).required_level == 2

    def test_counts_a_debtor_added_unrated_after_underwriting_as_high_risk(self, desk):
        deal = desk.deal_at(Stage.QUOTED, faces=[1 * M])
        desk.receivable(deal, desk.debtor(grade=None), 100_000)
        deal_transition(deal=deal, actor=desk.sales, to=Stage.APPROVAL)
        approval = desk.pending(deal)
        assert (approval.risk, approval.required_level) == ("high", 3)

    def test_freezes_a_summary_of_the_deal_when_asked(self, desk):
        debtor = desk.debtor("A")
        deal = desk.deal_at(Stage.APPROVAL, client=desk.client("B"), debtors=[debtor])
        summary = desk.pending(deal).summary
        assert summary["deal"] == deal.number
        assert summary["client"] == {"id": deal.client_id, "name": deal.client.name, "grade": "B"}
        assert summary["debtors"] == [{"id": debtor.pk, "name": debtor.name, "face": 10 * M,
                                       "invoices": 1, "grade": "A"}]  # fmt: skip
        assert summary["funding"]["advance_amount"] == 7 * M
        assert summary["funding"]["upfront_payment"] == 6_300_000
        assert summary["limit_check"]["amount"] == 7 * M
        assert summary["limit_check"]["status"] == "green"
        assert summary["clearance"][str(debtor.pk)]["cleared"] is True
        assert any("記事の例に合わせる" in risk for risk in summary["risks"])

    def test_records_who_asked(self, desk):
        deal = desk.deal_at(Stage.QUOTED)
        deal_transition(deal=deal, actor=desk.underwriter, to=Stage.APPROVAL)
        assert desk.pending(deal).requested_by == desk.underwriter


# ------------------------------------------------------------------------------ who decides


class TestMakerChecker:
    def test_refuses_the_owner_even_at_executive_level(self, desk, make_user):
        owner = make_user("sales", "approver", approval_level=3)
        deal = desk.deal_at(Stage.APPROVAL, owner=owner)
        approval = desk.pending(deal)
        assert not may_decide(approval, owner)
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve", actor=owner)
        assert desk.pending(deal).status == ApprovalStatus.PENDING

    def test_refuses_the_creator_even_at_executive_level(self, desk, make_user):
        creator = make_user("sales", "approver", approval_level=3)
        deal = desk.deal_at(Stage.APPROVAL, actor=creator)
        assert deal.created_by == creator and deal.owner == desk.sales
        assert not may_decide(desk.pending(deal), creator)
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve", actor=creator)

    def test_refuses_the_requester_even_at_executive_level(self, desk, make_user):
        requester = make_user("underwriter", "approver", approval_level=3)
        deal = desk.deal_at(Stage.QUOTED)
        deal_transition(deal=deal, actor=requester, to=Stage.APPROVAL)
        assert not may_decide(desk.pending(deal), requester)
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve", actor=requester)

    @pytest.mark.parametrize(("face", "approver_level"), [(10 * M, 2), (10 * M, 1), (2 * M, 1)])
    def test_refuses_an_approver_below_the_required_level(self, desk, make_user, face,
                                                          approver_level):  # fmt: skip
        deal = desk.deal_at(Stage.APPROVAL, faces=[face])
        approver = make_user("approver", approval_level=approver_level)
        assert not may_decide(desk.pending(deal), approver)
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve", actor=approver)
        assert reloaded(deal).stage == Stage.APPROVAL

    def test_lets_an_approver_of_exactly_the_required_level_decide(self, desk, make_user):
        deal = desk.deal_at(Stage.APPROVAL, faces=[2 * M])  # ¥1.4M: head of credit
        approver = make_user("approver", approval_level=2)
        assert may_decide(desk.pending(deal), approver)
        desk.decide(deal, "approve", actor=approver)
        assert reloaded(deal).stage == Stage.CONTRACTED

    def test_refuses_a_high_level_user_without_the_approver_role(self, desk, make_user):
        deal = desk.deal_at(Stage.APPROVAL)
        underwriter = make_user("underwriter", approval_level=3)
        assert not may_decide(desk.pending(deal), underwriter)
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve", actor=underwriter)


# ------------------------------------------------------------------------------ decisions


class TestDecisions:
    def test_approve_moves_the_deal_to_contracted_and_records_the_decision(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        approval = desk.decide(deal, "approve", comment="問題なし")
        approval.refresh_from_db()
        assert reloaded(deal).stage == Stage.CONTRACTED
        assert (approval.status, approval.decision, approval.decided_by, approval.comment) == (
            ApprovalStatus.APPROVED, "approve", desk.approver, "問題なし")  # fmt: skip
        assert approval.decided_at is not None

    @pytest.mark.parametrize("conditions", ["", "  "])
    def test_approve_with_conditions_requires_the_conditions(self, desk, conditions):
        deal = desk.deal_at(Stage.APPROVAL)
        with pytest.raises(ValidationError) as refused:
            desk.decide(deal, "conditional", conditions=conditions)
        assert "conditions" in refused.value.message_dict
        assert reloaded(deal).stage == Stage.APPROVAL

    def test_approve_with_conditions_records_them(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        desk.decide(deal, "conditional", conditions="代表者の連帯保証を取得すること")
        approval = deal.approvals.get()
        assert approval.status == ApprovalStatus.CONDITIONAL
        assert approval.conditions == "代表者の連帯保証を取得すること"
        assert reloaded(deal).stage == Stage.CONTRACTED
        assert balances(deal.client)[0] == 7 * M

    @pytest.mark.parametrize("to", [Stage.UNDERWRITING, Stage.QUOTED])
    def test_send_back_returns_the_deal_with_the_reason(self, desk, to):
        deal = desk.deal_at(Stage.APPROVAL)
        desk.decide(deal, "send_back", send_back_to=to, comment="売掛先の実在性を再確認")
        deal = reloaded(deal)
        approval = deal.approvals.get()
        assert deal.stage == to
        assert (approval.status, approval.send_back_to) == (ApprovalStatus.SENT_BACK, to)
        assert "売掛先の実在性を再確認" in deal.send_back_reasons
        assert not ExposureEntry.objects.filter(reference=deal.number).exists()

    def test_a_sent_back_deal_can_be_resubmitted_with_a_new_request(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        desk.decide(deal, "send_back", send_back_to=Stage.UNDERWRITING, comment="一回目")
        deal = desk.move(reloaded(deal), Stage.APPROVAL)
        assert deal.approvals.count() == 2
        assert desk.pending(deal).status == ApprovalStatus.PENDING
        desk.decide(deal, "send_back", send_back_to=Stage.QUOTED, comment="二回目")
        deal = desk.move(reloaded(deal), Stage.CONTRACTED)
        assert deal.approvals.count() == 3
        assert deal.send_back_reasons.splitlines()[0].endswith("一回目")
        assert deal.send_back_reasons.splitlines()[1].endswith("二回目")
        assert balances(deal.client)[0] == 7 * M  # reserved once, by the last approval

    def test_send_back_requires_a_reason(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        with pytest.raises(ValidationError) as refused:
            desk.decide(deal, "send_back", send_back_to=Stage.QUOTED)
        assert "comment" in refused.value.message_dict

    @pytest.mark.parametrize("to", ["", Stage.LEAD, Stage.SCREENING, Stage.CONTRACTED])
    def test_send_back_goes_only_to_underwriting_or_quoted(self, desk, to):
        deal = desk.deal_at(Stage.APPROVAL)
        with pytest.raises(ValidationError):
            desk.decide(deal, "send_back", send_back_to=to, comment="差戻し")
        assert reloaded(deal).stage == Stage.APPROVAL

    def test_reject_loses_the_deal_as_risk_ng(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        desk.decide(deal, "reject", comment="売掛先の信用不安")
        deal = reloaded(deal)
        assert deal.stage == Stage.LOST
        assert list(deal.lost_reasons.values_list("code", flat=True)) == ["risk_ng"]
        assert deal.lost_note == "売掛先の信用不安"
        assert deal.approvals.get().status == ApprovalStatus.REJECTED
        assert not ExposureEntry.objects.filter(reference=deal.number).exists()

    def test_reject_requires_a_reason(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        with pytest.raises(ValidationError):
            desk.decide(deal, "reject")

    def test_refuses_an_unknown_decision(self, desk):
        with pytest.raises(ValidationError):
            desk.decide(desk.deal_at(Stage.APPROVAL), "maybe", comment="?")

    def test_refuses_to_decide_twice(self, desk, make_user):
        deal = desk.deal_at(Stage.APPROVAL)
        approval = desk.decide(deal, "approve")
        with pytest.raises(InvalidStateError):
            approval_decide(approval=approval, actor=make_user("approver", approval_level=3),
                            decision="reject", comment="やはり否決")  # fmt: skip
        assert reloaded(deal).stage == Stage.CONTRACTED

    def test_refuses_to_decide_a_withdrawn_request(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        approval = desk.pending(deal)
        deal_transition(deal=deal, actor=desk.sales, to=Stage.LOST, lost_reasons=["speed"])
        with pytest.raises(InvalidStateError):
            approval_decide(approval=approval, actor=desk.approver, decision="approve")


# ------------------------------------------------------------------------------ red limits


class TestRedLimit:
    @pytest.fixture
    def red_deal(self, desk):
        # ¥700,000 of invoices owed by a debtor whose limit is ¥500,000.
        return desk.deal_at(Stage.APPROVAL, debtors=[desk.debtor(limit=500_000)], faces=[1 * M])

    def test_refuses_a_plain_approval_even_by_an_executive(self, desk, red_deal):
        with pytest.raises(LimitExceeded):
            desk.decide(red_deal, "approve")
        assert reloaded(red_deal).stage == Stage.APPROVAL
        assert desk.pending(red_deal).status == ApprovalStatus.PENDING
        assert not ExposureEntry.objects.filter(reference=red_deal.number).exists()

    def test_refuses_a_head_of_credit_even_with_conditions(self, desk, make_user, red_deal):
        with pytest.raises(PermissionDeniedError):
            desk.decide(red_deal, "conditional", conditions="担保取得",
                        actor=make_user("approver", approval_level=2))  # fmt: skip

    def test_lets_an_executive_approve_with_conditions_beyond_the_limit(self, desk, red_deal):
        desk.decide(red_deal, "conditional", conditions="売掛先の支払確認書を取得")
        debtor = red_deal.receivables.get().debtor
        assert reloaded(red_deal).stage == Stage.CONTRACTED
        assert balances(debtor)[2] == 700_000  # above the ¥500,000 limit
        entry = ExposureEntry.objects.get(reference=red_deal.number, kind=EntryKind.RESERVE)
        assert "escalated" in entry.note and "売掛先の支払確認書を取得" in entry.note

    def test_no_one_may_override_a_missing_limit(self, desk):
        deal = desk.deal_at(Stage.APPROVAL, debtors=[desk.debtor(limit=None)], faces=[1 * M])
        assert desk.pending(deal).limit_status == "red"
        with pytest.raises(LimitExceeded):
            desk.decide(deal, "conditional", conditions="例外扱い")
        assert reloaded(deal).stage == Stage.APPROVAL


# ------------------------------------------------------------------------------ exceptions


class TestRecordedExceptions:
    @pytest.fixture
    def deputy(self, make_user):
        return make_user("approver", approval_level=1)

    @pytest.fixture
    def absent(self, make_user):
        return make_user("approver", approval_level=3)

    def test_a_deputy_cannot_decide_above_their_level_without_the_exception(self, desk, deputy):
        deal = desk.deal_at(Stage.APPROVAL)
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve", actor=deputy)

    def test_proxy_approval_needs_a_reason(self, desk, deputy, absent):
        with pytest.raises(ValidationError) as refused:
            desk.decide(desk.deal_at(Stage.APPROVAL), "approve", actor=deputy,
                        exception="proxy", on_behalf_of=absent)  # fmt: skip
        assert "exception_reason" in refused.value.message_dict

    def test_proxy_approval_needs_the_absent_approver(self, desk, deputy):
        with pytest.raises(ValidationError) as refused:
            desk.decide(desk.deal_at(Stage.APPROVAL), "approve", actor=deputy,
                        exception="proxy", exception_reason="出張中")  # fmt: skip
        assert "on_behalf_of" in refused.value.message_dict

    def test_proxy_approval_needs_an_absent_approver_of_sufficient_level(self, desk, deputy,
                                                                         make_user):  # fmt: skip
        with pytest.raises(PermissionDeniedError):
            desk.decide(desk.deal_at(Stage.APPROVAL), "approve", actor=deputy, exception="proxy",
                        exception_reason="出張中",
                        on_behalf_of=make_user("approver", approval_level=2))  # fmt: skip

    def test_proxy_approval_cannot_borrow_authority_from_a_non_approver(self, desk, deputy,
                                                                        make_user):  # fmt: skip
        with pytest.raises(PermissionDeniedError):
            desk.decide(desk.deal_at(Stage.APPROVAL), "approve", actor=deputy, exception="proxy",
                        exception_reason="出張中",
                        on_behalf_of=make_user("underwriter", approval_level=3))  # fmt: skip

    def test_proxy_approval_cannot_be_on_behalf_of_the_maker(self, desk, deputy, make_user):
        owner = make_user("sales", "approver", approval_level=3)
        deal = desk.deal_at(Stage.APPROVAL, owner=owner)
        with pytest.raises(ValidationError):
            desk.decide(deal, "approve", actor=deputy, exception="proxy",
                        exception_reason="出張中", on_behalf_of=owner)  # fmt: skip

    def test_records_a_proxy_approval_with_its_reason_and_principal(self, desk, deputy, absent):
        deal = desk.deal_at(Stage.APPROVAL)
        desk.decide(deal, "approve", actor=deputy, exception="proxy",
                    exception_reason="常務出張中のため代理決裁", on_behalf_of=absent)  # fmt: skip
        approval = deal.approvals.get()
        assert (approval.status, approval.decided_by, approval.on_behalf_of) == (
            ApprovalStatus.APPROVED, deputy, absent)  # fmt: skip
        assert (approval.exception, approval.exception_reason) == (
            "proxy", "常務出張中のため代理決裁")  # fmt: skip
        assert reloaded(deal).stage == Stage.CONTRACTED

    def test_after_the_fact_approval_needs_a_reason(self, desk):
        with pytest.raises(ValidationError):
            desk.decide(desk.deal_at(Stage.APPROVAL), "approve", exception="after_the_fact")

    def test_records_an_after_the_fact_approval(self, desk, absent):
        deal = desk.deal_at(Stage.APPROVAL)
        desk.decide(deal, "approve", exception="after_the_fact",
                    exception_reason="実行期限に間に合わせるため口頭承認済み",
                    on_behalf_of=absent)  # fmt: skip
        approval = deal.approvals.get()
        assert approval.exception == "after_the_fact"
        assert approval.exception_reason == "実行期限に間に合わせるため口頭承認済み"
        assert approval.on_behalf_of is None  # only a proxy names a principal

    def test_refuses_an_exception_the_service_does_not_know(self, desk):
        with pytest.raises(ValidationError):
            desk.decide(desk.deal_at(Stage.APPROVAL), "approve", exception="verbal",
                        exception_reason="口頭で")  # fmt: skip


class TestTwoFactor:
    def test_refuses_an_approver_who_has_not_passed_two_factor(self, desk, settings):
        settings.OTP_REQUIRED = True
        deal = desk.deal_at(Stage.APPROVAL)
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve")  # a user loaded from the database has no is_verified
        desk.approver.is_verified = lambda: False
        with pytest.raises(PermissionDeniedError):
            desk.decide(deal, "approve")
        assert reloaded(deal).stage == Stage.APPROVAL

    def test_lets_a_verified_approver_decide(self, desk, settings):
        settings.OTP_REQUIRED = True
        deal = desk.deal_at(Stage.APPROVAL)
        desk.approver.is_verified = lambda: True
        desk.decide(deal, "approve")
        assert reloaded(deal).stage == Stage.CONTRACTED


def test_an_approval_of_a_deal_created_elsewhere_names_the_creator_as_maker(desk, make_user):
    """Owner reassigned after creation: both the old creator and the new owner are makers."""
    creator = make_user("sales", "approver", approval_level=3)
    deal = deal_create(actor=creator, client=desk.client(), name="移管案件", channel="web",
                       scheme="two_party", owner=desk.sales)  # fmt: skip
    approval = ApprovalRequest(deal=deal, required_level=1, requested_by=desk.underwriter,
                               amount=0, risk="normal", limit_status="green")  # fmt: skip
    assert not may_decide(approval, creator)
    assert not may_decide(approval, desk.sales)
    assert may_decide(approval, desk.approver)
