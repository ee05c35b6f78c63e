"""In a real browser: collections staff import a statement, accept a suggestion from the
queue, and see the receivable paid."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from collection.models import CollectionStatus, ExpectedCollection
from tests.collection.statements import dw_file
from tests.factories import TransferNameFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_collections_staff_import_a_statement_and_accept_the_suggestion(
    page, log_in, navigate, artifacts_dir, tmp_path, desk
):
    deal = desk.executed([1_000_000])
    TransferNameFactory(customer=deal.client, name="ｶ)ｱｵﾊﾞｼﾖｳｼﾞ")
    statement = tmp_path / "20260601.txt"
    statement.write_bytes(dw_file([{"amount": 999_120, "payer": "ｶ)ｱｵﾊﾞｼﾖｳｼﾞ"}]))

    log_in("collections")
    navigate("入出金明細", group="回収")
    page.get_by_role("link", name="入出金明細の取込").click()
    page.locator("input[type=file]").set_input_files(str(statement))
    page.get_by_test_id("check-statement").click()
    expect(page.get_by_test_id("statement-summary")).to_contain_text("新規 1 件")
    page.screenshot(path=artifacts_dir / "collection-preview.png", full_page=True)
    page.get_by_test_id("confirm-import").click()
    expect(page.get_by_text("明細 1 件のうち 1 件を追加しました。")).to_be_visible()

    navigate("照合待ち", group="回収")
    suggestion = page.get_by_test_id("suggestion").first
    expect(suggestion).to_contain_text("振込手数料 880 円の差引き")
    page.screenshot(path=artifacts_dir / "collection-queue.png", full_page=True)
    suggestion.get_by_test_id("accept").click()
    expect(page.get_by_text("照合待ちはありません。")).to_be_visible()

    navigate("債権台帳", group="回収")
    row = page.get_by_test_id(f"ledger-{deal.receivables.get().invoice_number}")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "paid")
    page.screenshot(path=artifacts_dir / "collection-ledger.png", full_page=True)
    assert ExpectedCollection.objects.get(deal=deal).status == CollectionStatus.PAID
