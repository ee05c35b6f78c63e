"""Credit API: same services and permissions as the screens."""

from __future__ import annotations

import pytest

from accounts.roles import ROLE_CODES
from credit.choices import LimitStatus
from credit.models import CreditLimit
from credit.services import reserve
from tests.factories import CreditLimitFactory, CustomerFactory

pytestmark = pytest.mark.django_db

READERS = {"sales", "underwriter", "approver", "operations", "collections", "compliance",
           "manager"}  # fmt: skip


class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_reads_follow_the_role_table(self, role_client, role):
        party = CustomerFactory()
        client = role_client(role)
        expected = 200 if role in READERS else 403
        assert client.get("/api/credit/limits/").status_code == expected
        assert client.get("/api/credit/ratings/").status_code == expected
        assert client.get(f"/api/credit/exposure/{party.pk}/").status_code == expected
        assert client.get("/api/credit/ledger/").status_code == expected
        check = client.post(
            "/api/credit/check-limit/", {"counterparty": party.pk, "amount": 1}, format="json"
        )
        assert check.status_code == expected

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_underwriters_propose_and_only_approvers_decide(self, role_client, role):
        party = CustomerFactory()
        client = role_client(role, approval_level=3)
        proposal = client.post(
            "/api/credit/limits/",
            {"counterparty": party.pk, "kind": "client", "amount": 5_000_000,
             "valid_from": "2026-11-01", "valid_until": "2027-10-31",
             "review_date": "2027-04-30", "rationale": "API"},
            content_type="application/json",
        )  # fmt: skip
        assert proposal.status_code == (201 if role == "underwriter" else 403)
        pending = CreditLimitFactory(status=LimitStatus.PROPOSED, decided_by=None, decided_at=None)
        decision = client.post(f"/api/credit/limits/{pending.pk}/approve/", {},
                               content_type="application/json")  # fmt: skip
        assert decision.status_code == (200 if role == "approver" else 403)

    def test_anonymous_callers_get_401_or_403(self, client):
        assert client.get("/api/credit/limits/").status_code in (401, 403)
        assert client.post("/api/credit/funding/", {}).status_code in (401, 403)


class TestEndpoints:
    def test_the_proposer_cannot_approve_their_own_limit(self, role_client, make_user):
        proposer = make_user("underwriter", "approver", approval_level=3)
        limit = CreditLimitFactory(
            status=LimitStatus.PROPOSED, proposed_by=proposer, decided_by=None, decided_at=None
        )
        client = role_client("approver")
        client.force_login(proposer)
        response = client.post(f"/api/credit/limits/{limit.pk}/approve/", {},
                               content_type="application/json")  # fmt: skip
        assert response.status_code == 403
        assert CreditLimit.objects.get(pk=limit.pk).status == LimitStatus.PROPOSED

    def test_check_limit_returns_each_line_headroom_and_level(self, role_client, make_user):
        party = CustomerFactory()
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        CreditLimitFactory(counterparty=party, amount=10_000_000)
        CreditLimitFactory(counterparty=debtor, kind="debtor", amount=4_000_000)
        reserve(counterparty=party, amount=1_000_000, reference="A", actor=make_user("approver"),
                debtor=debtor)  # fmt: skip
        body = (
            role_client("sales")
            .post("/api/credit/check-limit/",
                  {"counterparty": party.pk, "amount": 3_500_000, "debtor": debtor.pk},
                  content_type="application/json")
            .json()
        )  # fmt: skip
        assert body["status"] == "red" and body["allowed"] is False
        assert body["required_level"] == 3 and body["headroom"] == 3_000_000
        kinds = {line["kind"]: line for line in body["lines"]}
        assert kinds["client"]["status"] == "green"
        assert kinds["debtor"]["after"] == 4_500_000 and kinds["debtor"]["status"] == "red"

    def test_exposure_shows_balances_and_headroom(self, role_client, make_user):
        party = CustomerFactory()
        CreditLimitFactory(counterparty=party, amount=10_000_000)
        reserve(counterparty=party, amount=8_500_000, reference="A", actor=make_user("approver"))
        body = role_client("manager").get(f"/api/credit/exposure/{party.pk}/").json()
        assert body["exposure"]["client_reserved"] == 8_500_000
        assert body["limits"][0]["headroom"] == 1_500_000 and body["status"] == "yellow"

    def test_funding_reproduces_the_articles_figures(self, role_client):
        client = role_client("sales")
        body = client.post(
            "/api/credit/funding/",
            {"face_value": 10_000_000, "advance_rate": "0.7000", "fee_rate": "0.1000"},
            content_type="application/json",
        ).json()
        assert (body["advance_amount"], body["fee"], body["upfront_payment"]) == (
            7_000_000, 700_000, 6_300_000)  # fmt: skip
        assert (body["reserve"], body["total_to_client"]) == (3_000_000, 9_300_000)

    def test_funding_takes_the_rate_from_the_active_policy_when_given_factors(self, role_client):
        body = (
            role_client("underwriter")
            .post("/api/credit/funding/",
                  {"face_value": 10_000_000, "fee_rate": "0.1000", "scheme": "three_party",
                   "registered": True, "debtor_rating": "A", "client_size": "large",
                   "prior_deals": 5, "other_costs": 7_500},
                  content_type="application/json")
            .json()
        )  # fmt: skip
        assert body["policy_version"] == 1 and body["advance_rate"] == "0.8900"
        assert body["upfront_payment"] == 8_900_000 - 890_000 - 7_500
        assert len(body["factors"]) == 5

    def test_funding_without_rate_or_factors_is_refused_field_by_field(self, role_client):
        response = role_client("sales").post(
            "/api/credit/funding/", {"face_value": 1, "fee_rate": "0.1"},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == 400 and "scheme" in response.json()

    def test_a_rating_posted_through_the_api_records_history(self, role_client):
        party = CustomerFactory()
        client = role_client("underwriter")
        for grade in ("B", "C"):
            response = client.post(
                "/api/credit/ratings/",
                {"counterparty": party.pk, "grade": grade, "rationale": "決算"},
                content_type="application/json",
            )
            assert response.status_code == 201
        assert response.json()["previous_grade"] == "B"
