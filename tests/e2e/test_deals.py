"""In a real browser: a deal travels from lead to executed through five users' screens, a
blocked move names what is missing, the double-sale guard links to the other deal, and the
approval inbox keeps makers away from their own 稟議."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from deals.choices import Stage
from deals.models import ApprovalRequest, Deal, StageChange
from deals.services import (
    deal_check_credit,
    deal_create,
    deal_price,
    deal_transition,
    deal_update,
    receivable_add,
)
from tests.factories import (
    BankAccountFactory,
    CustomerFactory,
    DealFactory,
    ReceivableFactory,
    cleared,
    creditworthy,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()


def _day(days: int = 0) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def _field(page, label: str):
    """Return the form control whose label is exactly ``label`` (a required field's label
    carries a trailing ``*``)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


def _switch_to(page, log_in, username: str) -> None:
    page.context.clear_cookies()
    log_in(username)


def _badge(page):
    return page.locator("h1 [data-stage]")


def _move(page, stage: Stage) -> None:
    """Press the deal page's forward move and check it landed."""
    page.get_by_test_id(f"move-{stage.value}").click()
    expect(
        page.get_by_role("alert").filter(has_text=f"案件を {stage.label} に進めました。")
    ).to_be_visible()
    expect(_badge(page)).to_have_attribute("data-stage", stage.value)


def _parties(client_name: str = "", debtor_name: str = ""):
    client = CustomerFactory(**({"name": client_name} if client_name else {}))
    debtor = CustomerFactory(is_client=False, is_debtor=True,
                             **({"name": debtor_name} if debtor_name else {}))  # fmt: skip
    client = creditworthy(cleared(client), grade="B")
    debtor = creditworthy(cleared(debtor), grade="A", kind="debtor")
    return client, debtor


def _in_approval(*, creator: User, owner: User, name: str) -> Deal:
    """Take a fresh deal to 稟議 through the services (what the journey test does on screen)."""
    client, debtor = _parties()
    deal = deal_create(actor=creator, owner=owner, client=client, name=name, channel="web",
                       scheme="two_party", next_action="書類回収", next_action_owner=creator,
                       next_action_due=TODAY + timedelta(days=3))  # fmt: skip
    deal_transition(deal=deal, actor=creator, to=Stage.DOCUMENTS)
    receivable_add(deal=deal, actor=creator, debtor=debtor, invoice_number=f"{name}-1",
                   issue_date=TODAY - timedelta(days=5), due_date=TODAY + timedelta(days=55),
                   face_amount=2_000_000, evidence_received=True,
                   verification_method="debtor_call")  # fmt: skip
    deal_transition(deal=deal, actor=creator, to=Stage.SCREENING)
    deal_transition(deal=deal, actor=creator, to=Stage.UNDERWRITING)
    deal_price(deal=deal, actor=creator, fee_rate=Decimal("0.1000"))
    deal_check_credit(deal=deal, actor=creator)
    deal_transition(deal=deal, actor=creator, to=Stage.QUOTED)
    deal_update(deal=deal, actor=creator, term_sheet_date=TODAY,
                expected_payment_date=TODAY + timedelta(days=7),
                expected_collection_date=TODAY + timedelta(days=55),
                memo_background="継続取引", memo_judgement="売掛先A格", memo_next="契約準備")  # fmt: skip
    deal_transition(deal=deal, actor=creator, to=Stage.APPROVAL)
    return Deal.objects.get(pk=deal.pk)


