"""Export read back with openpyxl; the JSON API with filters and manager-only access; a
constant number of queries whatever the size of the book."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from dashboard.assumptions import default_assumptions
from dashboard.export import dashboard_workbook
from dashboard.selectors import dashboard_data
from tests.factories import DealFactory

from .factories import ExpectedCollectionFactory, at, history

API = "/api/dashboard/"


def test_workbook_has_one_sheet_per_panel(dashboard_world):
    data = dashboard_data(dashboard_world.filters, default_assumptions(),
                          today=dashboard_world.today)  # fmt: skip
    book = load_workbook(BytesIO(dashboard_workbook(data)))
    assert len(book.sheetnames) >= 10
    kgi = book[book.sheetnames[0]]
    assert kgi.freeze_panes == "A2"
    assert kgi["B2"].value == 16_000_000  # executed amount, this period
    assert kgi["C2"].value == 4_000_000
    assert "¥" in kgi["B2"].number_format
    from django.utils.translation import gettext

    forecast = book[gettext("Forecast")]
    assert forecast.cell(forecast.max_row, 5).value == 18_400_000


class TestApi:
    def test_returns_every_kpi_to_a_manager(self, dashboard_world, manager_client):
        body = manager_client.get(API, {"period": "month", "anchor": "2026-05"}).json()
        figures = {f["code"]: f for f in body["kgi"]}
        assert figures["win_rate"]["value"] is not None
        assert set(figures) >= {"executed_amount", "fee_revenue", "expected_loss"}
        assert body["definitions"]["win_rate"]["definition"]

    def test_applies_the_filters(self, dashboard_world, manager_client, monkeypatch):
        monkeypatch.setattr("dashboard.views.as_of", lambda: dashboard_world.today)
        body = manager_client.get(API, {"anchor": "2026-05", "channel": "referral"}).json()
        figures = {f["code"]: f for f in body["kgi"]}
        assert figures["executed_amount"]["value"] == 3_000_000
        assert body["quote_win"]["quoted"] == 1

    def test_drill_pages_the_rows_behind_a_figure(self, dashboard_world, manager_client):
        response = manager_client.get(API + "drill/", {"anchor": "2026-05", "key": "executed"})
        assert response.status_code == 200
        assert response.json()["count"] == 9
        assert response.json()["kind"] == "deals"
        bad = manager_client.get(API + "drill/", {"key": "nonsense"})
        assert bad.status_code == 400

    @pytest.mark.parametrize("role", ["sales", "underwriter", "admin"])
    def test_refuses_other_roles(self, db, client, make_user, role):
        client.force_login(make_user(role))
        assert client.get(API).status_code == 403
        assert client.get(API + "drill/", {"key": "executed"}).status_code == 403

    def test_refuses_anonymous_users(self, db, client):
        assert client.get(API).status_code in (401, 403)

    def test_manager_role_holds_the_permission(self, manager):
        assert manager.has_perm("accounts.view_kpi_dashboard")


def _grow(world, copies: int) -> None:
    """Add ``copies`` more executed, quoted, lost and overdue deals like the world's."""
    for i in range(copies):
        d = DealFactory(owner=world.owners[0], client=world.retail, stage="executed",
                        created_at=at(date(2026, 5, 1)), executed_on=date(2026, 5, 14),
                        executed_amount=1_000_000, fee=10_000, channel="web")  # fmt: skip
        history(d, [("documents", at(date(2026, 5, 1), 11)), ("quoted", at(date(2026, 5, 7))),
                    ("executed", at(date(2026, 5, 14)))])  # fmt: skip
        ExpectedCollectionFactory(deal=d, debtor=world.debtor_a, due_date=date(2026, 5, 11 + i % 3))


def _queries(world, **filters) -> int:
    f = replace(world.filters, **filters)
    with CaptureQueriesContext(connection) as context:
        dashboard_data(f, default_assumptions(), today=world.today)
    return len(context.captured_queries)


def test_query_count_does_not_grow_with_the_book(dashboard_world):
    small = _queries(dashboard_world)
    small_grouped = _queries(dashboard_world, group_by="owner", debtor_rating="A")
    _grow(dashboard_world, 12)
    assert _queries(dashboard_world) == small
    assert _queries(dashboard_world, group_by="owner", debtor_rating="A") == small_grouped
    assert small <= 20
