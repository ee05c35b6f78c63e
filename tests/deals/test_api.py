"""Deals API: the same services and permissions as the screens, answered as JSON."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.roles import ROLE_CODES
from core.models import AuditEvent
from credit.models import Exposure
from deals.choices import ApprovalStatus, Stage
from deals.models import Deal, Receivable
from tests.factories import (
    BankAccountFactory,
    CustomerFactory,
    DealFactory,
    ReceivableFactory,
)

pytestmark = pytest.mark.django_db
TODAY = date.today()
JSON = "application/json"
READERS = {"sales", "underwriter", "approver", "operations", "collections", "compliance",
           "manager"}  # fmt: skip
OPENERS = {"sales", "underwriter"}  # add deals and receivables, remove receivables
WORKERS = {"sales", "underwriter", "operations"}  # change deals and receivables, move deals
EXPORTERS = {"underwriter", "approver", "manager"}


def _post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type=JSON)


def _patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type=JSON)


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _deal_in_approval(desk, *, face: int = 1_000_000, **options) -> Deal:
    """Bring a deal to 稟議 through the services, priced at the policy's advance rate (at ¥1M
    face its approval needs level 1)."""
    return desk.deal_at(Stage.APPROVAL, faces=[face], rate=None, **options)


class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_reads_follow_the_role_table(self, role_client, role):
        receivable = ReceivableFactory()
        client = role_client(role)
        expected = 200 if role in READERS else 403
        assert client.get("/api/deals/").status_code == expected
        assert client.get(f"/api/deals/{receivable.deal.number}/").status_code == expected
        assert client.get("/api/receivables/").status_code == expected
        assert client.get(f"/api/receivables/{receivable.pk}/").status_code == expected
        assert client.get("/api/approvals/").status_code == expected

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_sales_and_underwriters_open_deals(self, role_client, role):
        party = CustomerFactory()
        response = _post(role_client(role), "/api/deals/",
                         {"client": party.pk, "name": "新規案件", "channel": "web",
                          "scheme": "two_party"})  # fmt: skip
        assert response.status_code == (201 if role in OPENERS else 403)

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_edits_moves_pricing_and_checks_follow_the_role_table(self, role_client, role):
        deal = DealFactory()
        client = role_client(role)
        allowed = role in WORKERS
        url = f"/api/deals/{deal.number}/"
        assert _patch(client, url, {"next_action": "電話"}).status_code == (200 if allowed else 403)
        # Allowed roles reach the service: the lead still misses its next-action owner and due.
        assert _post(client, f"{url}to-documents/").status_code == (409 if allowed else 403)
        assert _post(client, f"{url}lose/", {"lost_reasons": ["price"]}).status_code == (
            200 if allowed else 403
        )
        assert _post(client, f"{url}price/", {"fee_rate": "0.1"}).status_code == (
            409 if allowed else 403  # a lost deal's pricing is frozen
        )
        assert _post(client, f"{url}check-clearance/").status_code == (200 if allowed else 403)
        assert _post(client, f"{url}check-credit/").status_code == (200 if allowed else 403)

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_nobody_deletes_or_replaces_a_deal(self, role_client, role):
        deal = DealFactory()
        client = role_client(role)
        assert client.delete(f"/api/deals/{deal.number}/").status_code == 405
        assert client.put(f"/api/deals/{deal.number}/", {}, content_type=JSON).status_code == 405
        assert Deal.objects.filter(pk=deal.pk).exists()

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_receivable_writes_follow_the_role_table(self, role_client, role):
        deal = DealFactory()
        receivable = ReceivableFactory(deal=deal)
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        client = role_client(role)
        created = _post(client, "/api/receivables/",
                        {"deal": deal.number, "debtor": debtor.pk, "invoice_number": "B-1",
                         "issue_date": str(TODAY), "due_date": str(TODAY + timedelta(days=30)),
                         "face_amount": 500_000})  # fmt: skip
        assert created.status_code == (201 if role in OPENERS else 403)
        changed = _patch(
            client, f"/api/receivables/{receivable.pk}/", {"verification_note": "電話"}
        )
        assert changed.status_code == (200 if role in WORKERS else 403)
        removed = client.delete(f"/api/receivables/{receivable.pk}/")
        assert removed.status_code == (204 if role in OPENERS else 403)

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_approvers_decide(self, role_client, desk, role):
        approval = _deal_in_approval(desk).approvals.get()
        client = role_client(role, approval_level=3)
        response = _post(client, f"/api/approvals/{approval.pk}/decide/",
                         {"decision": "approve", "comment": "承認"})  # fmt: skip
        assert response.status_code == (200 if role == "approver" else 403)

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_underwriters_approvers_and_managers_export(self, role_client, role):
        DealFactory()
        response = role_client(role).get("/api/deals/export/")
        assert response.status_code == (200 if role in EXPORTERS else 403)

    def test_anonymous_callers_are_refused(self, client):
        deal = DealFactory()
        assert client.get("/api/deals/").status_code in (401, 403)
        assert client.post(f"/api/deals/{deal.number}/to-documents/").status_code in (401, 403)


class TestDeals:
    def test_opening_a_deal_answers_201_with_a_lead_and_its_number(self, role_client):
        party = CustomerFactory()
        client = role_client("sales")
        response = _post(client, "/api/deals/",
                         {"client": party.pk, "name": "3月分請求書", "channel": "web",
                          "scheme": "two_party", "registration_required": True})  # fmt: skip
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["number"] == f"{TODAY.year}-0001" and data["stage"] == Stage.LEAD
        assert data["owner"] == client.user.pk and data["registration_required"] is True
        assert [m["code"] for m in data["missing_requirements"]] == ["next_action"]
        assert [t["to"] for t in data["available_transitions"]] == ["documents", "lost",
                                                                    "cancelled"]  # fmt: skip
        assert AuditEvent.objects.filter(action="deal.created", subject_id=str(data["id"])).exists()

    def test_the_client_must_be_an_existing_customer(self, role_client):
        response = _post(role_client("sales"), "/api/deals/",
                         {"client": 999_999, "name": "x", "channel": "web", "scheme": "two_party"})  # fmt: skip
        assert response.status_code == 400 and "client" in response.json()

    def test_list_runs_the_same_queries_for_two_deals_or_six(self, role_client):
        client = role_client("manager")
        counts = []
        for _ in range(2):
            for deal in DealFactory.create_batch(2 if not counts else 4):
                ReceivableFactory(deal=deal)
            with CaptureQueriesContext(connection) as queries:
                data = client.get("/api/deals/").json()
            counts.append(len(queries))
        assert data["count"] == 6 and counts[0] == counts[1]
        assert "available_transitions" not in data["results"][0]

    def test_list_filters_with_the_deal_filter(self, role_client):
        quoted = DealFactory(stage=Stage.QUOTED, name="見積中の案件")
        DealFactory(stage=Stage.LEAD)
        client = role_client("sales")
        by_stage = client.get("/api/deals/", {"stage": "quoted"}).json()["results"]
        assert [row["number"] for row in by_stage] == [quoted.number]
        by_text = client.get("/api/deals/", {"q": "見積中"}).json()["results"]
        assert [row["number"] for row in by_text] == [quoted.number]
        assert client.get("/api/deals/", {"amount": "nonsense"}).status_code == 400

    def test_retrieve_nests_receivables_and_runs_the_same_queries_for_one_or_three(
        self, role_client
    ):
        client = role_client("sales")
        counts = []
        for size in (1, 3):
            deal = DealFactory()
            ReceivableFactory.create_batch(size, deal=deal)
            with CaptureQueriesContext(connection) as queries:
                data = client.get(f"/api/deals/{deal.number}/").json()
            counts.append(len(queries))
            assert len(data["receivables"]) == size
        assert counts[0] == counts[1]

    def test_an_unknown_number_answers_404(self, role_client):
        assert role_client("sales").get("/api/deals/2099-9999/").status_code == 404

    def test_patch_writes_only_what_deal_update_accepts(self, role_client):
        deal = DealFactory()
        client = role_client("sales")
        response = _patch(client, f"/api/deals/{deal.number}/",
                          {"next_action": "書類回収", "next_action_owner": client.user.pk,
                           "next_action_due": str(TODAY), "stage": "closed", "face_value": 1,
                           "advance_rate": "0.9"})  # fmt: skip
        assert response.status_code == 200, response.content
        deal.refresh_from_db()
        assert deal.next_action == "書類回収" and deal.stage == Stage.LEAD
        assert deal.face_value == 0 and deal.advance_rate is None
        assert response.json()["missing_requirements"] == []

    def test_the_client_of_a_deal_cannot_be_changed(self, role_client):
        deal = DealFactory()
        response = _patch(role_client("sales"), f"/api/deals/{deal.number}/",
                          {"client": CustomerFactory().pk})  # fmt: skip
        assert response.status_code == 400 and "client" in response.json()

    def test_a_blocked_move_answers_409_with_exactly_the_missing_codes(self, role_client):
        deal = DealFactory(channel="referral", referrer_company="", next_action="")
        response = _post(role_client("sales"), f"/api/deals/{deal.number}/to-documents/")
        assert response.status_code == 409
        body = response.json()
        assert [m["code"] for m in body["missing"]] == ["channel", "next_action"]
        assert all(m["stage"] == "lead" and m["label"] in body["detail"] for m in body["missing"])
        deal.refresh_from_db()
        assert deal.stage == Stage.LEAD

    def test_a_move_the_pipeline_does_not_offer_answers_409(self, role_client):
        deal = DealFactory()
        response = _post(role_client("sales"), f"/api/deals/{deal.number}/to-screening/")
        assert response.status_code == 409 and response.json()["detail"]

    def test_losing_needs_one_to_three_reasons_and_records_them(self, role_client):
        deal = DealFactory()
        client = role_client("sales")
        url = f"/api/deals/{deal.number}/lose/"
        assert _post(client, url, {"lost_reasons": []}).status_code == 400
        assert _post(client, url, {"lost_reasons": ["no_such_reason"]}).status_code == 400
        response = _post(client, url, {"lost_reasons": ["price", "speed"], "comment": "他社が安い"})
        assert response.status_code == 200
        data = response.json()
        assert data["stage"] == Stage.LOST and sorted(data["lost_reasons"]) == ["price", "speed"]
        assert data["lost_note"] == "他社が安い" and data["available_transitions"] == []

    def test_cancelling_needs_a_comment(self, role_client):
        deal = DealFactory()
        client = role_client("operations")
        assert _post(client, f"/api/deals/{deal.number}/cancel/").status_code == 400
        response = _post(client, f"/api/deals/{deal.number}/cancel/", {"comment": "重複登録"})
        assert response.status_code == 200 and response.json()["stage"] == Stage.CANCELLED

    def test_approval_is_left_only_through_a_decision(self, role_client, desk):
        deal = _deal_in_approval(desk)
        client = role_client("sales")
        assert "to-contracted" not in str(client.get(f"/api/deals/{deal.number}/").json())
        assert _post(client, f"/api/deals/{deal.number}/to-contracted/").status_code == 404

    def test_overriding_the_advance_rate_is_refused_to_sales(self, role_client, desk):
        client_party, debtor = desk.client(), desk.debtor()
        deal = DealFactory(client=client_party)
        ReceivableFactory(deal=deal, debtor=debtor)
        response = _post(role_client("sales"), f"/api/deals/{deal.number}/price/",
                         {"fee_rate": "0.1000", "advance_override": "0.9500",
                          "override_reason": "特例"})  # fmt: skip
        assert response.status_code == 403


class TestReceivables:
    def test_adding_one_recomputes_the_deal_and_is_audited(self, role_client):
        deal = DealFactory()
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        response = _post(role_client("sales"), "/api/receivables/",
                         {"deal": deal.number, "debtor": debtor.pk, "invoice_number": " X-1 ",
                          "issue_date": str(TODAY), "due_date": str(TODAY + timedelta(days=30)),
                          "face_amount": 2_500_000, "evidence_received": True,
                          "verification_method": "contract"})  # fmt: skip
        assert response.status_code == 201, response.content
        assert response.json()["invoice_number"] == "X-1"
        deal.refresh_from_db()
        assert deal.face_value == 2_500_000
        assert AuditEvent.objects.filter(action="deal.receivable_added").exists()

    def test_a_double_sale_answers_409_with_the_other_deal(self, role_client):
        earlier = ReceivableFactory(invoice_number="INV-777")
        deal = DealFactory()
        response = _post(role_client("sales"), "/api/receivables/",
                         {"deal": deal.number, "debtor": earlier.debtor_id,
                          "invoice_number": "inv-777", "issue_date": str(TODAY),
                          "due_date": str(TODAY + timedelta(days=30)), "face_amount": 100_000})  # fmt: skip
        assert response.status_code == 409
        assert response.json()["other_deal"] == earlier.deal.number
        assert earlier.deal.number in response.json()["detail"]
        assert not Receivable.objects.filter(deal=deal).exists()

    def test_a_double_sale_by_correction_also_answers_409(self, role_client):
        earlier = ReceivableFactory(invoice_number="INV-888")
        mine = ReceivableFactory(debtor=earlier.debtor, invoice_number="INV-889")
        response = _patch(role_client("sales"), f"/api/receivables/{mine.pk}/",
                          {"invoice_number": "INV-888"})  # fmt: skip
        assert response.status_code == 409
        assert response.json()["other_deal"] == earlier.deal.number

    def test_list_filters_by_deal_number_and_debtor(self, role_client):
        first = ReceivableFactory()
        ReceivableFactory(deal=first.deal)
        other = ReceivableFactory()
        client = role_client("collections")
        by_deal = client.get("/api/receivables/", {"deal": first.deal.number}).json()
        assert by_deal["count"] == 2
        by_debtor = client.get("/api/receivables/", {"debtor": other.debtor_id}).json()
        assert [row["id"] for row in by_debtor["results"]] == [other.pk]

    def test_a_receivable_stays_with_its_deal(self, role_client):
        receivable = ReceivableFactory()
        response = _patch(role_client("sales"), f"/api/receivables/{receivable.pk}/",
                          {"deal": DealFactory().number})  # fmt: skip
        assert response.status_code == 400 and "deal" in response.json()

    def test_removing_one_goes_through_the_service(self, role_client):
        receivable = ReceivableFactory()
        deal = receivable.deal
        response = role_client("underwriter").delete(f"/api/receivables/{receivable.pk}/")
        assert response.status_code == 204
        assert not Receivable.objects.filter(pk=receivable.pk).exists()
        assert AuditEvent.objects.filter(action="deal.receivable_removed",
                                         subject_id=str(deal.pk)).exists()  # fmt: skip

    def test_receivables_are_frozen_once_the_deal_is_in_approval(self, role_client, desk):
        receivable = _deal_in_approval(desk).receivables.get()
        response = role_client("sales").delete(f"/api/receivables/{receivable.pk}/")
        assert response.status_code == 409
        assert Receivable.objects.filter(pk=receivable.pk).exists()


class TestApprovals:
    def test_the_inbox_lists_what_the_approver_may_decide_and_all_lists_everything(
        self, role_client, desk
    ):
        approval = _deal_in_approval(desk).approvals.get()
        assert approval.required_level == 1
        senior = role_client("approver", approval_level=1)
        inbox = senior.get("/api/approvals/").json()
        assert [row["id"] for row in inbox["results"]] == [approval.pk]
        assert inbox["results"][0]["deal"] == approval.deal.number
        sales = role_client("sales")  # no approval authority: an empty inbox
        assert sales.get("/api/approvals/").json()["count"] == 0
        assert sales.get("/api/approvals/", {"all": "1"}).json()["count"] == 1
        assert sales.get(f"/api/approvals/{approval.pk}/").json()["status"] == "pending"

    def test_the_owner_of_a_deal_cannot_decide_on_it(self, role_client, make_user, desk):
        approver = make_user("approver", approval_level=3)
        approval = _deal_in_approval(desk, owner=approver).approvals.get()
        response = _post(_login(approver), f"/api/approvals/{approval.pk}/decide/",
                         {"decision": "approve"})  # fmt: skip
        assert response.status_code == 403 and response.json()["detail"]
        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.PENDING

    def test_an_approver_below_the_required_level_is_refused(self, role_client, desk):
        approval = _deal_in_approval(desk, face=2_000_000).approvals.get()
        assert approval.required_level == 2  # ¥1.4M advance: the head of credit's band
        response = _post(role_client("approver", approval_level=1),
                         f"/api/approvals/{approval.pk}/decide/", {"decision": "approve"})  # fmt: skip
        assert response.status_code == 403

    def test_sending_back_returns_the_deal_to_the_chosen_stage(self, role_client, desk):
        deal = _deal_in_approval(desk)
        approval = deal.approvals.get()
        client = role_client("approver", approval_level=1)
        url = f"/api/approvals/{approval.pk}/decide/"
        assert _post(client, url, {"decision": "send_back", "comment": "再審査"}).status_code == 400
        response = _post(client, url, {"decision": "send_back", "comment": "再審査",
                                       "send_back_to": "underwriting"})  # fmt: skip
        assert response.status_code == 200
        data = response.json()
        assert data["status"] == ApprovalStatus.SENT_BACK and data["deal_stage"] == "underwriting"

    def test_a_decided_request_cannot_be_decided_again(self, role_client, desk):
        approval = _deal_in_approval(desk).approvals.get()
        client = role_client("approver", approval_level=1)
        url = f"/api/approvals/{approval.pk}/decide/"
        assert _post(client, url, {"decision": "approve"}).status_code == 200
        assert _post(client, url, {"decision": "approve"}).status_code == 409


class TestJourney:
    def test_a_deal_travels_from_lead_to_closed_through_the_api(self, make_user, desk):
        sales, underwriter = make_user("sales"), make_user("underwriter")
        operations = make_user("operations")
        approver = make_user("approver", approval_level=3)
        as_sales, as_underwriter = _login(sales), _login(underwriter)
        as_operations, as_approver = _login(operations), _login(approver)
        party, debtor = desk.client(), desk.debtor()

        opened = _post(as_sales, "/api/deals/",
                       {"client": party.pk, "name": "3月分請求書の買取", "channel": "web",
                        "scheme": "two_party", "registration_required": True})  # fmt: skip
        number = opened.json()["number"]
        url = f"/api/deals/{number}/"
        _patch(as_sales, url, {"next_action": "書類回収", "next_action_owner": sales.pk,
                               "next_action_due": str(TODAY + timedelta(days=3))})  # fmt: skip
        assert _post(as_sales, f"{url}to-documents/").json()["stage"] == Stage.DOCUMENTS
        added = _post(as_sales, "/api/receivables/",
                      {"deal": number, "debtor": debtor.pk, "invoice_number": "A-100",
                       "issue_date": str(TODAY - timedelta(days=5)),
                       "due_date": str(TODAY + timedelta(days=55)), "face_amount": 10_000_000,
                       "evidence_received": True, "verification_method": "debtor_call"})  # fmt: skip
        assert added.status_code == 201
        assert _post(as_sales, f"{url}to-screening/").status_code == 200
        assert _post(as_sales, f"{url}to-underwriting/").status_code == 200

        blocked = _post(as_underwriter, f"{url}to-quoted/").json()
        assert [m["code"] for m in blocked["missing"]] == ["pricing", "limit_checked"]
        priced = _post(as_underwriter, f"{url}price/",
                       {"fee_rate": "0.1000", "advance_override": "0.7000",
                        "override_reason": "記事の例に合わせる"}).json()  # fmt: skip
        assert (priced["advance_amount"], priced["fee"], priced["upfront_payment"],
                priced["reserve"], priced["total_to_client"]) == (
            7_000_000, 700_000, 6_300_000, 3_000_000, 9_300_000)  # fmt: skip
        checked = _post(as_underwriter, f"{url}check-credit/").json()
        assert checked["credit_result"]["check"]["amount"] == 7_000_000
        assert checked["missing_requirements"] == []
        assert _post(as_underwriter, f"{url}to-quoted/").status_code == 200

        _patch(as_sales, url, {"term_sheet_date": str(TODAY),
                               "expected_payment_date": str(TODAY + timedelta(days=7)),
                               "expected_collection_date": str(TODAY + timedelta(days=55)),
                               "memo_background": "継続取引", "memo_judgement": "売掛先A格",
                               "memo_next": "契約準備"})  # fmt: skip
        in_approval = _post(as_sales, f"{url}to-approval/").json()
        assert in_approval["stage"] == Stage.APPROVAL
        assert [t["to"] for t in in_approval["available_transitions"]] == ["lost", "cancelled"]
        inbox = as_approver.get("/api/approvals/").json()["results"]
        assert [row["deal"] for row in inbox] == [number] and inbox[0]["required_level"] == 3
        decided = _post(as_approver, f"/api/approvals/{inbox[0]['id']}/decide/",
                        {"decision": "approve", "comment": "承認"})  # fmt: skip
        assert decided.json()["status"] == ApprovalStatus.APPROVED
        assert decided.json()["deal_stage"] == Stage.CONTRACTED
        assert Exposure.objects.get(pk=party.pk).client_reserved == 7_000_000

        account = BankAccountFactory(customer=party, verification="test_deposit")
        blocked = _post(as_operations, f"{url}to-executed/").json()
        assert {m["code"] for m in blocked["missing"]} == {
            "contract", "registration", "remittance", "execution"}  # fmt: skip
        _patch(as_operations, url, {"contract_date": str(TODAY), "e_contract_id": "CS-1",
                                    "registration_applied_on": str(TODAY),
                                    "registration_completed_at": opened.json()["created_at"],
                                    "registration_number": "第2026-123号",
                                    "remittance_account": account.pk,
                                    "executed_on": str(TODAY), "executed_amount": 6_300_000})  # fmt: skip
        assert _post(as_operations, f"{url}to-executed/").json()["stage"] == Stage.EXECUTED
        assert _post(as_operations, f"{url}to-collecting/").json()["stage"] == Stage.COLLECTING
        closed = _post(as_operations, f"{url}to-closed/").json()
        assert closed["stage"] == Stage.CLOSED and closed["available_transitions"] == []
        exposure = Exposure.objects.get(pk=party.pk)
        assert (exposure.client_reserved, exposure.client_consumed) == (0, 7_000_000)