class TestJourney:
    def test_a_deal_travels_from_lead_to_executed_through_five_users(
        self, page, log_in, navigate, artifacts_dir
    ):
        client, debtor = _parties("株式会社青葉商事", "株式会社港南物産")
        account = BankAccountFactory(customer=client, verification="test_deposit")

        # 営業: opens the deal from the pipeline.
        log_in("sales")
        navigate("パイプライン", group="案件")
        page.get_by_role("link", name="新規案件").click()
        _field(page, "案件名").fill("3月分請求書の買取")
        _field(page, "利用会社").select_option(label="株式会社青葉商事")
        _field(page, "流入経路").select_option(label="ウェブ")
        _field(page, "スキーム").select_option(label="2社間")
        _field(page, "債権譲渡登記が必要").check()
        _field(page, "次アクション").fill("書類回収")
        expect(_field(page, "次アクションの担当者")).to_have_value(
            str(User.objects.get(username="sales").pk)
        )
        _field(page, "次アクションの期限").fill(_day(3))
        page.get_by_test_id("deal-form").get_by_role("button", name="保存").click()
        expect(page.get_by_text(f"案件 {TODAY.year}-0001 を作成しました。")).to_be_visible()
        deal = Deal.objects.get(name="3月分請求書の買取")
        expect(page.get_by_test_id("deal-number")).to_have_text(deal.number)
        expect(_badge(page)).to_have_text("新規")
        _move(page, Stage.DOCUMENTS)

        checklist = page.get_by_test_id("checklist")
        expect(checklist.locator("[data-code=receivables]")).to_have_attribute("data-met", "no")
        page.get_by_test_id("add-receivable").click()
        _field(page, "売掛先").select_option(label=debtor.name)
        _field(page, "請求書番号").fill("A-100")
        _field(page, "発行日").fill(_day(-5))
        _field(page, "期日").fill(_day(55))
        _field(page, "額面").fill("10000000")
        _field(page, "証憑受領済み").check()
        _field(page, "取引実在性の確認方法").select_option(label="売掛先に電話で確認")
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_text("対象債権を追加しました。")).to_be_visible()
        expect(page.get_by_test_id("face-value")).to_have_text("¥10,000,000")
        expect(page.get_by_test_id("receivables")).to_contain_text("A-100")
        _move(page, Stage.SCREENING)

        # コンプライアンス: sees both parties cleared before the deal leaves KYC・反社.
        _switch_to(page, log_in, "compliance")
        page.goto(deal.get_absolute_url())
        expect(_badge(page)).to_have_text("KYC・反社")
        checklist = page.get_by_test_id("checklist")
        for code in ("client_cleared", "debtors_cleared"):
            expect(checklist.locator(f"[data-code={code}]")).to_have_attribute("data-met", "yes")
        expect(page.get_by_test_id("compliance-panel")).to_contain_text("KYC・反社チェック")
        expect(page.get_by_test_id("move-underwriting")).to_have_count(0)  # not theirs to move
        page.goto(f"/customers/{client.pk}/")
        expect(page.get_by_test_id("clearance-status")).to_have_text("取引可")

        _switch_to(page, log_in, "sales")
        page.goto(deal.get_absolute_url())
        _move(page, Stage.UNDERWRITING)
        panel = page.get_by_test_id("compliance-panel")  # the snapshot taken on leaving KYC
        expect(panel).to_contain_text("株式会社青葉商事")
        expect(panel).to_contain_text("株式会社港南物産")
        expect(panel.locator(".bi-shield-check")).to_have_count(2)

        # 審査: prices the deal as in the article, checks the limits, quotes.
        _switch_to(page, log_in, "underwriter")
        page.goto(deal.get_absolute_url())
        page.get_by_role("link", name="条件を設定").click()
        _field(page, "手数料率（買取対象額に対する%）").fill("10")
        _field(page, "掛け目の手動指定（%）").fill("70")
        _field(page, "掛け目を変更する理由").fill("記事の例に合わせる")
        page.get_by_test_id("price").click()
        expect(page.get_by_text("案件の条件を設定しました。")).to_be_visible()
        expect(page.get_by_test_id("advance-amount")).to_have_text("¥7,000,000")
        expect(page.get_by_test_id("upfront-payment")).to_have_text("¥6,300,000")
        expect(page.get_by_test_id("total-to-client")).to_have_text("¥9,300,000")
        checklist = page.get_by_test_id("checklist")
        expect(checklist.locator("[data-code=limit_checked]")).to_have_attribute("data-met", "no")
        page.get_by_test_id("check-credit").click()
        expect(page.get_by_text("確認結果を案件に記録しました。")).to_be_visible()
        expect(page.get_by_test_id("credit-panel")).to_contain_text("¥7,000,000")
        expect(checklist.locator("[data-met=no]")).to_have_count(0)
        _move(page, Stage.QUOTED)

        # 営業: the term sheet, the dates and the memo, then 稟議.
        _switch_to(page, log_in, "sales")
        page.goto(deal.get_absolute_url())
        page.get_by_test_id("edit-deal").click()
        expect(page.get_by_role("heading", name=f"{deal.number} の編集 — 見積提示")).to_be_visible()
        _field(page, "条件提示日").fill(_day())
        _field(page, "入金（実行）予定日").fill(_day(7))
        _field(page, "回収予定日").fill(_day(55))
        _field(page, "背景").fill("継続取引の見込み")
        _field(page, "判断理由").fill("売掛先A格、与信枠内")
        _field(page, "次アクション（メモ）").fill("契約準備")
        page.get_by_test_id("deal-form").get_by_role("button", name="保存").click()
        expect(page.get_by_text("案件を更新しました。")).to_be_visible()
        _move(page, Stage.APPROVAL)
        expect(page.get_by_text("稟議の決裁待ちです。")).to_be_visible()
        expect(page.get_by_test_id("move-contracted")).to_have_count(0)
        expect(page.get_by_test_id("approvals")).to_contain_text("確認中")

        # 決裁者: from the inbox to the decision.
        _switch_to(page, log_in, "approver")
        page.get_by_role("link", name="稟議の決裁待ち").first.click()
        row = page.get_by_test_id(f"approval-{deal.number}")
        expect(row).to_contain_text("株式会社青葉商事")
        row.get_by_role("link", name=deal.number).click()
        expect(page.get_by_test_id("required-level")).to_have_text("3")
        summary = page.get_by_test_id("summary")
        expect(summary).to_contain_text("¥9,300,000")
        expect(summary).to_contain_text("記事の例に合わせる")
        form = page.get_by_test_id("decision-form")
        form.get_by_label("承認", exact=True).check()
        _field(form, "コメント・理由").fill("承認。記事の例どおり。")
        page.screenshot(path=artifacts_dir / "deal-approval.png", full_page=True)
        page.get_by_test_id("decide").click()
        expect(page.get_by_text("決裁を記録しました。")).to_be_visible()
        expect(page.get_by_test_id(f"approval-{deal.number}")).to_have_count(0)
        expect(page.get_by_text("決裁待ちはありません。")).to_be_visible()
        page.goto(deal.get_absolute_url())
        expect(_badge(page)).to_have_text("契約・登記・通知")
        expect(page.get_by_test_id("approvals")).to_contain_text("承認済み")

        # 業務: contract, registration, remittance and execution, then 実行.
        _switch_to(page, log_in, "operations")
        page.goto(deal.get_absolute_url())
        checklist = page.get_by_test_id("checklist")
        for code in ("contract", "registration", "remittance", "execution"):
            expect(checklist.locator(f"[data-code={code}]")).to_have_attribute("data-met", "no")
        page.get_by_test_id("edit-deal").click()
        _field(page, "契約日").fill(_day())
        _field(page, "電子契約ID").fill("CS-1")
        _field(page, "登記申請日").fill(_day())
        _field(page, "登記完了日時").fill(f"{_day()}T10:00")
        _field(page, "登記番号").fill("第2026-123号")
        _field(page, "送金先口座").select_option(label=str(account))
        _field(page, "実行日").fill(_day())
        _field(page, "実行額").fill("6300000")
        page.get_by_test_id("deal-form").get_by_role("button", name="保存").click()
        expect(page.get_by_text("案件を更新しました。")).to_be_visible()
        expect(checklist.locator("[data-met=no]")).to_have_count(0)
        _move(page, Stage.EXECUTED)

        progress = page.get_by_test_id("progress").locator("li")
        expect(progress.filter(has=page.locator(".bi-check-circle-fill"))).to_have_count(7)
        expect(progress.filter(has=page.locator(".bi-record-circle"))).to_have_text("実行")
        timeline = page.get_by_test_id("timeline").locator("li")
        expect(timeline).to_have_count(8)  # opened, then seven moves
        expect(timeline.first).to_contain_text("案件作成")
        moves = [("新規", "書類受領", "営業 太郎"), ("書類受領", "KYC・反社", "営業 太郎"),
                 ("KYC・反社", "与信審査", "営業 太郎"), ("与信審査", "見積提示", "審査 花子"),
                 ("見積提示", "稟議", "営業 太郎"), ("稟議", "契約・登記・通知", "決裁 一郎"),
                 ("契約・登記・通知", "実行", "事務 次郎")]  # fmt: skip
        for line, (from_label, to_label, actor) in zip(timeline.all()[1:], moves, strict=True):
            expect(line).to_contain_text(f"{actor} · {from_label} → {to_label}")
        page.screenshot(path=artifacts_dir / "deal-executed.png", full_page=True)

        navigate("パイプライン", group="案件")
        card = page.get_by_test_id("column-executed").get_by_test_id(f"card-{deal.number}")
        card.scroll_into_view_if_needed()  # the board scrolls sideways past 見積提示
        expect(card).to_be_visible()
        expect(page.get_by_test_id("count-executed")).to_have_text("1")
        page.screenshot(path=artifacts_dir / "deal-kanban.png", full_page=True)


