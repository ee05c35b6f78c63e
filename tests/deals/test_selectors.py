"""Reads of the pipeline: the kanban, the filtered list, stalled deals in bank business days,
the user's tasks and the approval inbox — each in a fixed number of queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals.choices import PIPELINE, Stage
from deals.models import Deal, StallThreshold
from deals.selectors import (
    CARDS_PER_COLUMN,
    approval_inbox,
    customer_deals,
    deal_get,
    deal_list,
    kanban,
    my_tasks,
    stalled_days,
    stalled_deals,
)
from deals.services import deal_transition
from tests.factories import (
    CustomerFactory,
    DealFactory,
    RatingFactory,
    ReceivableFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
M = 1_000_000


@pytest.fixture
def owner():
    return UserFactory(roles=["sales"])


def entered(deal: Deal, when: datetime | date) -> Deal:
    """Put ``deal`` in its stage since ``when`` (noon Tokyo time for a date)."""
    if not isinstance(when, datetime):
        when = timezone.make_aware(datetime(when.year, when.month, when.day, 12))
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=when)
    deal.refresh_from_db()
    return deal


def numbers(deals) -> set[str]:
    return {deal.number for deal in deals}


# ------------------------------------------------------------------------------ kanban


class TestKanban:
    def test_shows_one_column_per_stage_up_to_collecting_with_count_and_amount(self, owner):
        client = CustomerFactory()
        DealFactory(owner=owner, client=client, stage=Stage.LEAD, face_value=1 * M)
        DealFactory(owner=owner, client=client, stage=Stage.LEAD, face_value=2 * M)
        DealFactory(owner=owner, client=client, stage=Stage.APPROVAL, face_value=5 * M)
        for stage in (Stage.LOST, Stage.CANCELLED, Stage.CLOSED):
            DealFactory(owner=owner, client=client, stage=stage, face_value=9 * M)

        columns = {column.stage: column for column in kanban(user=owner, filters={})}

        assert list(columns) == [stage.value for stage in PIPELINE[:-1]]
        assert (columns["lead"].count, columns["lead"].amount) == (2, 3 * M)
        assert (columns["approval"].count, columns["approval"].amount) == (1, 5 * M)
        assert (columns["quoted"].count, columns["quoted"].amount, columns["quoted"].cards) == (
            0, 0, [])  # fmt: skip
        assert columns["lead"].label == str(Stage.LEAD.label)

    def test_shows_at_most_a_page_of_cards_the_longest_waiting_first(self, owner):
        client = CustomerFactory()
        now = timezone.now()
        deals = [DealFactory(owner=owner, client=client, face_value=M)
                 for _n in range(CARDS_PER_COLUMN + 2)]  # fmt: skip
        for age, deal in enumerate(deals):
            entered(deal, now - timedelta(days=age))

        lead = kanban(user=owner, filters={})[0]

        assert (lead.count, len(lead.cards), lead.more) == (CARDS_PER_COLUMN + 2, 20, 2)
        assert lead.cards[0] == deals[-1]  # in the stage the longest
        waits = [card.stage_entered_at for card in lead.cards]
        assert waits == sorted(waits)
        assert all(hasattr(card, "days_in_stage") for card in lead.cards)

    def test_applies_the_list_filters(self, owner):
        client = CustomerFactory()
        DealFactory(owner=owner, client=client, channel="referral", face_value=M)
        DealFactory(owner=owner, client=client, channel="web", face_value=M)
        lead = kanban(user=owner, filters={"channel": "referral"})[0]
        assert lead.count == 1

    def test_reads_in_the_same_number_of_queries_for_3_or_30_deals(self, owner):
        client = CustomerFactory()

        def queries_for(count: int) -> int:
            Deal.objects.update(stage=Stage.CLOSED)  # out of the board
            for n in range(count):
                DealFactory(owner=owner, client=client, face_value=M,
                            stage=PIPELINE[n % 9])  # fmt: skip
            with CaptureQueriesContext(connection) as captured:
                columns = kanban(user=owner, filters={})
                shown = [(card.client.name, card.owner.username)
                         for column in columns for card in column.cards]  # fmt: skip
            assert sum(c.count for c in columns) == len(shown) == count
            return len(captured)

        assert queries_for(3) == queries_for(30)


# ------------------------------------------------------------------------------ deal list


class TestDealList:
    def test_filters_by_stage(self, owner):
        lead = DealFactory(owner=owner)
        quoted = DealFactory(owner=owner, stage=Stage.QUOTED)
        DealFactory(owner=owner, stage=Stage.APPROVAL)
        result = deal_list(user=owner, filters={"stage": [Stage.LEAD, Stage.QUOTED]})
        assert numbers(result) == {lead.number, quoted.number}

    def test_filters_by_owner(self, owner):
        mine = DealFactory(owner=owner)
        DealFactory()
        assert numbers(deal_list(user=owner, filters={"owner": owner.pk})) == {mine.number}

    def test_filters_by_channel_and_scheme(self, owner):
        wanted = DealFactory(owner=owner, channel="referral", scheme="three_party")
        DealFactory(owner=owner, channel="referral", scheme="two_party")
        DealFactory(owner=owner, channel="web", scheme="three_party")
        result = deal_list(user=owner, filters={"channel": "referral", "scheme": "three_party"})
        assert numbers(result) == {wanted.number}

    @pytest.mark.parametrize(
        ("band", "expected"),
        [("lt1m", {999_999}), ("1m_5m", {1_000_000, 4_999_999}), ("5m_10m", {5_000_000}),
         ("gte10m", {10_000_000, 50_000_000})],
    )  # fmt: skip
    def test_filters_by_advance_amount_band(self, owner, band, expected):
        for amount in (999_999, 1_000_000, 4_999_999, 5_000_000, 10_000_000, 50_000_000):
            DealFactory(owner=owner, advance_amount=amount)
        result = deal_list(user=owner, filters={"amount": band})
        assert {deal.advance_amount for deal in result} == expected

    def test_filters_by_the_current_rating_of_a_debtor(self, owner):
        downgraded = CustomerFactory(is_client=False, is_debtor=True)
        RatingFactory(counterparty=downgraded, grade="A",
                      rated_at=timezone.now() - timedelta(days=30))  # fmt: skip
        RatingFactory(counterparty=downgraded, grade="C")
        steady = CustomerFactory(is_client=False, is_debtor=True)
        RatingFactory(counterparty=steady, grade="A")
        on_c = ReceivableFactory(deal=DealFactory(owner=owner), debtor=downgraded).deal
        on_a = ReceivableFactory(deal=DealFactory(owner=owner), debtor=steady).deal
        assert numbers(deal_list(user=owner, filters={"debtor_rating": "C"})) == {on_c.number}
        assert numbers(deal_list(user=owner, filters={"debtor_rating": "A"})) == {on_a.number}

    def test_filters_by_expected_execution_month(self, owner):
        april = DealFactory(owner=owner, expected_payment_date=date(2026, 4, 30))
        DealFactory(owner=owner, expected_payment_date=date(2026, 5, 1))
        DealFactory(owner=owner, expected_payment_date=date(2026, 3, 31))
        december = DealFactory(owner=owner, expected_payment_date=date(2026, 12, 31))
        assert numbers(deal_list(user=owner, filters={"execution_month": "2026-04"})) == {
            april.number}  # fmt: skip
        assert numbers(deal_list(user=owner, filters={"execution_month": "2026-12"})) == {
            december.number}  # fmt: skip
        assert not deal_list(user=owner, filters={"execution_month": "2026-13"}).exists()

    def test_searches_number_name_and_client_name(self, owner):
        client = CustomerFactory(name="株式会社さくら精機")
        by_client = DealFactory(owner=owner, client=client, number="2099-0501")
        by_name = DealFactory(owner=owner, name="春の大型案件", number="2099-0502")
        by_number = DealFactory(owner=owner, number="2098-0007")
        search = lambda q: numbers(deal_list(user=owner, filters={"q": q}))  # noqa: E731
        assert search("さくら精機") == {by_client.number}
        assert search("大型") == {by_name.number}
        assert search("2098-") == {by_number.number}
        assert search("  ") == {by_client.number, by_name.number, by_number.number}

    def test_filters_by_days_stalled_in_bank_business_days(self, owner, monkeypatch):
        saturday = date(2026, 5, 9)
        today_is(monkeypatch, saturday)
        friday = entered(DealFactory(owner=owner), date(2026, 5, 8))
        thursday = entered(DealFactory(owner=owner), date(2026, 5, 7))
        long_ago = entered(DealFactory(owner=owner), date(2026, 4, 1))
        entered(DealFactory(owner=owner, stage=Stage.LOST), date(2026, 4, 1))
        # On a Saturday the deal from Friday has waited no business day yet.
        assert stalled_days(friday, saturday) == 0 and stalled_days(thursday, saturday) == 1
        assert numbers(deal_list(user=owner, filters={"stalled_days": 1})) == {
            thursday.number, long_ago.number}  # fmt: skip
        assert numbers(deal_list(user=owner, filters={"stalled_days": 2})) == {long_ago.number}

    def test_the_stalled_filter_agrees_with_the_days_shown_on_a_business_day(self, owner,
                                                                          monkeypatch):  # fmt: skip
        thursday = date(2026, 5, 7)  # the day after Golden Week
        today_is(monkeypatch, thursday)
        deals = [entered(DealFactory(owner=owner), thursday - timedelta(days=n))
                 for n in range(0, 16)]  # fmt: skip
        for minimum in (1, 3, 5):
            expected = {d.number for d in deals if stalled_days(d, thursday) >= minimum}
            assert numbers(deal_list(user=owner, filters={"stalled_days": minimum})) == expected

    def test_ignores_no_filters(self, owner):
        deals = [DealFactory(owner=owner) for _n in range(3)]
        assert list(deal_list(user=owner, filters={})) == deals[::-1]  # newest first


def today_is(monkeypatch, day: date) -> None:
    """Make ``timezone.localdate()`` without an argument return ``day`` (the list filters and
    selectors read today from it)."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


