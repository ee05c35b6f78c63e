"""In a real browser: compliance reviews a screening hit and the customer's clearance changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from compliance.screening import screen_customer
from tests.factories import CustomerFactory, KycRecordFactory, WatchlistEntryFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class TestHitReview:
    def test_a_false_positive_decision_clears_the_customer(self, page, log_in, artifacts_dir):
        customer = CustomerFactory(name="株式会社黒田興業")
        KycRecordFactory(customer=customer)
        WatchlistEntryFactory(name="黒田興業", entry_type="entity", name_kana="クロダコウギョウ")
        screen_customer(customer=customer, job="e2e")
        log_in("compliance")

        page.goto(f"/customers/{customer.pk}/")
        expect(page.get_by_test_id("clearance-status")).to_have_text("取引不可")

        page.goto("/compliance/")
        page.get_by_test_id("open-hits").get_by_role("link", name="黒田興業").first.click()
        expect(page.get_by_test_id("side-by-side")).to_contain_text("黒田興業")
        page.get_by_label("誤検知").check()
        page.locator("textarea[name=reason]").fill("所在地・代表者が異なる別法人")
        page.screenshot(path=artifacts_dir / "compliance-hit-review.png", full_page=True)
        page.get_by_test_id("record-decision").click()

        page.goto(f"/customers/{customer.pk}/")
        expect(page.get_by_test_id("clearance-status")).to_have_text("取引可")
        page.screenshot(path=artifacts_dir / "compliance-cleared.png", full_page=True)
