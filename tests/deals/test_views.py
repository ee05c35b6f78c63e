"""Pipeline screens: who may open what, constant queries, stage forms and moves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import ROLE_CODES
from deals.choices import Stage
from deals.models import Deal, SavedFilter
from deals.services import deal_create, receivable_add
from tests.factories import CustomerFactory, DealFactory, ReceivableFactory

pytestmark = pytest.mark.django_db

READERS = {"sales", "underwriter", "approver", "operations", "collections", "compliance",
           "manager"}  # fmt: skip
WORKERS = {"sales", "underwriter", "operations"}


class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_each_role_opens_exactly_the_pipeline_screens_meant_for_it(self, role_client, role):
        deal = DealFactory()
        client = role_client(role, approval_level=3)
        expect = lambda allowed: 200 if role in allowed else 403  # noqa: E731
        assert client.get("/deals/").status_code == expect(READERS)
        assert client.get("/deals/list/").status_code == expect(READERS)
        assert client.get(f"/deals/{deal.number}/").status_code == expect(READERS)
        assert client.get("/deals/new/").status_code == expect({"sales", "underwriter"})
        assert client.get(f"/deals/{deal.number}/edit/").status_code == expect(WORKERS)
        assert client.get("/deals/approvals/").status_code == expect({"approver"})
        assert client.get("/deals/export/").status_code == expect(
            {"underwriter", "approver", "manager"}
        )
        transition = client.post(f"/deals/{deal.number}/transition/", {"to": "documents"})
        assert transition.status_code == (302 if role in WORKERS else 403)

    def test_anonymous_users_only_reach_the_login_page(self, client):
        deal = DealFactory()
        for url in ("/deals/", "/deals/list/", f"/deals/{deal.number}/"):
            response = client.get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]


class TestBoardAndList:
    def test_kanban_counts_and_sums_each_column_in_constant_queries(self, role_client):
        web = role_client("sales")
        counts = []
        for batch in (2, 12):
            for _ in range(batch):
                DealFactory(stage=Stage.DOCUMENTS, face_value=1_000_000)
            with CaptureQueriesContext(connection) as queries:
                body = web.get("/deals/").content.decode()
            counts.append(len(queries))
        assert counts[0] == counts[1]
        assert 'data-testid="count-documents">14<' in body
        assert "¥14,000,000" in body

    def test_list_pages_keep_the_same_query_count(self, role_client):
        web = role_client("manager")
        for _ in range(120):
            DealFactory()
        counts = []
        for page in (1, 3):
            with CaptureQueriesContext(connection) as queries:
                assert web.get("/deals/list/", {"page": page}).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]

    def test_the_list_filters_and_a_filter_can_be_saved(self, role_client):
        web = role_client("sales")
        wanted = DealFactory(scheme="three_party", name="三社間の案件")
        DealFactory(scheme="two_party", name="二社間の案件")
        body = web.get("/deals/list/", {"scheme": "three_party"}).content.decode()
        assert wanted.name in body and "二社間の案件" not in body
        web.post("/deals/filters/", {"name": "3社間", "query": "scheme=three_party"})
        saved = SavedFilter.objects.get(user=web.user)
        assert saved.query == "scheme=three_party"
        page = web.get("/deals/list/").content.decode()
        assert 'data-testid="saved-filters"' in page and "3社間" in page

    def test_my_next_actions_lists_the_users_deals_by_due_date(self, role_client):
        web = role_client("sales")
        late = DealFactory(next_action="電話", next_action_owner=web.user,
                           next_action_due=date.today() - timedelta(days=1))  # fmt: skip
        DealFactory(next_action="他人の仕事", next_action_due=date.today())
        body = web.get("/deals/tasks/").content.decode()
        assert f'data-testid="task-{late.number}"' in body and "他人の仕事" not in body


class TestDealPage:
    def test_shows_the_stage_checklist_and_a_blocked_move_names_what_is_missing(self, role_client):
        web = role_client("sales")
        deal = DealFactory()
        page = web.get(f"/deals/{deal.number}/").content.decode()
        assert 'data-code="next_action" data-met="no"' in page
        response = web.post(f"/deals/{deal.number}/transition/", {"to": "documents"},
                            follow=True)  # fmt: skip
        assert "次アクション（担当者・期限）" in response.content.decode()
        assert Deal.objects.get(pk=deal.pk).stage == Stage.LEAD

    def test_the_kanban_move_panel_lists_the_missing_items(self, role_client):
        web = role_client("sales")
        deal = DealFactory(stage=Stage.DOCUMENTS)
        panel = web.get(f"/deals/{deal.number}/transition/", {"to": "screening"},
                        HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
        assert 'data-testid="missing"' in panel and 'data-code="receivables"' in panel

    def test_the_edit_form_shows_only_the_fields_the_stage_needs(self, role_client):
        web = role_client("operations")
        lead = DealFactory()
        contracted = DealFactory(stage=Stage.CONTRACTED, registration_required=True)
        lead_form = web.get(f"/deals/{lead.number}/edit/").content.decode()
        contract_form = web.get(f"/deals/{contracted.number}/edit/").content.decode()
        assert 'name="next_action"' in lead_form and 'name="registration_number"' not in lead_form
        assert 'name="registration_number"' in contract_form
        assert 'name="remittance_account"' in contract_form
        assert 'name="term_sheet_date"' not in contract_form

    def test_detail_query_count_does_not_grow_with_receivables(self, role_client):
        web = role_client("underwriter")
        deal = DealFactory()
        counts = []
        for batch in (1, 10):
            for _ in range(batch):
                ReceivableFactory(deal=deal)
            with CaptureQueriesContext(connection) as queries:
                assert web.get(f"/deals/{deal.number}/").status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]

    def test_a_double_sale_is_refused_on_screen_with_a_link_to_the_other_deal(
        self, role_client, make_user
    ):
        web = role_client("sales")
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        first = deal_create(actor=web.user, client=CustomerFactory(), name="先の案件",
                            channel="web", scheme="two_party")  # fmt: skip
        receivable_add(deal=first, actor=web.user, debtor=debtor, invoice_number="INV-9",
                       issue_date=date.today(), due_date=date.today() + timedelta(days=30),
                       face_amount=500_000)  # fmt: skip
        second = DealFactory(owner=web.user, created_by=web.user)
        response = web.post(
            f"/deals/{second.number}/receivables/new/",
            {"debtor": debtor.pk, "invoice_number": "ＩＮＶ－９".replace("－", "-"),
             "issue_date": date.today(), "due_date": date.today() + timedelta(days=30),
             "face_amount": 500_000, "verification_method": "contract"},
        )  # fmt: skip
        body = response.content.decode()
        assert response.status_code == 200 and 'data-testid="double-sale"' in body
        assert f"/deals/{first.number}/" in body

    def test_the_customer_page_loads_the_deals_panel(self, role_client):
        deal = DealFactory()
        web = role_client("sales")
        page = web.get(f"/customers/{deal.client_id}/").content.decode()
        assert f'hx-get="/deals/customers/{deal.client_id}/panel/"' in page
        panel = web.get(f"/deals/customers/{deal.client_id}/panel/").content.decode()
        assert deal.number in panel


class TestDetailQueries:
    @pytest.mark.parametrize("stage", [Stage.SCREENING, Stage.CONTRACTED])
    def test_the_deal_page_asks_compliance_once_however_many_debtors(
        self, role_client, desk, stage
    ):
        web = role_client("operations")
        counts = []
        for debtors in (1, 4):
            deal = desk.move(desk.deal(faces=[1 * 1_000_000] * debtors), stage)
            with CaptureQueriesContext(connection) as queries:
                assert web.get(f"/deals/{deal.number}/").status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]
