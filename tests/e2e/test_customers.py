"""In a real browser: a sales user registering a customer is warned about a variant duplicate."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class TestCustomerRegistration:
    def test_sales_sees_the_duplicate_warning_and_opens_the_existing_record(
        self, page, log_in, artifacts_dir
    ):
        existing = CustomerFactory(
            name="株式会社山田商事", name_kana="カブシキガイシャ ヤマダショウジ"
        )
        log_in("sales")

        page.goto("/customers/new/")
        page.locator("input[name=name]").fill("山田商事（株）")
        panel = page.get_by_test_id("similar-customers")
        expect(panel).to_contain_text("株式会社山田商事")
        expect(panel).to_contain_text("名称が一致")
        page.screenshot(path=artifacts_dir / "customer-duplicate-warning.png", full_page=True)

        with page.expect_popup() as popup_info:
            panel.get_by_role("link", name="株式会社山田商事").click()
        existing_page = popup_info.value
        expect(existing_page).to_have_url(re.compile(rf"/customers/{existing.pk}/$"))
        expect(existing_page.get_by_test_id("customer-name")).to_contain_text("株式会社山田商事")

    def test_sales_registers_a_new_customer(self, page, log_in):
        log_in("sales")
        page.goto("/customers/new/")
        page.locator("input[name=name]").fill("株式会社ブラウザ登録")
        page.locator("input[name=name_kana]").fill("ブラウザトウロク")
        page.locator("input[name=is_client]").check()
        page.locator("#customer-form button[type=submit]").click()
        expect(page.get_by_test_id("customer-name")).to_contain_text("株式会社ブラウザ登録")
        customer = Customer.objects.get(name="株式会社ブラウザ登録")
        expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))

    def test_an_existing_corporate_number_is_refused_with_a_link(self, page, log_in):
        existing = CustomerFactory(name="株式会社既存登録")
        log_in("sales")
        page.goto("/customers/new/")
        page.locator("input[name=name]").fill("別名の会社")
        page.locator("input[name=corporate_number]").fill(existing.corporate_number)
        page.locator("#customer-form button[type=submit]").click()
        warning = page.get_by_test_id("existing-customer")
        expect(warning).to_be_visible()
        warning.get_by_role("link").click()
        expect(page).to_have_url(re.compile(rf"/customers/{existing.pk}/$"))
