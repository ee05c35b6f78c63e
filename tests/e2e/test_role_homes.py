"""In a real browser: each role logs in to its Japanese home, and the alert inbox works."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from accounts.roles import ROLE_BY_CODE, ROLE_CODES
from core.choices import AlertStatus
from core.models import Alert
from core.services import alert_raise

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LOGIN_URL = re.compile(r"/accounts/login/(\?.*)?$")


def _in_japanese(label) -> str:
    """Render a lazy label the way Django does for a Japanese request."""
    with translation.override("ja"):
        return str(label)


class TestLogin:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_each_role_reaches_its_japanese_home(self, page, log_in, role, artifacts_dir):
        page.goto("/")
        expect(page).to_have_url(LOGIN_URL)

        log_in(role)

        expect(page).to_have_url(re.compile(rf"/home/{role}/$"))
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        title = page.get_by_test_id("role-home-title")
        expect(title).to_be_visible()
        expect(title).to_contain_text(_in_japanese(ROLE_BY_CODE[role].label))
        page.screenshot(path=artifacts_dir / f"home-{role}.png", full_page=True)

    def test_a_wrong_password_shows_the_login_page_again_with_an_error(self, page, log_in):
        log_in("sales", password="not-the-password")

        expect(page).to_have_url(LOGIN_URL)
        expect(page.locator(".alert-danger")).to_be_visible()
        expect(page.locator("input[name=password]")).to_be_visible()

    def test_logging_out_from_the_user_menu_returns_to_the_login_page(self, page, log_in):
        log_in("sales")
        expect(page).to_have_url(re.compile(r"/home/sales/$"))

        page.get_by_test_id("user-menu").click()
        page.locator("form[action='/accounts/logout/'] button").click()

        expect(page).to_have_url(LOGIN_URL)
        page.goto("/home/sales/")
        expect(page).to_have_url(LOGIN_URL)


class TestRoleHomes:
    def test_another_roles_home_answers_403(self, page, log_in):
        log_in("sales")
        expect(page).to_have_url(re.compile(r"/home/sales/$"))

        response = page.goto("/home/compliance/")

        assert response is not None
        assert response.status == 403
        expect(page.locator("main")).to_contain_text("403")


class TestAlertInbox:
    def test_compliance_acknowledges_an_alert_in_place(self, page, log_in, artifacts_dir):
        alert, _created = alert_raise(
            kind="other", dedup_key="e2e-1", title="E2Eテストアラート", role="compliance"
        )
        log_in("compliance")

        page.goto("/alerts/")
        row = page.locator(f"#alert-{alert.pk}")
        status_badge = row.locator("td").nth(5).locator(".badge")
        expect(row).to_contain_text("E2Eテストアラート")
        expect(status_badge).to_have_text(_in_japanese(AlertStatus.OPEN.label))

        acknowledge_url = f"/alerts/{alert.pk}/acknowledge/"
        with page.expect_response(lambda r: r.url.endswith(acknowledge_url)) as answer:
            row.locator("form").first.locator("button").click()
        assert answer.value.status == 200
        assert answer.value.request.headers.get("hx-request") == "true"  # swapped in place by htmx
        expect(status_badge).to_have_text(_in_japanese(AlertStatus.ACKNOWLEDGED.label))
        assert Alert.objects.get(pk=alert.pk).status == AlertStatus.ACKNOWLEDGED

        page.goto("/alerts/?status=acknowledged")
        expect(page.locator(f"#alert-{alert.pk}")).to_contain_text("E2Eテストアラート")
        page.screenshot(path=artifacts_dir / "alerts.png", full_page=True)
