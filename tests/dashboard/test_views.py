"""Dashboard screens: manager-only access, filters from the URL, drill-downs that add up to
their figure, the assumptions form, the Excel download and a constant query count."""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from openpyxl import load_workbook

from accounts.roles import ROLE_CODES
from dashboard.assumptions import default_assumptions
from dashboard.definitions import KPI_DEFINITIONS
from dashboard.filters import DashboardFilters, Period
from dashboard.selectors import dashboard_data
from tests.factories import DealFactory

from .factories import at

pytestmark = pytest.mark.django_db

URLS = ("/dashboard/", "/dashboard/drill/?key=executed", "/dashboard/export.xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def on_world_day(monkeypatch, dashboard_world):
    """Count the figures to the world's 'today' (29 May 2026), as its answers assume."""
    monkeypatch.setattr("dashboard.views.as_of", lambda: dashboard_world.today)
    return dashboard_world


def _testid(body: str, testid: str) -> str:
    """Return the data-value of the element with ``data-testid=testid``."""
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*data-value="([^"]*)"', body)
    assert found, f"no {testid} in the page"
    return found.group(1)


def _drill_links(body: str) -> list[str]:
    return sorted(
        {unescape(link) for link in re.findall(r'href="(/dashboard/drill/\?[^"]+)"', body)}
    )


def _data(world, **filters) -> object:
    return dashboard_data(
        DashboardFilters(period=world.period, **filters), default_assumptions(), today=world.today
    )


class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_managers_open_the_dashboard_its_drill_downs_and_export(self, role_client, role):
        client = role_client(role)
        expected = 200 if role == "manager" else 403
        for url in URLS:
            assert client.get(url).status_code == expected, url
        assert client.post("/dashboard/assumptions/", {"reset": "1"}).status_code == (
            302 if role == "manager" else 403
        )

    def test_anonymous_users_are_sent_to_the_login_page(self, client):
        for url in URLS:
            response = client.get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_the_menu_shows_the_dashboard_to_managers_only(self, role_client, role):
        body = role_client(role).get("/accounts/password/").content.decode()
        assert ('href="/dashboard/"' in body) == (role == "manager")


class TestDashboardPage:
    def test_shows_the_kgis_with_definitions_previous_period_and_drill_links(
        self, manager_client, on_world_day
    ):
        body = manager_client.get("/dashboard/", {"period": "month", "anchor": "2026-05"})
        body = body.content.decode()
        assert _testid(body, "kgi-executed_amount") == "16000000"
        assert "¥16,000,000" in body and "¥4,000,000" in body  # May against April
        assert _testid(body, "kgi-win_rate") == "0.3750"
        assert "37.5%" in body
        assert escape(str(KPI_DEFINITIONS["fee_revenue"].definition)) in body
        assert 'data-drill="executed"' in body and 'data-drill="fees"' in body
        assert 'id="dashboard-charts" type="application/json"' in body

    def test_shows_the_three_panels(self, manager_client, on_world_day):
        body = manager_client.get("/dashboard/", {"anchor": "2026-05"}).content.decode()
        assert 'data-testid="bottleneck-stage" data-stage="quoted"' in body
        for deal in on_world_day.open_quoted[:4]:
            assert f'href="/deals/{deal.number}/"' in body
        assert re.search(r'data-testid="forecast-weighted">¥18,400,000<', body)
        assert re.search(r'data-testid="forecast-unweighted">¥20,000,000<', body)
        assert f'data-debtor="{on_world_day.debtor_d.pk}" class="table-danger"' in body
        assert re.search(r'data-testid="loss-total">¥92,250<', body)

    def test_applies_the_filters_of_the_url(self, manager_client, on_world_day):
        params = {"period": "month", "anchor": "2026-05", "channel": "referral"}
        body = manager_client.get("/dashboard/", params).content.decode()
        assert _testid(body, "kgi-executed_amount") == "3000000"
        assert _testid(body, "lead-time") == "3.0"
        assert '<option value="referral" selected>' in body
        # Every drill-down link carries the same filters.
        for link in _drill_links(body):
            query = parse_qs(urlparse(link).query)
            assert query["channel"] == ["referral"] and query["anchor"] == ["2026-05"]

    def test_a_quarter_is_compared_with_the_quarter_before(self, manager_client, on_world_day):
        body = manager_client.get("/dashboard/", {"period": "quarter", "anchor": "2026-05"})
        body = body.content.decode()
        assert re.search(r'data-testid="period-label">2026-04.*2026-06<', body)
        assert re.search(r'data-testid="previous-label">2026-01.*2026-03<', body)
        assert _testid(body, "kgi-executed_amount") == "20000000"  # April and May

    def test_groups_by_a_segment_when_asked(self, manager_client, on_world_day):
        params = {"anchor": "2026-05", "group_by": "owner"}
        body = manager_client.get("/dashboard/", params).content.decode()
        assert 'data-testid="section-segments"' in body
        for owner in on_world_day.owners:
            assert f'<tr data-segment="{owner.pk}">' in body

    def test_an_invalid_filter_falls_back_to_its_default(self, manager_client, on_world_day):
        response = manager_client.get("/dashboard/", {"anchor": "May", "channel": "nope"})
        assert response.status_code == 200


