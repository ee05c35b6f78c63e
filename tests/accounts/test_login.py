"""Login, throttling, two-factor for approvers and admins, and demo users."""

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from core.models import AuditEvent

PASSWORD = "pass-for-tests-1"


def _current_token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.django_db
class TestLogin:
    def test_logs_in_and_lands_on_the_role_home(self, client, make_user):
        make_user("sales", username="tanaka")
        response = client.post(
            "/accounts/login/", {"username": "tanaka", "password": PASSWORD}, follow=True
        )
        assert response.redirect_chain[-1][0] == "/home/sales/"
        assert AuditEvent.objects.filter(action="user.login", actor_label="tanaka").exists()

    def test_a_wrong_password_is_refused_in_japanese(self, client, make_user):
        make_user("sales", username="tanaka")
        response = client.post("/accounts/login/", {"username": "tanaka", "password": "wrong"})
        assert response.status_code == 200
        assert "正しいユーザー名とパスワードを入力してください" in response.content.decode()

    def test_five_failures_lock_the_account_even_with_the_right_password(self, client, make_user):
        make_user("sales", username="tanaka")
        for _ in range(5):
            client.post("/accounts/login/", {"username": "tanaka", "password": "wrong"})
        response = client.post("/accounts/login/", {"username": "tanaka", "password": PASSWORD})
        assert response.status_code == 429
        assert "ロック" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_logout_is_audited_and_returns_to_login(self, role_client):
        client = role_client("sales")
        response = client.post("/accounts/logout/")
        assert response.url == "/accounts/login/"
        assert AuditEvent.objects.filter(action="user.logout").exists()

    def test_password_change_page_is_japanese(self, role_client):
        response = role_client("sales").get("/accounts/password/")
        assert "パスワード" in response.content.decode()


@pytest.mark.django_db
class TestTwoFactor:
    @pytest.fixture(autouse=True)
    def otp_on(self, settings):
        settings.OTP_REQUIRED = True

    def test_an_approver_must_enrol_before_using_the_app(self, client, make_user):
        approver = make_user("approver")
        client.post("/accounts/login/", {"username": approver.username, "password": PASSWORD})
        response = client.get("/home/approver/")
        assert response.status_code == 302 and response.url.startswith("/accounts/otp/setup/")

        page = client.get(response.url)
        assert page.status_code == 200 and "<svg" in page.content.decode()
        device = TOTPDevice.objects.get(user=approver, confirmed=False)

        wrong = client.post(
            "/accounts/otp/setup/",
            {"token": "000000" if _current_token(device) != "000000" else "111111"},
        )
        assert wrong.status_code == 200 and "正しくありません" in wrong.content.decode()

        device.refresh_from_db()
        assert device.throttling_failure_count == 1  # django-otp slows down guessing
        device.throttle_reset()
        done = client.post(
            "/accounts/otp/setup/?next=/home/approver/", {"token": _current_token(device)}
        )
        assert done.status_code == 302 and done.url == "/home/approver/"
        assert client.get("/home/approver/").status_code == 200
        device.refresh_from_db()
        assert device.confirmed

    def test_an_enrolled_admin_is_asked_for_a_code_at_each_login(self, client, make_user):
        admin = make_user("admin")
        device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
        client.post("/accounts/login/", {"username": admin.username, "password": PASSWORD})
        response = client.get("/home/admin/")
        assert response.url.startswith("/accounts/otp/verify/")
        client.post("/accounts/otp/verify/", {"token": _current_token(device)})
        assert client.get("/home/admin/").status_code == 200

    def test_the_api_refuses_an_unverified_approver_session(self, client, make_user):
        approver = make_user("approver")
        client.post("/accounts/login/", {"username": approver.username, "password": PASSWORD})
        assert client.get("/api/alerts/").status_code == 403

    def test_sales_staff_are_not_asked_for_a_code(self, client, make_user):
        sales = make_user("sales")
        client.post("/accounts/login/", {"username": sales.username, "password": PASSWORD})
        assert client.get("/home/sales/").status_code == 200


@pytest.mark.django_db
class TestDemoUsers:
    def test_seed_demo_creates_one_user_per_role_and_is_idempotent(self):
        call_command("seed_demo")
        call_command("seed_demo")
        users = User.objects.filter(is_demo=True)
        assert sorted(users.values_list("username", flat=True)) == sorted(
            [
                "sales",
                "underwriter",
                "approver",
                "operations",
                "collections",
                "compliance",
                "manager",
                "admin",
            ]
        )
        for user in users:
            assert user.check_password("demo-pass")
            assert user.role_codes == [user.username]

    def test_demo_users_log_in_outside_production(self, client):
        call_command("seed_demo")
        client.post("/accounts/login/", {"username": "approver", "password": "demo-pass"})
        assert "_auth_user_id" in client.session

    def test_demo_users_are_refused_under_production_settings(self, client, settings):
        call_command("seed_demo")
        settings.DEMO_USERS_ALLOWED = False
        client.post("/accounts/login/", {"username": "approver", "password": "demo-pass"})
        assert "_auth_user_id" not in client.session
        with pytest.raises(CommandError):
            call_command("seed_demo")
