"""In a real browser: the funding calculator shows the article's figures as the user types,
and a credit limit goes from an underwriter's proposal to an approver's decision."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class TestFundingCalculator:
    def test_an_underwriter_sees_the_articles_figures_and_they_follow_the_inputs(
        self, page, log_in, navigate, artifacts_dir
    ):
        log_in("underwriter")
        navigate("資金化シミュレーター", group="与信")
        page.get_by_label("額面（円）").fill("10000000")
        page.get_by_label("スキーム").select_option("two_party")
        page.get_by_label("売掛先格付").select_option("C")
        page.get_by_label("利用会社の規模・状況").select_option("small")
        page.get_by_label("この利用会社との過去取引回数").fill("0")
        page.get_by_label("手数料率（買取対象額に対する%）").fill("10")

        expect(page.get_by_test_id("advance-rate")).to_have_text("70%")
        expect(page.get_by_test_id("advance-amount")).to_have_text("¥7,000,000")
        expect(page.get_by_test_id("fee")).to_have_text("−¥700,000")
        expect(page.get_by_test_id("upfront-payment")).to_have_text("¥6,300,000")
        expect(page.get_by_test_id("reserve")).to_have_text("¥3,000,000")
        expect(page.get_by_test_id("total-to-client")).to_have_text("¥9,300,000")
        page.screenshot(path=artifacts_dir / "credit-calculator.png", full_page=True)

        # The article's second example: 80 % / 10 %, with a registration fee deducted.
        page.get_by_label("掛け目の手動指定（%）").fill("80")
        page.get_by_label("登記費用").fill("7500")
        expect(page.get_by_test_id("advance-amount")).to_have_text("¥8,000,000")
        expect(page.get_by_test_id("upfront-payment")).to_have_text("¥7,192,500")
        expect(page.get_by_test_id("reserve")).to_have_text("¥2,000,000")

        # Back to the policy's rate: three-party raises it into its own band.
        page.get_by_label("掛け目の手動指定（%）").fill("")
        page.get_by_label("スキーム").select_option("three_party")
        expect(page.get_by_test_id("advance-rate")).to_have_text("80%")


class TestLimitApproval:
    def test_a_proposed_limit_applies_once_an_approver_with_authority_approves(
        self, page, log_in, artifacts_dir
    ):
        party = CustomerFactory(name="株式会社青葉商事", net_assets=80_000_000)
        log_in("underwriter")
        page.goto(f"/credit/counterparties/{party.pk}/")
        page.get_by_role("link", name="与信枠を申請").click()
        page.get_by_label("格付").select_option("A")
        expect(page.get_by_test_id("recommendation")).to_contain_text("¥8,000,000")
        page.get_by_label("与信枠の種類").select_option("client")
        page.get_by_label("与信限度額（円）").fill("8000000")
        page.get_by_label("判断理由").fill("純資産基準。決算書3期分を確認。")
        page.screenshot(path=artifacts_dir / "credit-limit-proposal.png", full_page=True)
        page.get_by_role("button", name="申請する").click()
        expect(page.get_by_text("与信枠を申請しました。承認後に適用されます。")).to_be_visible()
        expect(page.get_by_text("承認待ちの申請")).to_be_visible()

        page.context.clear_cookies()
        log_in("approver")
        page.goto("/credit/limits/inbox/")
        proposal = page.get_by_test_id("proposal").filter(has_text="株式会社青葉商事")
        proposal.locator("textarea[name=comment]").fill("承認。半年後に見直し。")
        page.screenshot(path=artifacts_dir / "credit-limit-inbox.png", full_page=True)
        proposal.get_by_role("button", name="承認").click()
        expect(page.get_by_text("決裁を記録しました。")).to_be_visible()

        page.goto(f"/credit/counterparties/{party.pk}/")
        expect(page.get_by_test_id("headroom-client")).to_have_text("¥8,000,000")
        page.screenshot(path=artifacts_dir / "credit-counterparty.png", full_page=True)
