import pytest

from core.choices import AlertKind, AlertSeverity, AlertStatus
from core.exceptions import InvalidStateError
from core.models import Alert, AuditEvent
from core.selectors import alert_list, attention_summary
from core.services import alert_acknowledge, alert_raise, alert_resolve
from tests.factories import AlertFactory


@pytest.mark.django_db
class TestAlertRaise:
    def test_raising_the_same_alert_twice_creates_one(self):
        first, created_first = alert_raise(
            kind=AlertKind.KYC_EXPIRING,
            dedup_key="kyc_expiring:1:2026-12",
            title="KYC期限",
            role="compliance",
        )
        second, created_second = alert_raise(
            kind=AlertKind.KYC_EXPIRING,
            dedup_key="kyc_expiring:1:2026-12",
            title="KYC期限(再)",
            role="compliance",
        )
        assert created_first and not created_second
        assert first.pk == second.pk
        assert Alert.objects.filter(dedup_key="kyc_expiring:1:2026-12").count() == 1
        assert Alert.objects.get(pk=first.pk).title == "KYC期限"

    def test_raising_is_audited_once(self):
        alert_raise(kind=AlertKind.OTHER, dedup_key="k", title="t")
        alert_raise(kind=AlertKind.OTHER, dedup_key="k", title="t")
        assert AuditEvent.objects.filter(action="alert.raised").count() == 1

    def test_subject_is_linked_generically(self, make_user):
        user = make_user("sales")
        alert, _ = alert_raise(kind=AlertKind.OTHER, dedup_key="s", title="t", subject=user)
        assert Alert.objects.get(pk=alert.pk).subject == user


@pytest.mark.django_db
class TestAlertWorkflow:
    def test_acknowledge_then_resolve_records_who_and_why(self, make_user):
        user = make_user("collections")
        alert = AlertFactory(assignee=user)
        alert = alert_acknowledge(alert=alert, actor=user)
        assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == user
        alert = alert_resolve(alert=alert, actor=user, note="入金確認済み")
        assert alert.status == AlertStatus.RESOLVED
        assert alert.resolution_note == "入金確認済み"
        assert AuditEvent.objects.filter(action="alert.resolved").exists()

    def test_a_resolved_alert_cannot_be_acknowledged(self, make_user):
        user = make_user("collections")
        alert = alert_resolve(alert=AlertFactory(), actor=user)
        with pytest.raises(InvalidStateError):
            alert_acknowledge(alert=alert, actor=user)


@pytest.mark.django_db
class TestAlertVisibility:
    def test_users_see_alerts_for_themselves_and_their_roles_only(self, make_user):
        sales = make_user("sales")
        mine = AlertFactory(assignee=sales)
        role_alert, _ = alert_raise(kind=AlertKind.OTHER, dedup_key="r", title="t", role="sales")
        other = AlertFactory(assignee=make_user("collections"))
        visible = set(alert_list(user=sales))
        assert mine in visible and role_alert in visible and other not in visible

    def test_managers_see_every_alert(self, make_user):
        AlertFactory(assignee=make_user("sales"))
        assert alert_list(user=make_user("manager")).count() == 1

    def test_summary_counts_unresolved_alerts_by_severity(self, make_user):
        user = make_user("sales")
        AlertFactory(assignee=user, severity=AlertSeverity.CRITICAL)
        AlertFactory(assignee=user, severity=AlertSeverity.WARNING)
        AlertFactory(assignee=user, status=AlertStatus.RESOLVED)
        summary = attention_summary(user=user)
        assert summary["total"] == 2 and summary["critical"] == 1 and summary["warning"] == 1


@pytest.mark.django_db
class TestAlertInbox:
    def test_lists_open_alerts_with_a_constant_number_of_queries(
        self, role_client, django_assert_max_num_queries
    ):
        client = role_client("manager")
        for _ in range(3):
            AlertFactory(assignee=client.user)
        with django_assert_max_num_queries(12) as few:
            client.get("/alerts/")
        for _ in range(20):
            AlertFactory(assignee=client.user)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get("/alerts/")
        assert response.status_code == 200

    def test_htmx_request_gets_only_the_table(self, role_client):
        client = role_client("sales")
        AlertFactory(assignee=client.user, title="未入金の確認")
        response = client.get("/alerts/", headers={"HX-Request": "true"})
        body = response.content.decode()
        assert "未入金の確認" in body and "<html" not in body

    def test_acknowledge_from_the_inbox(self, role_client):
        client = role_client("collections")
        alert = AlertFactory(assignee=client.user)
        response = client.post(f"/alerts/{alert.pk}/acknowledge/")
        assert response.status_code == 302
        alert.refresh_from_db()
        assert alert.status == AlertStatus.ACKNOWLEDGED

    def test_cannot_touch_an_alert_of_someone_else(self, role_client, make_user):
        client = role_client("sales")
        alert = AlertFactory(assignee=make_user("collections"))
        assert client.post(f"/alerts/{alert.pk}/resolve/").status_code == 404
        alert.refresh_from_db()
        assert alert.status == AlertStatus.OPEN


@pytest.mark.django_db
class TestAlertApi:
    def test_a_role_acknowledges_and_resolves_its_alert(self, role_client):
        client = role_client("collections")
        alert = AlertFactory(assignee=client.user)
        assert (
            client.post(f"/api/alerts/{alert.pk}/acknowledge/").json()["status"] == "acknowledged"
        )
        response = client.post(
            f"/api/alerts/{alert.pk}/resolve/",
            {"note": "対応済み"},
            content_type="application/json",
        )
        assert response.json()["status"] == "resolved"

    def test_a_user_without_change_permission_cannot_acknowledge(self, client, make_user):
        user = make_user()
        client.force_login(user)
        alert = AlertFactory(assignee=user)
        assert client.post(f"/api/alerts/{alert.pk}/acknowledge/").status_code == 403
