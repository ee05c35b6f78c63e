"""Each KPI on the hand-built book of conftest.py, whose answers are worked out there."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import F, Sum, Value
from django.db.models.functions import Coalesce

from collection.selectors import average_days_late, delay_rate, repurchase_rate
from core.calendar import bank_holidays, business_days_between
from core.calendar_sql import business_days_between_sql
from dashboard.assumptions import default_assumptions
from dashboard.filters import DashboardFilters, Period
from dashboard.kpis import collections as coll
from dashboard.selectors import dashboard_data, drill_deals, drill_receivables
from deals.models import Deal

M = 1_000_000


def data_for(world, **filters):
    f = replace(world.filters, **filters)
    return dashboard_data(f, default_assumptions(), today=world.today)


def fig(data, code):
    return data.figure(code)


class TestHeadlineFigures:
    def test_counts_executed_amount_and_fees_by_execution_date(self, dashboard_world):
        data = data_for(dashboard_world)
        assert fig(data, "executed_amount").value == 16 * M
        assert fig(data, "executed_amount").previous == 4 * M
        assert fig(data, "executed_amount").change == Decimal("3.0000")
        assert fig(data, "fee_revenue").value == 800_000
        assert fig(data, "fee_revenue").previous == 200_000
        assert fig(data, "revenue_per_deal").value == 88_888

    def test_reproduces_the_articles_win_rate(self, dashboard_world):
        data = data_for(dashboard_world)
        assert (data.quote_win.quoted, data.quote_win.won, data.quote_win.lost) == (24, 9, 5)
        assert data.quote_win.win_rate == Decimal("0.3750")
        assert data.quote_win.quote_rate == Decimal("0.7500")
        assert fig(data, "win_rate").previous == Decimal("1.0000")
        assert fig(data, "quote_rate").previous == Decimal("0.5000")

    def test_counts_lead_time_in_bank_business_days_across_golden_week(self, dashboard_world):
        data = data_for(dashboard_world)
        assert data.lead_time.value == Decimal("2.6")  # (3 + 7 + 1 + 6 × 2) / 9
        assert data.lead_time.previous == Decimal("7.0")
        only_e1 = data_for(dashboard_world, channel="referral")
        assert only_e1.lead_time.value == Decimal("3.0")  # 28 Apr → 7 May

    def test_delay_figures_follow_the_collection_definitions(self, dashboard_world):
        data = data_for(dashboard_world)
        start, end, today = date(2026, 5, 1), date(2026, 5, 31), dashboard_world.today
        assert fig(data, "delay_rate").value == Decimal("0.8000")
        assert fig(data, "delay_rate").value == delay_rate(start, end, today=today)
        assert fig(data, "delay_days_avg").value == Decimal("8.0")
        assert fig(data, "delay_days_avg").value == average_days_late(start, end, today=today)
        assert fig(data, "repurchase_rate").value == Decimal("0.2000")
        assert fig(data, "repurchase_rate").value == repurchase_rate(start, end, today=today)
        assert fig(data, "delay_rate").previous == Decimal("0.0000")

    @pytest.mark.parametrize("kind", ["month", "quarter", "fiscal_year"])
    def test_whole_month_periods_read_the_monthly_pass_as_a_direct_count(self, dashboard_world,
                                                                         kind):  # fmt: skip
        today = dashboard_world.today
        filters = replace(dashboard_world.filters, period=getattr(Period, kind)(today))
        holidays = bank_holidays(date(2025, 1, 1), date(2027, 4, 1))
        window = coll.lateness_months(filters, coll.trend_months(filters.period, 12))
        monthly = coll.lateness_by_month(filters, window, today=today, holidays=holidays)
        assert monthly  # the book has collections due in the window
        summed = coll.delay_totals(filters, today=today, holidays=holidays, monthly=monthly,
                                   covered=window)  # fmt: skip
        direct = coll.delay_totals(filters, today=today, holidays=holidays)
        assert summed == direct

    def test_a_custom_range_is_counted_directly(self, dashboard_world):
        period = Period.custom(date(2026, 5, 11), date(2026, 5, 29))
        assert period.month_starts is None
        assert Period.quarter(date(2026, 5, 1)).month_starts == [
            date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]  # fmt: skip
        data = data_for(dashboard_world, period=period)
        start, end, today = period.start, period.end, dashboard_world.today
        assert fig(data, "delay_rate").value == delay_rate(start, end, today=today)

    def test_expected_loss_is_exposure_times_pd_times_lgd(self, dashboard_world):
        data = data_for(dashboard_world)
        rows = {r.rating: r for r in data.expected_loss.rows}
        assert rows["A"].exposure == 1 * M and rows["A"].loss == 2_250
        assert rows["D"].exposure == 2 * M and rows["D"].loss == 90_000
        assert data.expected_loss.total == 92_250 == fig(data, "expected_loss").value

    def test_expected_loss_uses_edited_assumptions(self, dashboard_world):
        edited = replace(default_assumptions(), lgd=Decimal("1.0000"))
        data = dashboard_data(dashboard_world.filters, edited, today=dashboard_world.today)
        assert data.expected_loss.total == 5_000 + 200_000


class TestPipeline:
    def test_counts_deals_by_stage_today_with_stalled_ones(self, dashboard_world):
        stages = {r.stage: r for r in data_for(dashboard_world).stages}
        assert (stages["lead"].count, stages["quoted"].count, stages["approval"].count) == (9, 6, 4)
        assert stages["quoted"].amount == 6 * 1_200_000
        assert (stages["quoted"].stalled, stages["approval"].stalled) == (4, 1)

    def test_conversion_is_the_share_leaving_a_stage_forward(self, dashboard_world):
        stages = {r.stage: r for r in data_for(dashboard_world).stages}
        # Left quoted in May: 9 won + 4 to approval forward, 5 lost.
        assert (stages["quoted"].left, stages["quoted"].moved_on) == (18, 13)
        assert stages["quoted"].conversion == Decimal("0.7222")
        assert stages["underwriting"].conversion == Decimal("1.0000")

    def test_days_in_stage_are_bank_business_days(self, dashboard_world):
        stages = {r.stage: r for r in data_for(dashboard_world).stages}
        # Left quoted in May: 9 won the same day (0), 5 lost 8 May → 20 May (8 each), to
        # approval 8 May → 20 May (8) and 8 May → 29 May (15, three of them): 93 / 18.
        assert stages["quoted"].avg_days == Decimal("5.2")

    def test_funnel_counts_new_deals_reaching_each_stage(self, dashboard_world):
        funnel = {r.stage: r for r in data_for(dashboard_world).funnel}
        assert funnel["lead"].count == 32
        assert funnel["quoted"].count == 23  # e1 was created in April
        assert funnel["executed"].count == 8

    def test_lost_reasons_with_top_three(self, dashboard_world):
        data = data_for(dashboard_world)
        assert [(r.code, r.count) for r in data.top3] == [
            ("price", 3),
            ("speed", 2),
            ("competitor", 1),
        ]
        assert data.lost_reasons[0].share == Decimal("0.5000")

    def test_bottleneck_is_the_stage_with_most_stalled_deals(self, dashboard_world):
        bottleneck = data_for(dashboard_world).bottleneck
        assert (bottleneck.stage, bottleneck.stalled) == ("quoted", 4)
        assert {d.pk for d in bottleneck.deals} == {d.pk for d in dashboard_world.open_quoted[:4]}

    def test_forecast_weights_this_months_deals_by_stage(self, dashboard_world):
        forecast = data_for(dashboard_world).forecast
        rows = {r.stage: r for r in forecast.rows}
        assert (rows["quoted"].count, rows["quoted"].weighted) == (2, 1 * M)
        assert (rows["approval"].count, rows["approval"].weighted) == (1, 1_400_000)
        assert rows["executed"].amount == 16 * M
        assert (forecast.unweighted, forecast.weighted) == (20 * M, 18_400_000)

    def test_by_channel(self, dashboard_world):
        rows = {r.key: r for r in data_for(dashboard_world).by_channel}
        assert rows["referral"].executed_amount == 3 * M
        assert rows["web"].executed_amount == 13 * M
        assert rows["advert"].deals == 14 and rows["advert"].win_rate == Decimal("0.0000")
        assert rows["web"].win_rate == Decimal("0.4444")  # 8 won of 18 quoted


class TestDelayRisk:
    def test_buckets_and_debtors(self, dashboard_world):
        risk = data_for(dashboard_world).delay_risk
        buckets = {b.code: b for b in risk.buckets}
        assert (buckets["4-30"].count, buckets["4-30"].amount) == (1, 1 * M)
        assert sum(b.count for b in risk.buckets) == 1
        debtors = {d.customer_id: d for d in risk.debtors}
        assert debtors[dashboard_world.debtor_a.pk].overdue_amount == 1 * M
        assert debtors[dashboard_world.debtor_d.pk].light == "red"
        assert debtors[dashboard_world.debtor_d.pk].utilisation == Decimal("200.0")


class TestSegmentsAndPeriods:
    def test_channel_filter_applies_to_every_deal_figure(self, dashboard_world):
        data = data_for(dashboard_world, channel="referral")
        assert fig(data, "executed_amount").value == 3 * M
        assert data.quote_win.quoted == 1
        assert fig(data, "delay_rate").value == Decimal("0.5000")  # c1 on time, c2 late

    def test_industry_owner_department_and_band_filters(self, dashboard_world):
        owner_b = dashboard_world.owners[1]
        assert fig(data_for(dashboard_world, industry="E"), "executed_amount").value == 5 * M
        assert fig(data_for(dashboard_world, owner_id=owner_b.pk), "fee_revenue").value == 250_000
        assert fig(data_for(dashboard_world, department="営業2部"), "fee_revenue").value == 250_000
        assert fig(data_for(dashboard_world, amount_band="lt1m"), "executed_amount").value == 6 * M

    def test_debtor_rating_filter_keeps_deals_owing_to_that_rating(self, dashboard_world):
        data = data_for(dashboard_world, debtor_rating="D")
        assert fig(data, "executed_amount").value == 2 * M  # e3 has the D debtor's invoice
        assert data.expected_loss.total == 90_000

    def test_group_by_owner(self, dashboard_world):
        data = data_for(dashboard_world, group_by="owner")
        rows = {r.key: r for r in data.segments}
        assert rows[str(dashboard_world.owners[1].pk)].executed_amount == 5 * M

    def test_quarter_and_previous_period(self, dashboard_world):
        quarter = Period.quarter(dashboard_world.today)
        data = data_for(dashboard_world, period=quarter)
        assert fig(data, "executed_amount").value == 20 * M
        assert quarter.previous() == Period("quarter", date(2026, 1, 1), date(2026, 3, 31))
        assert fig(data, "executed_amount").previous == 0

    def test_custom_range_compares_with_the_same_length_before(self, dashboard_world):
        period = Period.custom(date(2026, 5, 11), date(2026, 5, 20))
        assert period.previous() == Period("custom", date(2026, 5, 1), date(2026, 5, 10))
        data = data_for(dashboard_world, period=period)
        assert fig(data, "executed_amount").value == 13 * M  # e2, e3 and six small
        assert fig(data, "executed_amount").previous == 3 * M  # e1


def _deal_sum(rows, expression):
    return rows.order_by().aggregate(total=Sum(expression))["total"] or 0


class TestDrillDowns:
    def test_deal_lists_match_their_figures(self, dashboard_world):
        f, today = dashboard_world.filters, dashboard_world.today
        data = data_for(dashboard_world)
        paid_out = Coalesce(F("executed_amount"), F("upfront_payment"))
        executed = drill_deals(f, "executed", today=today)
        assert executed.count() == data.extra["executed_count"] == 9
        assert _deal_sum(executed, paid_out) == fig(data, "executed_amount").value
        assert _deal_sum(drill_deals(f, "fees", today=today), "fee") == 800_000
        assert drill_deals(f, "quoted", today=today).count() == data.quote_win.quoted
        assert drill_deals(f, "won", today=today).count() == data.quote_win.won
        assert drill_deals(f, "lost", today=today).count() == data.quote_win.lost
        for row in data.stages:
            assert drill_deals(f, row.drill, today=today).count() == row.count
            assert drill_deals(f, row.stalled_drill, today=today).count() == row.stalled
        for row in data.funnel:
            assert drill_deals(f, row.drill, today=today).count() == row.count
        for reason in data.lost_reasons:
            assert drill_deals(f, reason.drill, today=today).count() == reason.count
        for row in data.by_channel:
            assert drill_deals(f, row.drill, today=today).count() == row.deals
        for row in data.forecast.rows:
            rows = drill_deals(f, row.drill, today=today)
            assert (rows.count(), _deal_sum(rows, paid_out)) == (row.count, row.amount)
        assert drill_deals(f, data.bottleneck.drill, today=today).count() == 4

    def test_receivable_lists_match_their_figures(self, dashboard_world):
        f, today = dashboard_world.filters, dashboard_world.today
        data = data_for(dashboard_world)
        for bucket in data.delay_risk.buckets:
            rows = drill_receivables(f, bucket.drill, today=today)
            assert rows.count() == bucket.count
            assert _deal_sum(rows, "outstanding_amount") == bucket.amount
        for debtor in data.delay_risk.debtors:
            rows = drill_receivables(f, debtor.drill, today=today)
            assert _deal_sum(rows, "outstanding_amount") == debtor.overdue_amount
        assert drill_receivables(f, "delayed", today=today).count() == 4
        assert drill_receivables(f, "repurchased", today=today).count() == 1
        exposure = drill_receivables(f, "exposure", today=today)
        assert _deal_sum(exposure, "outstanding_amount") == data.expected_loss.exposure

    def test_segment_drill_matches_group_rows(self, dashboard_world):
        f = replace(dashboard_world.filters, group_by="amount_band")
        data = dashboard_data(f, default_assumptions(), today=dashboard_world.today)
        assert data.segments
        for row in data.segments:
            assert drill_deals(f, row.drill, today=dashboard_world.today).count() == row.deals

    def test_unknown_keys_are_refused(self, dashboard_world):
        with pytest.raises(ValueError):
            drill_deals(dashboard_world.filters, "nonsense", today=dashboard_world.today)


class TestBusinessDaysInSql:
    @pytest.mark.parametrize(
        ("start", "end", "expected"),
        [
            (date(2025, 12, 26), date(2026, 1, 7), 5),  # year-end closure and New Year
            (date(2026, 4, 28), date(2026, 5, 7), 3),  # Golden Week
            (date(2026, 5, 1), date(2026, 5, 1), 0),
        ],
    )
    def test_matches_known_spans(self, db, start, end, expected):
        assert business_days_between(start, end) == expected
        assert _sql_days(start, end) == expected

    def test_matches_the_calendar_on_random_spans(self, db):
        rng = random.Random(8)
        first = date(2024, 12, 1)
        for _ in range(40):
            start = first + timedelta(days=rng.randint(0, 500))
            end = start + timedelta(days=rng.randint(0, 60))
            assert _sql_days(start, end) == business_days_between(start, end), (start, end)


def _sql_days(start: date, end: date) -> int:
    from tests.factories import DealFactory

    holidays = bank_holidays(date(2024, 11, 1), date(2026, 12, 31))
    DealFactory(executed_on=end)
    row = (
        Deal.objects.annotate(
            s=Value(start), days=business_days_between_sql(Value(start), F("executed_on"), holidays)
        )
        .filter(executed_on=end)
        .values_list("days", flat=True)
        .first()
    )
    Deal.objects.filter(executed_on=end).delete()
    return row


def test_filters_round_trip_through_the_form(dashboard_world):
    from dashboard.filters import DashboardFilterForm

    f = DashboardFilters(period=Period.fiscal_year(date(2026, 5, 1)), channel="web",
                         owner_id=dashboard_world.owners[0].pk, group_by="scheme")  # fmt: skip
    form = DashboardFilterForm(f.params())
    assert form.to_filters(date(2026, 5, 29)) == f
    custom = DashboardFilters(period=Period.custom(date(2026, 5, 3), date(2026, 5, 9)))
    assert DashboardFilterForm(custom.params()).to_filters(date(2026, 5, 29)) == custom