# ------------------------------------------------------------------------------ stalled deals


class TestStalledDeals:
    TODAY = date(2026, 5, 7)  # Thursday after Golden Week (4/29, 5/4, 5/5, 5/6 closed)

    def test_counts_bank_business_days_with_the_stage_threshold(self, owner):
        # Five business days back from 5/7: 5/1, 4/30, 4/28, 4/27, 4/24.
        lead_5 = entered(DealFactory(owner=owner), date(2026, 4, 24))
        lead_6 = entered(DealFactory(owner=owner), date(2026, 4, 23))
        # Approval waits three: 5/1, 4/30, 4/28.
        approval_3 = entered(DealFactory(owner=owner, stage=Stage.APPROVAL), date(2026, 4, 28))
        approval_4 = entered(DealFactory(owner=owner, stage=Stage.APPROVAL), date(2026, 4, 27))
        assert stalled_days(lead_5, self.TODAY) == 5  # though 13 calendar days
        assert numbers(stalled_deals(today=self.TODAY)) == {lead_6.number, approval_4.number}
        assert {lead_5.number, approval_3.number}.isdisjoint(
            numbers(stalled_deals(today=self.TODAY)))  # fmt: skip

    def test_finds_deals_past_a_multiple_of_the_threshold(self, owner):
        lead_10 = entered(DealFactory(owner=owner), date(2026, 4, 17))
        lead_11 = entered(DealFactory(owner=owner), date(2026, 4, 16))
        approval_6 = entered(DealFactory(owner=owner, stage=Stage.APPROVAL), date(2026, 4, 23))
        approval_7 = entered(DealFactory(owner=owner, stage=Stage.APPROVAL), date(2026, 4, 22))
        assert stalled_days(lead_10, self.TODAY) == 10
        assert stalled_days(approval_6, self.TODAY) == 6
        assert numbers(stalled_deals(today=self.TODAY, multiple=2)) == {
            lead_11.number, approval_7.number}  # fmt: skip

    def test_reads_the_day_a_deal_entered_in_tokyo_time(self, owner):
        # 00:30 on 4/24 in Tokyo is still 4/23 in UTC: the deal has waited five days, not six.
        just_after_midnight = timezone.make_aware(datetime(2026, 4, 24, 0, 30))
        deal = entered(DealFactory(owner=owner), just_after_midnight)
        assert stalled_days(deal, self.TODAY) == 5
        assert deal.number not in numbers(stalled_deals(today=self.TODAY))

    def test_follows_an_edited_threshold(self, owner):
        deal = entered(DealFactory(owner=owner, stage=Stage.QUOTED), date(2026, 4, 30))
        assert deal.number not in numbers(stalled_deals(today=self.TODAY))
        StallThreshold.objects.filter(stage=Stage.QUOTED).update(business_days=1)
        assert numbers(stalled_deals(today=self.TODAY)) == {deal.number}

    def test_leaves_out_finished_deals(self, owner):
        for stage in (Stage.LOST, Stage.CANCELLED, Stage.CLOSED):
            entered(DealFactory(owner=owner, stage=stage), date(2026, 1, 5))
        assert not stalled_deals(today=self.TODAY).exists()

    def test_has_a_default_threshold_for_every_open_stage(self):
        thresholds = dict(StallThreshold.objects.values_list("stage", "business_days"))
        assert thresholds == {stage.value: 3 if stage == Stage.APPROVAL else 5
                              for stage in PIPELINE[:7]}  # fmt: skip


