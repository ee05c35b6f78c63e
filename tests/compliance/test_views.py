import pytest

from accounts.roles import ROLE_CODES
from compliance.screening import screen_customer
from core.models import AuditEvent
from tests.factories import CustomerFactory, KycRecordFactory, WatchlistEntryFactory

COMPLIANCE_ONLY = {"compliance"}
READERS = {"sales", "underwriter", "approver", "operations", "compliance", "manager", "admin"}


def _hit():
    customer = CustomerFactory(name="株式会社黒田興業")
    KycRecordFactory(customer=customer)
    WatchlistEntryFactory(name="黒田興業", entry_type="entity")
    screen_customer(customer=customer, job="test")
    return customer.screening_hits.get()


@pytest.mark.django_db
class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_compliance_opens_the_queue_and_reviews(self, role_client, role):
        hit = _hit()
        client = role_client(role)
        expected = 200 if role in COMPLIANCE_ONLY else 403
        assert client.get("/compliance/").status_code == expected
        assert client.get(f"/compliance/hits/{hit.pk}/").status_code == expected

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_clearance_is_visible_to_every_role_that_deals_with_customers(self, role_client, role):
        customer = CustomerFactory()
        expected = 200 if role in READERS else 403
        assert (
            role_client(role).get(f"/compliance/customers/{customer.pk}/clearance/").status_code
            == expected
        )
        assert role_client(role).get(f"/api/clearance/{customer.pk}/").status_code == expected


@pytest.mark.django_db
class TestScreens:
    def test_the_customer_page_loads_the_clearance_panel(self, role_client):
        customer = CustomerFactory()
        body = role_client("sales").get(f"/customers/{customer.pk}/").content.decode()
        assert f'hx-get="/compliance/customers/{customer.pk}/clearance/"' in body
        panel = (
            role_client("sales")
            .get(f"/compliance/customers/{customer.pk}/clearance/")
            .content.decode()
        )
        assert "未承認" in panel or "クリア" in panel or "取引不可" in panel

    def test_review_page_shows_both_sides_and_records_the_decision(self, role_client):
        hit = _hit()
        client = role_client("compliance")
        page = client.get(f"/compliance/hits/{hit.pk}/").content.decode()
        assert "黒田興業" in page and 'data-testid="side-by-side"' in page
        response = client.post(
            f"/compliance/hits/{hit.pk}/",
            {
                "decision": "false_positive",
                "reason": "代表者・所在地が異なる",
                "evidence": "登記簿で確認",
            },
        )
        assert response.status_code == 302
        hit.refresh_from_db()
        assert hit.status == "false_positive" and hit.reviewed_by == client.user
        assert AuditEvent.objects.filter(action="compliance.hit_reviewed").exists()

    def test_api_review_action(self, role_client):
        hit = _hit()
        response = role_client("compliance").post(
            f"/api/screening-hits/{hit.pk}/review/",
            {"decision": "true_match", "reason": "該当"},
            content_type="application/json",
        )
        assert response.status_code == 200 and response.json()["status"] == "true_match"
        assert (
            role_client("compliance").get(f"/api/clearance/{hit.customer_id}/").json()["cleared"]
            is False
        )

    def test_kyc_form_records_a_verification(self, role_client):
        customer = CustomerFactory()
        response = role_client("compliance").post(
            f"/compliance/customers/{customer.pk}/kyc/",
            {
                "method": "in_person",
                "document_type": "registry",
                "verified_on": "2026-11-20",
                "result": "verified",
                "risk": "normal",
            },
        )
        assert response.status_code == 302
        assert customer.kyc_records.get().expires_on.isoformat() == "2028-11-19"

    def test_connection_is_created_and_moved_through_its_lifecycle(self, role_client):
        client = role_client("compliance")
        response = client.post(
            "/compliance/connections/new/",
            {"name": "全銀EB", "kind": "bank_api", "counterparty": "みずほ銀行", "method": "api", "purpose": "明細取得",
             "data_scope": "入出金明細", "allowed_ips": "203.0.113.0/24", "credentials_ref": "vault:bank/mizuho",
             "responsible": client.user.pk},
        )  # fmt: skip
        assert response.status_code == 302
        detail = response.url
        client.post(
            detail + "transition/", {"transition": "start_technical_review", "comment": "審査開始"}
        )
        assert "技術審査" in client.get(detail).content.decode()


@pytest.mark.django_db
def test_the_admin_role_edits_the_kyc_policy_in_the_django_admin(role_client):
    from compliance.models import KycPolicy

    client = role_client("admin", is_staff=True)
    policy = KycPolicy.objects.get(risk="high")
    response = client.post(
        f"/admin/compliance/kycpolicy/{policy.pk}/change/", {"risk": "high", "validity_months": 6}
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.validity_months == 6