class TestBlockedMove:
    def test_the_kanban_panel_lists_what_is_missing_and_a_ready_deal_moves(
        self, page, log_in, navigate, artifacts_dir
    ):
        sales = User.objects.get(username="sales")
        bare = DealFactory(owner=sales)  # no next action
        empty = DealFactory(owner=sales, stage=Stage.DOCUMENTS)  # no receivables
        ready = DealFactory(owner=sales, next_action="初回面談", next_action_owner=sales,
                            next_action_due=TODAY + timedelta(days=2))  # fmt: skip
        log_in("sales")
        navigate("パイプライン", group="案件")

        card = page.get_by_test_id("column-lead").get_by_test_id(f"card-{bare.number}")
        card.get_by_test_id(f"move-{bare.number}").click()
        panel = card.get_by_test_id("move-panel")
        expect(panel).to_contain_text("まだ 書類受領 へ進められません。不足:")
        missing = panel.get_by_test_id("missing").locator("li")
        expect(missing).to_have_count(1)
        expect(missing).to_have_attribute("data-code", "next_action")
        expect(missing).to_have_text("次アクション（担当者・期限）")

        card = page.get_by_test_id("column-documents").get_by_test_id(f"card-{empty.number}")
        card.get_by_test_id(f"move-{empty.number}").click()
        missing = card.get_by_test_id("move-panel").get_by_test_id("missing").locator("li")
        expect(missing).to_have_count(3)
        assert [item.get_attribute("data-code") for item in missing.all()] == [
            "receivables", "evidence", "existence"]  # fmt: skip
        expect(missing.first).to_have_text("対象債権が1件以上")
        page.screenshot(path=artifacts_dir / "deal-kanban-blocked.png", full_page=True)

        card = page.get_by_test_id(f"card-{ready.number}")
        card.get_by_test_id(f"move-{ready.number}").click()
        expect(card.get_by_test_id("missing")).to_have_count(0)
        card.get_by_test_id("confirm-move").click()
        expect(page.get_by_text("案件を 書類受領 に進めました。")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/deals/$"))  # back on the board
        column = page.get_by_test_id("column-documents")
        expect(column.get_by_test_id(f"card-{ready.number}")).to_be_visible()
        expect(page.get_by_test_id("count-documents")).to_have_text("2")
        assert not StageChange.objects.filter(deal__in=[bare, empty]).exists()

    def test_the_deal_page_refuses_the_move_and_names_what_is_missing(self, page, log_in):
        sales = User.objects.get(username="sales")
        empty = DealFactory(owner=sales, stage=Stage.DOCUMENTS)
        log_in("sales")
        page.goto(empty.get_absolute_url())
        button = page.get_by_test_id("move-screening")
        expect(button).to_have_class(re.compile(r"btn-outline-secondary"))
        button.click()
        expect(page.get_by_role("alert")).to_have_text(
            "不足: 対象債権が1件以上、すべての対象債権の証憑受領、各対象債権の取引実在性の確認方法"
        )
        expect(_badge(page)).to_have_attribute("data-stage", "documents")
        expect(page.get_by_test_id("timeline").locator("li")).to_have_count(1)
        empty.refresh_from_db()
        assert empty.stage == Stage.DOCUMENTS


class TestDoubleSale:
    def test_an_invoice_sold_in_another_live_deal_is_refused_with_a_link(self, page, log_in):
        debtor = CustomerFactory(name="株式会社港南物産", is_client=False, is_debtor=True)
        first = DealFactory(name="先行案件", stage=Stage.UNDERWRITING)
        ReceivableFactory(deal=first, debtor=debtor, invoice_number="INV-2026-001")
        second = DealFactory(stage=Stage.DOCUMENTS)
        log_in("sales")
        page.goto(second.get_absolute_url())
        page.get_by_test_id("add-receivable").click()
        _field(page, "売掛先").select_option(label="株式会社港南物産")
        _field(page, "請求書番号").fill("ｉｎｖ－２０２６－００１")  # the same invoice, full width
        _field(page, "発行日").fill(_day(-5))
        _field(page, "期日").fill(_day(55))
        _field(page, "額面").fill("3000000")
        page.get_by_role("button", name="保存").click()

        alert = page.get_by_test_id("double-sale")
        expect(alert).to_contain_text(f"既に買取済みの案件: {first.number} 先行案件")
        expect(
            page.get_by_text(f"この請求書は案件 {first.number} で既に買取済みです（二重譲渡）。")
        ).to_be_visible()
        assert not second.receivables.exists()
        alert.get_by_role("link", name=first.number).click()
        expect(page).to_have_url(re.compile(rf"/deals/{first.number}/$"))
        expect(page.get_by_test_id("receivables")).to_contain_text("INV-2026-001")


class TestMakerChecker:
    def test_makers_never_see_their_own_deal_in_an_approval_inbox(self, page, log_in):
        sales = User.objects.get(username="sales")
        approver = User.objects.get(username="approver")
        theirs = _in_approval(creator=sales, owner=sales, name="営業の案件")
        own = _in_approval(creator=sales, owner=approver, name="決裁者が担当する案件")
        own_request = ApprovalRequest.objects.get(deal=own)

        # The sales user who made the deal holds no decision right at all.
        log_in("sales")
        expect(page.get_by_role("link", name="稟議の決裁待ち")).to_have_count(0)
        response = page.goto("/deals/approvals/")
        assert response is not None and response.status == 403
        page.goto(f"/deals/approvals/{ApprovalRequest.objects.get(deal=theirs).pk}/")
        expect(page.get_by_test_id("required-level")).to_be_visible()
        expect(page.get_by_test_id("decision-form")).to_have_count(0)

        # The approver sees the other deal but not the one they own.
        _switch_to(page, log_in, "approver")
        page.get_by_role("link", name="稟議の決裁待ち").first.click()
        expect(page.get_by_test_id(f"approval-{theirs.number}")).to_be_visible()
        expect(page.get_by_test_id(f"approval-{own.number}")).to_have_count(0)

        # Opened directly, their own 稟議 is flagged and a decision is refused.
        page.goto(f"/deals/approvals/{own_request.pk}/")
        form = page.get_by_test_id("decision-form")
        expect(form).to_contain_text("権限外または自分の案件です。")
        form.get_by_label("承認", exact=True).check()
        page.get_by_test_id("decide").click()
        expect(page.get_by_text("自分が担当・作成・申請した案件は決裁できません。")).to_be_visible()
        own_request.refresh_from_db()
        assert own_request.status == "pending"
