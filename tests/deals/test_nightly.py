"""The nightly stalled-deal check: owner alerted once; the manager at twice the threshold."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.utils import timezone

from core.calendar import add_business_days
from core.models import Alert
from deals.choices import Stage
from deals.models import Deal, StallThreshold
from deals.nightly import check_stalled_deals
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)  # a Friday


def _entered(deal, business_days_ago: int) -> None:
    day = add_business_days(TODAY, -business_days_ago)
    moment = timezone.make_aware(datetime.combine(day, time(10)))
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=moment)


class TestStalledDeals:
    def test_alerts_the_owner_once_when_the_stage_threshold_is_passed(self):
        stalled = DealFactory(stage=Stage.DOCUMENTS)
        fresh = DealFactory(stage=Stage.DOCUMENTS)
        _entered(stalled, 6)
        _entered(fresh, 5)
        first = check_stalled_deals(today=TODAY)
        again = check_stalled_deals(today=TODAY)
        assert (first.raised, again.raised) == (1, 0)
        alert = Alert.objects.get(kind="deal_stalled")
        assert alert.assignee == stalled.owner and alert.subject_id == str(stalled.pk)

    def test_approval_has_its_own_shorter_threshold(self):
        waiting = DealFactory(stage=Stage.APPROVAL)
        _entered(waiting, 4)
        assert check_stalled_deals(today=TODAY).raised == 1

    def test_twice_the_threshold_also_alerts_the_owners_manager(self, make_user):
        owner = make_user("sales", department="営業一部")
        manager = make_user("approver", approval_level=1, department="営業一部")
        make_user("approver", approval_level=1, department="営業二部")
        deal = DealFactory(stage=Stage.UNDERWRITING, owner=owner, created_by=owner)
        _entered(deal, 11)
        assert check_stalled_deals(today=TODAY).raised == 2
        escalated = Alert.objects.get(dedup_key__startswith="deal_stalled_manager:")
        assert escalated.assignee == manager and escalated.severity == "high"

    def test_an_edited_threshold_applies_at_the_next_run(self):
        deal = DealFactory(stage=Stage.DOCUMENTS)
        _entered(deal, 3)
        assert check_stalled_deals(today=TODAY).raised == 0
        StallThreshold.objects.filter(stage=Stage.DOCUMENTS).update(business_days=2)
        assert check_stalled_deals(today=TODAY).raised == 1

    def test_finished_deals_never_count_as_stalled(self):
        for stage in (Stage.CLOSED, Stage.LOST, Stage.CANCELLED):
            _entered(DealFactory(stage=stage), 40)
        assert check_stalled_deals(today=TODAY).processed == 0