class TestAssumptions:
    def test_edited_pd_and_lgd_change_the_expected_loss_until_reset(
        self, manager_client, on_world_day
    ):
        form = {f"pd_{r}": "0.1000" for r in "ABCDE"}
        form |= {f"prob_{s}": "0.5000" for s in default_assumptions().stage_probability}
        form |= {"lgd": "1.0000", "query": "anchor=2026-05"}
        response = manager_client.post("/dashboard/assumptions/", form)
        assert response.status_code == 302 and response["Location"].endswith("?anchor=2026-05")
        body = manager_client.get(response["Location"]).content.decode()
        # ¥3,000,000 outstanding × 10 % × 100 %
        assert re.search(r'data-testid="loss-total">¥300,000<', body)
        manager_client.post("/dashboard/assumptions/", {"reset": "1", "query": ""})
        body = manager_client.get("/dashboard/", {"anchor": "2026-05"}).content.decode()
        assert re.search(r'data-testid="loss-total">¥92,250<', body)

    def test_invalid_values_are_shown_with_their_errors(self, manager_client, on_world_day):
        response = manager_client.post(
            "/dashboard/assumptions/", {"lgd": "2", "query": "anchor=2026-05"}
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert 'class="collapse show mb-3" id="assumptions"' in body
        assert "invalid-feedback" in body
        assert manager_client.session.get("dashboard_assumptions") is None


class TestDrillDown:
    def test_every_drill_down_of_the_page_adds_up_to_its_figure(self, manager_client, on_world_day):
        world = on_world_day
        data = _data(world)
        body = manager_client.get("/dashboard/", {"anchor": "2026-05"}).content.decode()
        links = _drill_links(body)
        assert len(links) > 20
        for link in links:
            response = manager_client.get(link)
            assert response.status_code == 200, link
        expected = {
            "executed": ("paid_out", data.figure("executed_amount").value, 9),
            "fees": ("fee", data.figure("fee_revenue").value, 9),
            "quoted": (None, None, data.quote_win.quoted),
            "won": (None, None, data.quote_win.won),
            "lost": (None, None, data.quote_win.lost),
            "delayed": (None, None, data.extra["collections_delayed"]),
            "exposure": ("outstanding", data.expected_loss.exposure, None),
        }
        for row in data.stages:
            expected[row.drill] = ("face_value", row.amount, row.count)
            expected[row.stalled_drill] = (None, None, row.stalled)
        for row in data.forecast.rows:
            expected[row.drill] = ("paid_out", row.amount, row.count)
        for row in data.delay_risk.buckets:
            expected[row.drill] = ("outstanding", row.amount, row.count)
        for row in data.delay_risk.debtors:
            expected[row.drill] = ("outstanding", row.overdue_amount, None)
        for row in data.lost_reasons:
            expected[row.drill] = (None, None, row.count)
        for row in data.by_channel:
            expected[row.drill] = (None, None, row.deals)
        for key, (column, amount, count) in expected.items():
            page = manager_client.get("/dashboard/drill/", {"key": key, "anchor": "2026-05"})
            page = page.content.decode()
            if count is not None:
                assert _testid(page, "drill-count") == str(count), key
            if column:
                assert _testid(page, f"drill-{column}") == str(amount), key

    def test_lists_the_deals_with_links_and_a_way_back(self, manager_client, on_world_day):
        query = {"key": "stage:quoted", "anchor": "2026-05", "channel": ""}
        body = manager_client.get("/dashboard/drill/", query).content.decode()
        for deal in on_world_day.open_quoted:
            assert f'href="/deals/{deal.number}/"' in body
        assert _testid(body, "drill-count") == "6"
        assert _testid(body, "drill-face_value") == "7200000"
        assert 'href="/dashboard/?period=month&amp;anchor=2026-05"' in body

    def test_lists_overdue_receivables_with_days_late(self, manager_client, on_world_day):
        bucket = manager_client.get("/dashboard/drill/", {"key": "bucket:4-30"})
        body = bucket.content.decode()
        overdue = on_world_day.collections[2]
        assert f'href="/deals/{overdue.deal.number}/"' in body
        assert overdue.receivable.invoice_number in body
        assert _testid(body, "drill-outstanding") == "1000000"
        assert ">17<" in body  # 1 May → 29 May in bank business days, after Golden Week

    def test_pages_a_long_list_and_keeps_the_total(self, manager_client, on_world_day):
        for _ in range(55):
            DealFactory(stage="lead", face_value=100, created_at=at(date(2026, 5, 2)))
        body = manager_client.get("/dashboard/drill/", {"key": "stage:lead", "page": 2})
        body = body.content.decode()
        assert _testid(body, "drill-count") == "64"
        assert "51–64" in body

    def test_an_unknown_key_is_not_found(self, manager_client, on_world_day):
        assert manager_client.get("/dashboard/drill/", {"key": "nope"}).status_code == 404


class TestExport:
    def test_downloads_the_dashboard_as_a_workbook(self, manager_client, on_world_day):
        response = manager_client.get("/dashboard/export.xlsx", {"anchor": "2026-05"})
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX
        assert "attachment;" in response["Content-Disposition"]
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        assert len(book.sheetnames) >= 5


class TestQueryCount:
    def test_the_page_costs_the_same_queries_at_two_data_sizes(self, manager_client, monkeypatch):
        today = date(2026, 5, 29)
        monkeypatch.setattr("dashboard.views.as_of", lambda: today)
        counts = []
        for batch in (3, 30):
            for i in range(batch):
                DealFactory(
                    stage=("lead", "quoted", "approval")[i % 3],
                    face_value=1_000_000,
                    created_at=at(date(2026, 5, 1 + i % 20)),
                    stage_entered_at=at(date(2026, 5, 1)),
                )
            with CaptureQueriesContext(connection) as queries:
                response = manager_client.get("/dashboard/", {"anchor": "2026-05"})
                assert response.status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]
        assert Period.month(today).label == "2026-05"
