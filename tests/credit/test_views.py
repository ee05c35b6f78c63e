"""Credit screens: who may open what, the calculator's figures, proposals and decisions."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from accounts.roles import ROLE_CODES
from core.models import AuditEvent
from credit.choices import LimitStatus
from credit.models import CreditLimit
from credit.services import reserve
from tests.factories import CreditLimitFactory, CustomerFactory, RatingFactory

CREDIT_READERS = {"sales", "underwriter", "approver", "operations", "collections", "compliance",
                  "manager"}  # fmt: skip
CALCULATOR_USERS = CREDIT_READERS | {"admin"}
PROPOSERS = {"underwriter"}
APPROVERS = {"approver"}
SHEET_USERS = {"underwriter", "approver", "manager"}

pytestmark = pytest.mark.django_db


def _status(client, url: str) -> int:
    return client.get(url).status_code


class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_each_role_opens_exactly_the_credit_screens_it_is_meant_to(self, role_client, role):
        party = CustomerFactory()
        client = role_client(role, approval_level=3)
        expect = lambda allowed: 200 if role in allowed else 403  # noqa: E731
        assert _status(client, "/credit/calculator/") == expect(CALCULATOR_USERS)
        assert _status(client, "/credit/") == expect(CREDIT_READERS)
        assert _status(client, f"/credit/counterparties/{party.pk}/") == expect(CREDIT_READERS)
        assert _status(client, f"/credit/counterparties/{party.pk}/panel/") == expect(
            CREDIT_READERS
        )
        assert _status(client, f"/credit/counterparties/{party.pk}/limits/new/") == expect(
            PROPOSERS
        )
        assert _status(client, f"/credit/counterparties/{party.pk}/ratings/new/") == expect(
            PROPOSERS
        )
        assert _status(client, "/credit/limits/inbox/") == expect(APPROVERS)
        assert _status(client, "/credit/sheet/?month=2026-10") == expect(SHEET_USERS)

    def test_anonymous_users_are_sent_to_the_login_page(self, client):
        response = client.get("/credit/calculator/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


class TestFundingCalculator:
    def test_the_source_articles_example_shows_9_300_000_to_the_client(self, role_client):
        client = role_client("underwriter")
        body = client.get(
            "/credit/calculator/",
            {"face_value": 10_000_000, "scheme": "two_party", "debtor_rating": "C",
             "client_size": "small", "prior_deals": 0, "fee_rate": "10"},
        ).content.decode()  # fmt: skip
        assert "¥7,000,000" in body and "¥700,000" in body
        assert "¥6,300,000" in body and "¥3,000,000" in body
        assert 'data-testid="total-to-client">¥9,300,000<' in body

    def test_htmx_recalculation_returns_only_the_result_with_itemised_costs(self, role_client):
        client = role_client("sales")
        response = client.get(
            "/credit/calculator/",
            {"face_value": 10_000_000, "scheme": "three_party", "debtor_rating": "C",
             "client_size": "small", "prior_deals": 0, "fee_rate": "10",
             "registration_fee": 7_500, "advance_override": "80"},
            HTTP_HX_REQUEST="true",
        )  # fmt: skip
        body = response.content.decode()
        assert "<html" not in body
        # 80 % / 10 %: 8,000,000 / 800,000 / 7,200,000 less 7,500 of registration fee.
        assert "¥8,000,000" in body and "¥800,000" in body and "¥2,000,000" in body
        assert 'data-testid="upfront-payment">¥7,192,500<' in body
        assert "−¥7,500" in body

    def test_invalid_input_says_what_to_correct_instead_of_failing(self, role_client):
        response = role_client("sales").get(
            "/credit/calculator/", {"face_value": "-5", "fee_rate": "10"}, HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="breakdown"' not in body and 'data-testid="calc-errors"' in body
        assert "額面" in body  # the field named in Japanese


class TestCounterpartyPage:
    def test_shows_limits_headroom_group_and_concentration_in_fixed_queries(
        self, role_client, make_user, django_assert_max_num_queries
    ):
        actor = make_user("underwriter")
        parent = CustomerFactory()
        client_party = CustomerFactory(parent=parent)
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        RatingFactory(counterparty=client_party, grade="A")
        CreditLimitFactory(counterparty=client_party, amount=10_000_000)
        CreditLimitFactory(counterparty=debtor, kind="debtor", amount=5_000_000)
        CreditLimitFactory(counterparty=parent, kind="group", amount=12_000_000)
        for n in range(3):
            reserve(counterparty=client_party, amount=1_000_000, reference=f"R-{n}",
                    actor=actor, debtor=debtor)  # fmt: skip
        web = role_client("underwriter")
        with django_assert_max_num_queries(30):
            body = web.get(f"/credit/counterparties/{client_party.pk}/").content.decode()
        assert 'data-testid="headroom-client">¥7,000,000<' in body
        assert 'data-testid="group-exposure">¥3,000,000<' in body
        assert debtor.name in body and 'data-testid="grade">A<' in body
        debtor_page = web.get(f"/credit/counterparties/{debtor.pk}/").content.decode()
        assert 'data-testid="headroom-debtor">¥2,000,000<' in debtor_page
        assert client_party.name in debtor_page  # which clients sell this debtor's invoices

    def test_query_count_does_not_grow_with_ledger_entries(
        self, role_client, make_user, django_assert_max_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        actor = make_user("underwriter")
        party = CustomerFactory()
        CreditLimitFactory(counterparty=party, amount=100_000_000)
        web = role_client("underwriter")
        counts = []
        for batch in (2, 20):
            for n in range(batch):
                reserve(counterparty=party, amount=10_000, reference=f"B{batch}-{n}", actor=actor)
            with CaptureQueriesContext(connection) as queries:
                assert web.get(f"/credit/counterparties/{party.pk}/").status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]

    def test_the_amount_check_names_the_limit_that_blocks(self, role_client):
        party = CustomerFactory()
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        CreditLimitFactory(counterparty=party, amount=10_000_000)
        CreditLimitFactory(counterparty=debtor, kind="debtor", amount=1_000_000)
        body = (
            role_client("sales")
            .get(f"/credit/counterparties/{party.pk}/check/",
                 {"amount": 2_000_000, "debtor": debtor.pk})
            .content.decode()
        )  # fmt: skip
        assert 'data-light="red"' in body and debtor.name in body
        assert "¥1,000,000" in body

    def test_the_customer_page_loads_the_credit_panel(self, role_client):
        party = CustomerFactory()
        CreditLimitFactory(counterparty=party, amount=10_000_000)
        web = role_client("sales")
        page = web.get(f"/customers/{party.pk}/").content.decode()
        assert f'hx-get="/credit/counterparties/{party.pk}/panel/"' in page
        panel = web.get(f"/credit/counterparties/{party.pk}/panel/").content.decode()
        assert 'data-testid="credit-panel"' in panel and "¥10,000,000" in panel

    def test_the_list_filters_by_traffic_light(self, role_client, make_user):
        actor = make_user("underwriter")
        calm, busy = CustomerFactory(), CustomerFactory()
        CreditLimitFactory(counterparty=calm, amount=10_000_000)
        CreditLimitFactory(counterparty=busy, amount=10_000_000)
        reserve(counterparty=busy, amount=9_000_000, reference="X", actor=actor)
        body = role_client("manager").get("/credit/", {"light": "yellow"}).content.decode()
        assert busy.name in body and calm.name not in body


class TestLimitWorkflow:
    def test_an_underwriter_proposes_and_an_approver_with_authority_approves(
        self, role_client, make_user, client
    ):
        party = CustomerFactory(net_assets=100_000_000, annual_sales=600_000_000)
        web = role_client("underwriter")
        form = web.get(f"/credit/counterparties/{party.pk}/limits/new/").content.decode()
        assert 'value="100000000"' in form  # net assets prefilled for the recommendation
        response = web.post(
            f"/credit/counterparties/{party.pk}/limits/new/",
            {"kind": "client", "amount": 20_000_000, "valid_from": "2026-11-01",
             "valid_until": "2027-10-31", "review_date": "2027-05-01", "rationale": "月商法",
             "rec-rating": "A", "rec-net_assets": 100_000_000},
        )  # fmt: skip
        assert response.status_code == 302
        limit = CreditLimit.objects.get(counterparty=party)
        assert limit.status == LimitStatus.PROPOSED and limit.required_level == 2
        assert limit.recommended_amount == 10_000_000
        assert limit.recommended_by_method == "net_assets"

        team_manager = make_user("approver", approval_level=1)
        client.force_login(team_manager)
        assert party.name not in client.get("/credit/limits/inbox/").content.decode()
        client.post(f"/credit/limits/{limit.pk}/decide/", {"decision": "approve"})
        limit.refresh_from_db()
        assert limit.status == LimitStatus.PROPOSED  # outside a team manager's authority

        head = make_user("approver", approval_level=2)
        client.force_login(head)
        assert party.name in client.get("/credit/limits/inbox/").content.decode()
        client.post(f"/credit/limits/{limit.pk}/decide/", {"decision": "approve", "comment": "可"})
        limit.refresh_from_db()
        assert limit.status == LimitStatus.ACTIVE and limit.decided_by == head

    def test_the_recommendation_recalculates_through_htmx(self, role_client):
        party = CustomerFactory()
        body = (
            role_client("underwriter")
            .post(f"/credit/counterparties/{party.pk}/limits/new/",
                  {"rec-rating": "B", "rec-monthly_trade": 3_000_000, "rec-collection_days": 90},
                  HTTP_HX_REQUEST="true")
            .content.decode()
        )  # fmt: skip
        # 3M a month at 90 days → 9M balance; × 0.7 for rating B → 6.3M.
        assert "¥9,000,000" in body and "¥6,300,000" in body

    def test_a_rejection_needs_a_comment(self, role_client, make_user):
        limit = CreditLimitFactory(status=LimitStatus.PROPOSED, decided_by=None, decided_at=None)
        web = role_client("approver", approval_level=3)
        web.post(f"/credit/limits/{limit.pk}/decide/", {"decision": "reject", "comment": ""})
        limit.refresh_from_db()
        assert limit.status == LimitStatus.PROPOSED

    def test_a_rating_downgrade_to_d_suspends_the_limit_from_the_screen(self, role_client):
        limit = CreditLimitFactory()
        RatingFactory(counterparty=limit.counterparty, grade="B")
        web = role_client("underwriter")
        web.post(
            f"/credit/counterparties/{limit.counterparty_id}/ratings/new/",
            {"grade": "D", "rationale": "支払遅延", "internal_score": 30},
        )
        limit.refresh_from_db()
        assert limit.status == LimitStatus.SUSPENDED


class TestMonthlySheetDownload:
    def test_downloads_an_excel_workbook_and_logs_the_export(self, role_client):
        limit = CreditLimitFactory()
        response = role_client("manager").get("/credit/sheet/", {"month": "2026-11"})
        assert response.status_code == 200
        workbook = load_workbook(BytesIO(response.content))
        sheet = workbook.worksheets[0]
        names = [cell.value for row in sheet.iter_rows() for cell in row]
        assert limit.counterparty.name in names
        assert AuditEvent.objects.filter(action="credit.sheet_exported").exists()