# ------------------------------------------------------------------------------ tasks, inbox


class TestMyTasks:
    def test_lists_the_users_next_actions_the_most_urgent_first(self, owner):
        today = timezone.localdate()
        later = DealFactory(next_action_owner=owner, next_action_due=today + timedelta(days=5))
        sooner = DealFactory(next_action_owner=owner, next_action_due=today,
                             stage=Stage.COLLECTING)  # fmt: skip
        undated = DealFactory(next_action_owner=owner, next_action_due=None)
        DealFactory(next_action_owner=owner, next_action_due=today, stage=Stage.LOST)
        DealFactory(next_action_owner=owner, next_action_due=today, stage=Stage.CLOSED)
        DealFactory(next_action_owner=UserFactory(), next_action_due=today)
        assert list(my_tasks(user=owner)) == [sooner, later, undated]


class TestApprovalInbox:
    def test_shows_only_what_the_approvers_level_covers(self, desk, make_user):
        small = desk.deal_at(Stage.APPROVAL, faces=[1 * M])  # ¥700,000: level 1
        middle = desk.deal_at(Stage.APPROVAL, faces=[2 * M])  # ¥1.4M: level 2
        large = desk.deal_at(Stage.APPROVAL)  # ¥7M: level 3
        inbox = lambda level: [  # noqa: E731
            a.deal for a in approval_inbox(user=make_user("approver", approval_level=level))
        ]
        assert inbox(1) == [small]
        assert inbox(2) == [small, middle]
        assert inbox(3) == [small, middle, large]  # the oldest request first
        assert inbox(0) == []

    def test_never_shows_an_approvers_own_deals(self, desk, make_user):
        approver = make_user("sales", "underwriter", "approver", approval_level=3)
        owned = desk.deal_at(Stage.APPROVAL, owner=approver)
        created = desk.deal_at(Stage.APPROVAL, actor=approver)
        requested = desk.deal_at(Stage.QUOTED)
        deal_transition(deal=requested, actor=approver, to=Stage.APPROVAL)
        other = desk.deal_at(Stage.APPROVAL)
        assert [a.deal for a in approval_inbox(user=approver)] == [other]
        assert {a.deal for a in approval_inbox(user=desk.approver)} == {
            owned, created, requested, other}  # fmt: skip

    def test_drops_decided_requests(self, desk):
        deal = desk.deal_at(Stage.APPROVAL)
        desk.decide(deal, "approve")
        assert not approval_inbox(user=desk.approver).exists()


class TestDealPage:
    def test_reads_a_deal_with_everything_in_a_fixed_number_of_queries(self, desk):
        def queries_for(deal: Deal) -> int:
            with CaptureQueriesContext(connection) as captured:
                page = deal_get(number=deal.number)
                [(r.debtor.name, r.face_amount) for r in page.receivables.all()]
                [(c.actor, c.to_stage) for c in page.stage_changes.all()]
                [(a.requested_by, a.decided_by) for a in page.approvals.all()]
                (
                    page.client.name,
                    page.owner,
                    page.remittance_account,
                    list(page.lost_reasons.all()),
                )
            return len(captured)

        small = desk.deal()
        large = desk.deal_at(Stage.CONTRACTED, debtors=[desk.debtor() for _n in range(4)])
        assert queries_for(small) == queries_for(large)

    def test_lists_the_deals_of_a_customer_as_client_or_debtor(self, desk):
        debtor = desk.debtor()
        as_debtor = desk.deal(debtors=[debtor])
        as_client = desk.deal(client=CustomerFactory(is_debtor=True))
        desk.deal()
        assert set(customer_deals(customer_id=debtor.pk)) == {as_debtor}
        assert set(customer_deals(customer_id=as_client.client_id)) == {as_client}
