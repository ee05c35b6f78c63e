"""Moving deals through the pipeline: which moves exist, lost and cancelled, the exposure each
move posts, and the history every move leaves.

The ``desk`` fixture (``tests.deals.desk.Desk``) builds parties and deals through the real
services: a deal from ``Desk.deal`` has every stage's paperwork filled in, is priced and
credit-checked, so ``Desk.move`` can take it to any stage and a test then removes exactly the
one thing it is about.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.exceptions import InvalidStateError, PermissionDeniedError
from core.models import AuditEvent
from credit.choices import EntryKind
from credit.models import ExposureEntry
from customers.models import Customer
from deals.choices import PIPELINE, ApprovalStatus, Stage
from deals.exceptions import TransitionBlocked
from deals.models import ApprovalRequest, Deal, LostReason, StageChange
from deals.services import (
    available_transitions,
    deal_transition,
    move_many,
)
from deals.signals import deal_moved
from tests.deals.desk import M, balances, reloaded

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------ which moves


class TestWhichMovesExist:
    def test_moves_a_complete_deal_one_stage_forward(self, desk):
        deal = desk.deal()
        deal_transition(deal=deal, actor=desk.sales, to=Stage.DOCUMENTS)
        assert reloaded(deal).stage == Stage.DOCUMENTS

    @pytest.mark.parametrize(
        ("at", "to"),
        [(Stage.LEAD, Stage.SCREENING), (Stage.LEAD, Stage.CLOSED),
         (Stage.DOCUMENTS, Stage.UNDERWRITING), (Stage.QUOTED, Stage.CONTRACTED)],
    )  # fmt: skip
    def test_refuses_to_skip_a_stage(self, desk, at, to):
        deal = desk.deal_at(at)
        with pytest.raises(InvalidStateError):
            deal_transition(deal=deal, actor=desk.sales, to=to)
        assert reloaded(deal).stage == at

    def test_refuses_a_skip_as_a_skip_even_when_the_stage_is_incomplete(self, desk):
        deal = desk.deal(next_action="")
        with pytest.raises(InvalidStateError):
            deal_transition(deal=deal, actor=desk.sales, to=Stage.SCREENING)

    @pytest.mark.parametrize(
        ("at", "to"),
        [(Stage.DOCUMENTS, Stage.LEAD), (Stage.QUOTED, Stage.UNDERWRITING),
         (Stage.UNDERWRITING, Stage.DOCUMENTS)],
    )  # fmt: skip
    def test_refuses_to_move_backwards(self, desk, at, to):
        deal = desk.deal_at(at)
        with pytest.raises(InvalidStateError):
            deal_transition(deal=deal, actor=desk.sales, to=to)
        assert reloaded(deal).stage == at

    @pytest.mark.parametrize(
        "to", [Stage.CONTRACTED, Stage.UNDERWRITING, Stage.QUOTED, Stage.EXECUTED]
    )
    def test_moves_a_deal_out_of_approval_only_by_a_decision(self, desk, to):
        deal = desk.deal_at(Stage.APPROVAL)
        with pytest.raises(InvalidStateError):
            deal_transition(deal=deal, actor=desk.underwriter, to=to)
        assert reloaded(deal).stage == Stage.APPROVAL
        assert desk.pending(deal).status == ApprovalStatus.PENDING

    @pytest.mark.parametrize("role", ["approver", "collections", "manager"])
    def test_refuses_a_user_without_the_transition_permission(self, desk, make_user, role):
        deal = desk.deal()
        with pytest.raises(PermissionDeniedError):
            deal_transition(deal=deal, actor=make_user(role, approval_level=3), to=Stage.DOCUMENTS)

    @pytest.mark.parametrize("role", ["sales", "underwriter", "operations"])
    def test_lets_sales_underwriters_and_operations_move_deals(self, desk, make_user, role):
        deal = desk.deal()
        deal_transition(deal=deal, actor=make_user(role), to=Stage.DOCUMENTS)
        assert reloaded(deal).stage == Stage.DOCUMENTS

    def test_takes_an_executed_deal_to_collecting_and_closed(self, desk):
        deal = desk.deal_at(Stage.EXECUTED)
        deal_transition(deal=deal, actor=desk.operations, to=Stage.COLLECTING)
        deal_transition(deal=deal, actor=desk.operations, to=Stage.CLOSED)
        assert reloaded(deal).stage == Stage.CLOSED

    @pytest.mark.parametrize("to", [Stage.LOST, Stage.CANCELLED])
    def test_cannot_lose_or_cancel_a_deal_once_paid_out(self, desk, to):
        deal = desk.deal_at(Stage.EXECUTED)
        with pytest.raises(InvalidStateError):
            deal_transition(deal=deal, actor=desk.sales, to=to, comment="誤り",
                            lost_reasons=["price"])  # fmt: skip
        assert reloaded(deal).stage == Stage.EXECUTED

    @pytest.mark.parametrize("to", [Stage.DOCUMENTS, Stage.LEAD, Stage.CANCELLED, Stage.LOST])
    def test_leaves_a_lost_deal_where_it_is(self, desk, to):
        deal = desk.deal()
        deal_transition(deal=deal, actor=desk.sales, to=Stage.LOST, lost_reasons=["price"])
        with pytest.raises(InvalidStateError):
            deal_transition(deal=deal, actor=desk.sales, to=to, comment="再開",
                            lost_reasons=["price"])  # fmt: skip
        assert reloaded(deal).stage == Stage.LOST


class TestAvailableTransitions:
    def test_offer_the_next_stage_and_the_two_exits_from_an_open_stage(self, desk):
        moves = available_transitions(desk.deal())
        assert [(m["to"], m["allowed"], m["missing"]) for m in moves] == [
            (Stage.DOCUMENTS, True, []), (Stage.LOST, True, []), (Stage.CANCELLED, True, [])]  # fmt: skip

    def test_offer_only_the_exits_while_in_approval(self, desk):
        moves = available_transitions(desk.deal_at(Stage.APPROVAL))
        assert [m["to"] for m in moves] == [Stage.LOST, Stage.CANCELLED]

    def test_offer_collecting_after_execution_and_nothing_after_closing(self, desk):
        deal = desk.deal_at(Stage.EXECUTED)
        assert [m["to"] for m in available_transitions(deal)] == [Stage.COLLECTING]
        deal_transition(deal=deal, actor=desk.operations, to=Stage.COLLECTING)
        deal_transition(deal=deal, actor=desk.operations, to=Stage.CLOSED)
        assert available_transitions(reloaded(deal)) == []


# ------------------------------------------------------------------------------ lost, cancelled


class TestLostAndCancelled:
    @pytest.mark.parametrize(
        "reasons",
        [[], [""], ["price", "speed", "competitor", "terms"], ["no_such_reason"],
         ["price", "no_such_reason"]],
        ids=["none", "blank", "four", "unknown", "one_unknown"],
    )  # fmt: skip
    def test_refuses_to_lose_a_deal_without_one_to_three_known_reasons(self, desk, reasons):
        deal = desk.deal()
        with pytest.raises(ValidationError) as refused:
            deal_transition(deal=deal, actor=desk.sales, to=Stage.LOST, lost_reasons=reasons)
        assert "lost_reasons" in refused.value.message_dict
        assert reloaded(deal).stage == Stage.LEAD

    def test_refuses_a_lost_reason_that_is_no_longer_in_use(self, desk):
        LostReason.objects.filter(code="speed").update(is_active=False)
        with pytest.raises(ValidationError):
            deal_transition(deal=desk.deal(), actor=desk.sales, to=Stage.LOST,
                            lost_reasons=["speed"])  # fmt: skip

    @pytest.mark.parametrize(
        "reasons", [["price"], ["price", "speed"], ["price", "speed", "competitor"]]
    )
    def test_loses_a_deal_with_one_to_three_reasons_and_the_details(self, desk, reasons):
        deal = desk.deal()
        deal_transition(deal=deal, actor=desk.sales, to=Stage.LOST, lost_reasons=reasons,
                        comment="他社が掛け目85%を提示")  # fmt: skip
        deal = reloaded(deal)
        assert deal.stage == Stage.LOST
        assert sorted(deal.lost_reasons.values_list("code", flat=True)) == sorted(reasons)
        assert deal.lost_note == "他社が掛け目85%を提示"

    def test_counts_a_repeated_reason_once(self, desk):
        deal = desk.deal()
        deal_transition(deal=deal, actor=desk.sales, to=Stage.LOST,
                        lost_reasons=["price", "price", "speed", "speed"])  # fmt: skip
        assert set(deal.lost_reasons.values_list("code", flat=True)) == {"price", "speed"}

    @pytest.mark.parametrize("comment", ["", "   "])
    def test_refuses_to_cancel_without_a_comment(self, desk, comment):
        deal = desk.deal()
        with pytest.raises(ValidationError) as refused:
            deal_transition(deal=deal, actor=desk.sales, to=Stage.CANCELLED, comment=comment)
        assert "comment" in refused.value.message_dict
        assert reloaded(deal).stage == Stage.LEAD

    def test_cancels_with_a_comment_even_when_requirements_are_missing(self, desk):
        deal = desk.deal(next_action="", priced=False, checked=False)
        deal_transition(deal=deal, actor=desk.sales, to=Stage.CANCELLED, comment="重複登録")
        assert reloaded(deal).stage == Stage.CANCELLED

    @pytest.mark.parametrize(
        ("to", "options"),
        [(Stage.LOST, {"lost_reasons": ["terms"]}), (Stage.CANCELLED, {"comment": "顧客都合"})],
    )
    def test_releases_the_reservation_of_a_contracted_deal(self, desk, to, options):
        first, second = desk.debtor(), desk.debtor()
        deal = desk.deal_at(Stage.CONTRACTED, debtors=[first, second], faces=[6 * M, 4 * M])
        assert balances(deal.client)[0] == 7 * M

        deal_transition(deal=deal, actor=desk.sales, to=to, **options)

        assert balances(deal.client) == (0, 0, 0, 0)
        assert balances(first) == balances(second) == (0, 0, 0, 0)
        released = ExposureEntry.objects.filter(reference=deal.number, kind=EntryKind.RELEASE)
        assert sorted(released.values_list("debtor_id", "reserved_change")) == sorted(
            [(first.pk, -4_200_000), (second.pk, -2_800_000)]
        )

    def test_withdraws_the_pending_approval_of_a_deal_lost_in_approval(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        approval = desk.pending(deal)
        deal_transition(deal=deal, actor=desk.sales, to=Stage.LOST, lost_reasons=["competitor"])
        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.WITHDRAWN and approval.decided_at is not None
        # Nothing was reserved while the request was pending, so nothing is released.
        assert not ExposureEntry.objects.filter(reference=deal.number).exists()

    def test_cancels_a_deal_in_approval_and_withdraws_its_request(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        deal_transition(deal=deal, actor=desk.sales, to=Stage.CANCELLED, comment="取り下げ")
        assert deal.approvals.get().status == ApprovalStatus.WITHDRAWN


# ------------------------------------------------------------------------------ exposure


class TestExposureAtTransitions:
    def test_reserves_nothing_before_approval(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        assert not ExposureEntry.objects.filter(reference=deal.number).exists()
        assert balances(deal.client) == (0, 0, 0, 0)

    def test_reserves_the_advance_amount_split_by_debtor_at_approval(self, desk):
        first, second = desk.debtor(), desk.debtor()
        deal = desk.deal_at(Stage.APPROVAL, debtors=[first, second], faces=[6 * M, 4 * M])
        assert deal.advance_amount == 7 * M

        desk.decide(deal, "approve", comment="承認")

        entries = ExposureEntry.objects.filter(reference=deal.number, kind=EntryKind.RESERVE)
        assert sorted(entries.values_list("debtor_id", "reserved_change")) == sorted(
            [(first.pk, 4_200_000), (second.pk, 2_800_000)]
        )
        assert sum(e.reserved_change for e in entries) == deal.advance_amount
        assert balances(deal.client)[:2] == (7 * M, 0)
        assert balances(first)[2:] == (4_200_000, 0)
        assert balances(second)[2:] == (2_800_000, 0)

    def test_splits_without_losing_the_yen_rounded_away(self, desk):
        first, second = desk.debtor(), desk.debtor()
        # 2,000,002 × 70 % = 1,400,001.4 → 1,400,001; each half 700,000.7 → 700,000.
        deal = desk.deal_at(Stage.CONTRACTED, debtors=[first, second],
                            faces=[1_000_001, 1_000_001])  # fmt: skip
        entries = ExposureEntry.objects.filter(reference=deal.number, kind=EntryKind.RESERVE)
        assert sorted(e.reserved_change for e in entries) == [700_000, 700_001]
        assert balances(deal.client)[0] == deal.advance_amount == 1_400_001

    def test_consumes_the_reservation_at_execution(self, desk):
        first, second = desk.debtor(), desk.debtor()
        deal = desk.deal_at(Stage.CONTRACTED, debtors=[first, second], faces=[6 * M, 4 * M])

        deal_transition(deal=deal, actor=desk.operations, to=Stage.EXECUTED)

        assert balances(deal.client)[:2] == (0, 7 * M)
        assert balances(first)[2:] == (0, 4_200_000)
        assert balances(second)[2:] == (0, 2_800_000)
        consumed = ExposureEntry.objects.filter(reference=deal.number, kind=EntryKind.CONSUME)
        assert sum(e.consumed_change for e in consumed) == 7 * M
        assert sum(e.reserved_change for e in consumed) == -7 * M


# ------------------------------------------------------------------------------ history


class TestHistory:
    def test_writes_a_stage_change_and_an_audit_event_for_every_move(self, desk):
        deal = desk.deal_at(Stage.EXECUTED)
        deal_transition(deal=deal, actor=desk.operations, to=Stage.COLLECTING, comment="回収開始")

        changes = list(StageChange.objects.filter(deal=deal))
        assert [(c.from_stage, c.to_stage) for c in changes] == list(
            itertools.pairwise(PIPELINE[:9])
        )
        assert all(c.seconds_in_stage >= 0 for c in changes)
        actors = {c.to_stage: c.actor for c in changes}
        assert actors[Stage.DOCUMENTS] == desk.sales
        assert actors[Stage.CONTRACTED] == desk.approver
        assert actors[Stage.COLLECTING] == desk.operations
        assert changes[-1].comment == "回収開始"
        assert changes[PIPELINE.index(Stage.APPROVAL)].comment == "承認"

        events = AuditEvent.objects.filter(action="deal.transitioned", subject_id=str(deal.pk))
        assert sorted((e.data["from"], e.data["to"]) for e in events) == sorted(
            (c.from_stage, c.to_stage) for c in changes
        )
        assert all(e.data["deal"] == deal.number for e in events)

    @pytest.mark.parametrize(
        ("to", "options"),
        [(Stage.LOST, {"lost_reasons": ["price"], "comment": "価格"}),
         (Stage.CANCELLED, {"comment": "顧客都合"})],
    )  # fmt: skip
    def test_logs_exits_like_any_other_move(self, desk, to, options):
        deal = desk.deal()
        deal_transition(deal=deal, actor=desk.sales, to=to, **options)
        change = StageChange.objects.get(deal=deal)
        assert (change.from_stage, change.to_stage, change.actor, change.comment) == (
            Stage.LEAD, to, desk.sales, options["comment"])  # fmt: skip
        assert AuditEvent.objects.filter(action="deal.transitioned",
                                         subject_id=str(deal.pk)).count() == 1  # fmt: skip

    def test_measures_the_time_spent_in_the_stage_and_restarts_the_clock(self, desk):
        deal = desk.deal()
        Deal.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - timedelta(hours=2))
        before = timezone.now()
        deal_transition(deal=deal, actor=desk.sales, to=Stage.DOCUMENTS)
        change = StageChange.objects.get(deal=deal)
        assert 7200 <= change.seconds_in_stage < 7300
        assert reloaded(deal).stage_entered_at >= before

    def test_keeps_a_refused_move_out_of_the_history(self, desk):
        deal = desk.deal(next_action="")
        with pytest.raises(TransitionBlocked):
            deal_transition(deal=deal, actor=desk.sales, to=Stage.DOCUMENTS)
        assert not StageChange.objects.filter(deal=deal).exists()
        assert not AuditEvent.objects.filter(action="deal.transitioned").exists()

    def test_snapshots_clearance_when_leaving_screening_and_again_at_execution(self, desk):
        deal = desk.deal_at(Stage.UNDERWRITING)
        screened_at = deal.clearance_checked_at
        assert {v["cleared"] for v in deal.clearance_snapshot.values()} == {True}
        assert len(deal.clearance_snapshot) == 2  # the client and its debtor
        deal = desk.move(deal, Stage.EXECUTED)
        assert deal.clearance_checked_at > screened_at


def test_desk_builds_a_deal_that_meets_every_requirement(desk):
    """The helper the other modules rely on: a deal from ``Desk.deal`` walks to closed."""
    deal = desk.deal_at(Stage.EXECUTED)
    assert deal.stage == Stage.EXECUTED
    assert Customer.objects.filter(pk=deal.client_id, is_client=True).exists()
    assert ApprovalRequest.objects.filter(deal=deal, status=ApprovalStatus.APPROVED).exists()


class TestMoveMany:
    def test_moves_only_deals_in_the_source_stage_with_log_signal_and_audit(self, desk):
        executed = [desk.deal_at(Stage.EXECUTED) for _ in range(2)]
        quoted = desk.deal_at(Stage.QUOTED)
        heard = []

        def listen(sender, *, deal, from_stage, to_stage, **kwargs):
            heard.append((deal.pk, from_stage, to_stage))

        deal_moved.connect(listen, sender=Deal)
        try:
            moved = move_many([d.pk for d in [*executed, quoted]], to=Stage.COLLECTING,
                              actor=None, actor_label="job:reconcile", comment="入金")  # fmt: skip
        finally:
            deal_moved.disconnect(listen, sender=Deal)
        assert sorted(d.pk for d in moved) == sorted(d.pk for d in executed)
        assert reloaded(quoted).stage == Stage.QUOTED
        for deal in executed:
            assert reloaded(deal).stage == Stage.COLLECTING
            change = StageChange.objects.filter(deal=deal).latest("pk")
            assert (change.from_stage, change.to_stage) == (Stage.EXECUTED, Stage.COLLECTING)
        assert sorted(heard) == sorted((d.pk, Stage.EXECUTED, Stage.COLLECTING) for d in executed)
        assert AuditEvent.objects.filter(action="deal.transitioned", data__to="collecting",
                                         actor_label="job:reconcile").count() == 2  # fmt: skip

    def test_refuses_moves_with_side_effects(self, desk):
        with pytest.raises(InvalidStateError):
            move_many([desk.deal_at(Stage.CONTRACTED).pk], to=Stage.EXECUTED, actor=None,
                      comment="")  # fmt: skip
