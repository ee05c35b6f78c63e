"""Deal milestones and each move's business days: kept as the services log moves, and the
same as recomputing them from the log (the dashboard counts first quotes, stages reached
and days in stage from them)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.calendar import business_days_between
from deals.choices import PIPELINE, Stage
from deals.milestones import business_days_in_stage, milestones_of, refresh_milestones
from deals.models import Deal, StageChange
from deals.services import deal_transition, move_many
from tests.factories import at

from .desk import reloaded

pytestmark = pytest.mark.django_db


def milestones(deal: Deal) -> tuple:
    deal = Deal.objects.get(pk=deal.pk)
    return deal.first_quoted_at, deal.furthest_stage


def recomputed(deal: Deal) -> tuple:
    refresh_milestones([deal.pk])
    return milestones(deal)


class TestKeptByTheServices:
    def test_a_new_deal_has_reached_lead_only(self, desk):
        deal = desk.deal()
        assert milestones(deal) == (None, 0)

    def test_first_quote_and_furthest_stage_follow_the_moves(self, desk):
        deal = desk.deal_at(Stage.QUOTED)
        quoted = StageChange.objects.get(deal=deal, to_stage=Stage.QUOTED)
        assert milestones(deal) == (quoted.at, PIPELINE.index(Stage.QUOTED))
        deal = desk.move(deal, Stage.EXECUTED)
        assert milestones(deal) == (quoted.at, PIPELINE.index(Stage.EXECUTED))
        assert recomputed(deal) == milestones(deal)

    def test_a_deal_sent_back_keeps_its_first_quote_and_the_furthest_stage(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        first = StageChange.objects.get(deal=deal, to_stage=Stage.QUOTED).at
        desk.decide(deal, "send_back", send_back_to=Stage.QUOTED, comment="再確認")
        deal = reloaded(deal)
        assert deal.stage == Stage.QUOTED
        assert StageChange.objects.filter(deal=deal, to_stage=Stage.QUOTED).count() == 2
        assert milestones(deal) == (first, PIPELINE.index(Stage.APPROVAL))
        assert recomputed(deal) == milestones(deal)

    def test_a_lost_deal_keeps_the_stage_it_reached(self, desk):
        deal = desk.deal_at(Stage.UNDERWRITING)
        deal_transition(deal=deal, actor=desk.sales, to=Stage.LOST, lost_reasons=["price"])
        assert reloaded(deal).stage == Stage.LOST
        assert milestones(deal) == (None, PIPELINE.index(Stage.UNDERWRITING))
        assert recomputed(deal) == milestones(deal)

    def test_moves_in_bulk_raise_the_furthest_stage(self, desk):
        deal = desk.executed([10_000_000])
        move_many([deal.pk], to=Stage.COLLECTING, actor=None, comment="入金",
                  actor_label="job:test")  # fmt: skip
        assert milestones(deal)[1] == PIPELINE.index(Stage.COLLECTING)
        assert recomputed(deal) == milestones(deal)
        change = StageChange.objects.filter(deal=deal).latest("pk")
        assert change.business_days == business_days_in_stage(change.at, change.seconds_in_stage)

    def test_refresh_repairs_milestones_written_wrong(self, desk):
        deal = desk.deal_at(Stage.CONTRACTED)
        expected = milestones(deal)
        Deal.objects.filter(pk=deal.pk).update(first_quoted_at=None, furthest_stage=0)
        assert refresh_milestones() >= 1
        assert milestones(deal) == expected


class TestBusinessDaysInStage:
    def test_counted_from_the_local_day_entered_to_the_local_day_left(self):
        # Entered Tuesday 2026-04-28 at 23:30 Tokyo, left Thursday 2026-05-07: of the days
        # after it, Golden Week (4/29, 5/4-5/6) and the weekend are closed; 4/30, 5/1 and
        # 5/7 count.
        entered = at(date(2026, 4, 28), 23) + timedelta(minutes=30)
        left = at(date(2026, 5, 7), 9)
        seconds = int((left - entered).total_seconds())
        days = business_days_in_stage(left, seconds)
        assert days == business_days_between(date(2026, 4, 28), date(2026, 5, 7)) == 3

    def test_the_same_day_is_zero(self):
        left = at(date(2026, 6, 3), 15)
        assert business_days_in_stage(left, 3600) == 0

    def test_saved_with_every_logged_move(self, desk):
        deal = desk.deal_at(Stage.SCREENING)
        for change in StageChange.objects.filter(deal=deal):
            assert change.business_days == business_days_in_stage(
                change.at, change.seconds_in_stage
            )


def test_milestones_of_a_bulk_path_equal_the_recomputed_ones():
    monday = at(date(2026, 3, 2), 10)
    path = [("documents", monday), ("screening", monday + timedelta(days=1)),
            ("underwriting", monday + timedelta(days=2)), ("quoted", monday + timedelta(days=3)),
            ("approval", monday + timedelta(days=4)), ("quoted", monday + timedelta(days=7)),
            ("lost", monday + timedelta(days=8))]  # fmt: skip
    assert milestones_of(path) == {
        "first_quoted_at": monday + timedelta(days=3),
        "furthest_stage": PIPELINE.index(Stage.APPROVAL),
    }
