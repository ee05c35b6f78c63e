"""Deal records: numbering, receivables with the double-sale guard, pricing from the credit
policy, the funding figures, and what freezes once the deal is in approval."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.exceptions import InvalidStateError, PermissionDeniedError
from core.models import AuditEvent
from credit.calculations import explain_advance_rate, funding_breakdown
from credit.models import AdvanceRatePolicy
from credit.selectors import active_policy
from credit.services import policy_activate, policy_draft_from
from deals.choices import Stage
from deals.exceptions import DoubleSale
from deals.models import DealSequence
from deals.services import (
    deal_check_credit,
    deal_create,
    deal_price,
    deal_transition,
    deal_update,
    next_deal_number,
    receivable_remove,
    receivable_update,
)
from tests.deals.desk import reloaded
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
M = 1_000_000


# ------------------------------------------------------------------------------ numbering


class TestDealCreate:
    def test_numbers_deals_of_the_year_one_after_another(self, desk):
        client = desk.client()
        numbers = [
            deal_create(actor=desk.sales, client=client, name=f"案件{n}", channel="web",
                        scheme="two_party").number
            for n in range(3)
        ]  # fmt: skip
        year = timezone.localdate().year
        assert numbers == [f"{year}-0001", f"{year}-0002", f"{year}-0003"]
        assert DealSequence.objects.get(year=year).last == 3

    def test_keeps_a_separate_sequence_per_year(self, desk):
        desk.deal()
        assert next_deal_number(2031) == "2031-0001"
        assert next_deal_number(2031) == "2031-0002"
        year = timezone.localdate().year
        assert next_deal_number(year) == f"{year}-0002"

    def test_opens_the_deal_at_lead_owned_by_its_creator_with_their_department(self, desk):
        deal = deal_create(actor=desk.sales, client=desk.client(), name="新規", channel="web",
                           scheme="two_party")  # fmt: skip
        assert (deal.stage, deal.owner, deal.created_by) == (Stage.LEAD, desk.sales, desk.sales)
        assert deal.department == desk.sales.department
        event = AuditEvent.objects.get(action="deal.created")
        assert event.data["deal"] == deal.number

    def test_refuses_fields_it_does_not_know(self, desk):
        with pytest.raises(ValueError):
            deal_create(actor=desk.sales, client=desk.client(), name="x", channel="web",
                        scheme="two_party", stage=Stage.EXECUTED)  # fmt: skip
        assert not DealSequence.objects.exists()  # the number went back with the rollback


class TestDealUpdate:
    def test_refuses_fields_it_does_not_know(self, desk):
        with pytest.raises(ValueError):
            deal_update(deal=desk.deal(), actor=desk.sales, advance_amount=1)

    @pytest.mark.parametrize("to", [Stage.LOST, Stage.CANCELLED])
    def test_refuses_to_change_a_finished_deal(self, desk, to):
        deal = desk.deal()
        deal_transition(deal=deal, actor=desk.sales, to=to, comment="終了", lost_reasons=["price"])
        with pytest.raises(InvalidStateError):
            deal_update(deal=deal, actor=desk.sales, memo_next="再開")

    def test_records_which_fields_changed(self, desk):
        deal = desk.deal()
        deal_update(deal=deal, actor=desk.sales, memo_next="訪問", memo_background="継続取引")
        event = AuditEvent.objects.filter(action="deal.updated").latest("id")
        assert event.data["fields"] == ["memo_next"]  # the background was already that


# ------------------------------------------------------------------------------ receivables


class TestReceivables:
    def test_refuses_a_debtor_not_marked_as_debtor(self, desk):
        deal = desk.deal()
        with pytest.raises(ValidationError) as refused:
            desk.receivable(deal, CustomerFactory(), 1 * M)
        assert "debtor" in refused.value.message_dict

    def test_refuses_the_client_as_its_own_debtor(self, desk):
        client = desk.client()
        client.is_debtor = True
        client.save()
        deal = desk.deal(client=client)
        with pytest.raises(ValidationError):
            desk.receivable(deal, client, 1 * M)

    @pytest.mark.parametrize("debtor", ["client", "not_a_debtor"])
    def test_refuses_to_change_the_debtor_to_one_that_cannot_owe(self, desk, debtor):
        deal = desk.deal()
        if debtor == "client":
            deal.client.is_debtor = True
            deal.client.save()
            other = deal.client
        else:
            other = CustomerFactory()
        with pytest.raises(ValidationError):
            receivable_update(receivable=deal.receivables.get(), actor=desk.sales, debtor=other)

    def test_refuses_fields_a_user_may_not_change(self, desk):
        deal, other = desk.deal(), desk.deal()
        with pytest.raises(ValueError):
            receivable_update(receivable=deal.receivables.get(), actor=desk.sales, deal=other)

    def test_refuses_the_same_invoice_twice_in_one_deal(self, desk):
        deal = desk.deal()
        receivable = deal.receivables.get()
        with pytest.raises(ValidationError):
            desk.receivable(deal, receivable.debtor, 1 * M, invoice=receivable.invoice_number)

    def test_refuses_a_due_date_before_the_issue_date(self, desk):
        deal = desk.deal()
        receivable = deal.receivables.get()
        with pytest.raises(ValidationError):
            receivable_update(receivable=receivable, actor=desk.sales,
                              due_date=receivable.issue_date - timedelta(days=1))  # fmt: skip

    def test_recomputes_the_funding_when_receivables_change(self, desk):
        deal = desk.deal()  # 10M at 70 %
        desk.receivable(deal, deal.receivables.get().debtor, 2 * M)
        assert (reloaded(deal).face_value, reloaded(deal).advance_amount) == (12 * M, 8_400_000)
        receivable_update(receivable=deal.receivables.get(face_amount=2 * M), actor=desk.sales,
                          face_amount=4 * M)  # fmt: skip
        assert reloaded(deal).advance_amount == 9_800_000
        receivable_remove(receivable=deal.receivables.get(face_amount=10 * M), actor=desk.sales)
        deal = reloaded(deal)
        assert (deal.face_value, deal.advance_amount, deal.reserve) == (4 * M, 2_800_000, 1_200_000)


class TestDoubleSale:
    @pytest.fixture
    def sold(self, desk):
        """A debtor whose invoice INV-100 is sold in a live deal."""
        debtor = desk.debtor()
        deal = desk.deal(debtors=[desk.debtor()])
        desk.receivable(deal, debtor, 1 * M, invoice="INV-100")
        return deal, debtor

    @pytest.mark.parametrize(
        "invoice",
        ["INV-100", "inv-100", "ＩＮＶ－１００", "ｉｎｖ－１００", " INV - 100 ", "INV\u3000-\u3000100",
         "INV-\t100"],
    )  # fmt: skip
    def test_refuses_an_invoice_already_sold_in_another_live_deal(self, desk, sold, invoice):
        other, debtor = sold
        deal = desk.deal()
        with pytest.raises(DoubleSale) as refused:
            desk.receivable(deal, debtor, 1 * M, invoice=invoice)
        assert refused.value.other_deal == other
        assert other.number in str(refused.value)
        assert deal.receivables.count() == 1

    def test_refuses_it_while_the_other_deal_is_executed(self, desk):
        debtor = desk.debtor()
        other = desk.deal_at(Stage.EXECUTED, debtors=[debtor])
        invoice = other.receivables.get().invoice_number
        with pytest.raises(DoubleSale) as refused:
            desk.receivable(desk.deal(), debtor, 1 * M, invoice=invoice)
        assert refused.value.other_deal == other

    @pytest.mark.parametrize(
        ("to", "options"),
        [(Stage.LOST, {"lost_reasons": ["competitor"]}), (Stage.CANCELLED, {"comment": "重複"})],
    )
    def test_allows_it_once_the_other_deal_is_lost_or_cancelled(self, desk, sold, to, options):
        other, debtor = sold
        deal_transition(deal=other, actor=desk.sales, to=to, **options)
        deal = desk.deal()
        receivable = desk.receivable(deal, debtor, 1 * M, invoice="ＩＮＶ－１００")
        assert receivable.invoice_key == "INV-100"

    def test_allows_the_same_invoice_number_of_another_debtor(self, desk, sold):
        receivable = desk.receivable(desk.deal(), desk.debtor(), 1 * M, invoice="INV-100")
        assert receivable.pk

    def test_refuses_to_rename_an_invoice_into_one_already_sold(self, desk, sold):
        _other, debtor = sold
        deal = desk.deal()
        receivable = desk.receivable(deal, debtor, 1 * M, invoice="INV-101")
        with pytest.raises(DoubleSale):
            receivable_update(
                receivable=receivable, actor=desk.sales, invoice_number="inv - １００"
            )

    def test_refuses_to_move_an_invoice_to_a_debtor_whose_invoice_is_sold(self, desk, sold):
        _other, debtor = sold
        deal = desk.deal()
        receivable = desk.receivable(deal, desk.debtor(), 1 * M, invoice="INV-100")
        with pytest.raises(DoubleSale):
            receivable_update(receivable=receivable, actor=desk.sales, debtor=debtor)


# ------------------------------------------------------------------------------ pricing


def policy_rate(deal, debtor_rating: str, prior_deals: int = 0) -> Decimal:
    return explain_advance_rate(
        scheme=deal.scheme, registered=deal.registration_required, debtor_rating=debtor_rating,
        client_size=deal.client_size, prior_deals=prior_deals,
        policy=active_policy().as_policy(),
    ).rate  # fmt: skip


class TestPricing:
    def test_takes_the_rate_of_the_active_policy_at_the_worst_debtor_grade(self, desk):
        deal = desk.deal(debtors=[desk.debtor("A"), desk.debtor("C")], rate=None,
                         registration_required=True)  # fmt: skip
        # Two-party, registered, medium client, first deal: 70 + 2 + 0 (C) + 1 = 73 %.
        assert deal.advance_rate == deal.policy_rate == Decimal("0.7300")
        assert deal.advance_rate == policy_rate(deal, "C") != policy_rate(deal, "A")
        assert deal.policy_version == active_policy().version == 1
        assert deal.advance_override_reason == ""

    def test_stores_the_version_of_a_newly_activated_policy(self, desk, make_user):
        admin = make_user("admin")
        draft = policy_draft_from(policy=active_policy(), actor=admin, note="C格を優遇")
        AdvanceRatePolicy.objects.filter(pk=draft.pk).update(rating_c=Decimal("0.0200"))
        policy_activate(policy=AdvanceRatePolicy.objects.get(pk=draft.pk), actor=admin)

        deal = desk.deal(debtors=[desk.debtor("C")], rate=None, registration_required=True)
        assert (deal.policy_version, deal.policy_rate) == (2, Decimal("0.7500"))

    def test_raises_the_rate_for_a_client_with_earlier_executed_deals(self, desk):
        client = desk.client()
        desk.deal_at(Stage.EXECUTED, client=client)
        deal = desk.deal(client=client, debtors=[desk.debtor("A")], rate=None,
                         registration_required=True)  # fmt: skip
        assert deal.advance_rate == policy_rate(deal, "A", prior_deals=1) == Decimal("0.7700")

    def test_refuses_to_price_before_the_receivables_are_in(self, desk):
        deal = deal_create(actor=desk.sales, client=desk.client(), name="空", channel="web",
                           scheme="two_party")  # fmt: skip
        with pytest.raises(ValidationError):
            deal_price(deal=deal, actor=desk.underwriter, fee_rate=Decimal("0.1"))

    def test_refuses_to_price_before_every_debtor_is_rated(self, desk):
        deal = desk.deal(debtors=[desk.debtor("A"), desk.debtor(grade=None)], priced=False)
        with pytest.raises(ValidationError):
            deal_price(deal=deal, actor=desk.underwriter, fee_rate=Decimal("0.1"))

    def test_refuses_an_override_by_sales(self, desk):
        deal = desk.deal(priced=False)
        with pytest.raises(PermissionDeniedError):
            deal_price(deal=deal, actor=desk.sales, fee_rate=Decimal("0.1"),
                       advance_override=Decimal("0.75"), override_reason="競合対策")  # fmt: skip
        assert reloaded(deal).advance_rate is None

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_refuses_an_override_without_a_reason(self, desk, reason):
        deal = desk.deal(priced=False)
        with pytest.raises(ValidationError) as refused:
            deal_price(deal=deal, actor=desk.underwriter, fee_rate=Decimal("0.1"),
                       advance_override=Decimal("0.75"), override_reason=reason)  # fmt: skip
        assert "advance_override_reason" in refused.value.message_dict

    def test_keeps_an_override_with_its_reason_and_the_policy_rate_beside_it(self, desk):
        deal = desk.deal(priced=False)
        deal_price(deal=deal, actor=desk.underwriter, fee_rate=Decimal("0.1"),
                   advance_override=Decimal("0.75"), override_reason=" 競合対策 ")  # fmt: skip
        deal = reloaded(deal)
        assert (deal.advance_rate, deal.policy_rate) == (Decimal("0.7500"), Decimal("0.7200"))
        assert deal.advance_override_reason == "競合対策"

    def test_an_override_equal_to_the_policy_is_no_override(self, desk):
        deal = desk.deal(priced=False)
        deal_price(deal=deal, actor=desk.sales, fee_rate=Decimal("0.1"),
                   advance_override=Decimal("0.72"))  # fmt: skip
        assert reloaded(deal).advance_override_reason == ""

    def test_repricing_without_override_returns_to_the_policy(self, desk):
        deal = desk.deal()  # overridden to 70 %
        deal_price(deal=deal, actor=desk.sales, fee_rate=Decimal("0.1"))
        deal = reloaded(deal)
        assert (deal.advance_rate, deal.advance_override_reason) == (Decimal("0.7200"), "")


class TestFunding:
    @pytest.mark.parametrize(
        ("scheme", "rate", "expected"),
        [("two_party", "0.7000", (7_000_000, 700_000, 6_300_000, 3_000_000, 9_300_000)),
         ("three_party", "0.8000", (8_000_000, 800_000, 7_200_000, 2_000_000, 9_200_000))],
    )  # fmt: skip
    def test_matches_the_reference_values(self, desk, scheme, rate, expected):
        deal = desk.deal(scheme=scheme, rate=Decimal(rate), faces=[10 * M])
        got = (deal.advance_amount, deal.fee, deal.upfront_payment, deal.reserve,
               deal.total_to_client)  # fmt: skip
        assert got == expected
        reference = funding_breakdown(10 * M, Decimal(rate), Decimal("0.1"))
        assert got == (reference.advance_amount, reference.fee, reference.upfront_payment,
                       reference.reserve, reference.total_to_client)  # fmt: skip

    def test_deducts_the_itemised_other_costs_from_the_upfront_payment(self, desk):
        deal = desk.deal()
        deal_update(deal=deal, actor=desk.sales, survey_fee=30_000, registration_fee=7_500,
                    scrivener_fee=50_000, transfer_fee=770)  # fmt: skip
        deal = reloaded(deal)
        assert deal.other_costs == 88_270
        assert (deal.advance_amount, deal.fee, deal.upfront_payment, deal.reserve) == (
            7_000_000, 700_000, 6_211_730, 3_000_000)  # fmt: skip
        reference = funding_breakdown(10 * M, Decimal("0.7"), Decimal("0.1"), 88_270)
        assert deal.upfront_payment == reference.upfront_payment
        assert deal.total_to_client == reference.total_to_client == 9_211_730

    def test_rounds_each_amount_down_to_the_yen(self, desk):
        deal = desk.deal(faces=[1_234_567], rate=Decimal("0.7500"), fee_rate=Decimal("0.0333"))
        # 1,234,567 × 0.75 = 925,925.25 → 925,925; × 0.0333 = 30,833.30 → 30,833.
        assert (deal.advance_amount, deal.fee, deal.reserve) == (925_925, 30_833, 308_642)


class TestFrozenFromApproval:
    @pytest.fixture(params=[Stage.APPROVAL, Stage.CONTRACTED])
    def frozen(self, request, desk):
        return desk.deal_at(request.param)

    def test_refuses_to_reprice(self, desk, frozen):
        with pytest.raises(InvalidStateError):
            deal_price(deal=frozen, actor=desk.underwriter, fee_rate=Decimal("0.2"))
        assert reloaded(frozen).fee_rate == Decimal("0.1000")

    def test_refuses_to_change_a_pricing_input(self, desk, frozen):
        changes = [{"survey_fee": 1}, {"scheme": "three_party"}, {"registration_required": True},
                   {"client_size": "large"}]  # fmt: skip
        for change in changes:
            with pytest.raises(InvalidStateError):
                deal_update(deal=frozen, actor=desk.sales, **change)
        assert reloaded(frozen).advance_amount == 7 * M

    def test_refuses_to_add_change_or_remove_receivables(self, desk, frozen):
        receivable = frozen.receivables.get()
        with pytest.raises(InvalidStateError):
            desk.receivable(frozen, receivable.debtor, 1 * M)
        with pytest.raises(InvalidStateError):
            receivable_update(receivable=receivable, actor=desk.sales, face_amount=1)
        with pytest.raises(InvalidStateError):
            receivable_remove(receivable=receivable, actor=desk.sales)
        assert reloaded(frozen).face_value == 10 * M

    def test_still_records_evidence_and_other_details(self, desk, frozen):
        receivable = frozen.receivables.get()
        receivable_update(receivable=receivable, actor=desk.sales,
                          verification_note="売掛先経理部に電話確認")  # fmt: skip
        deal_update(deal=frozen, actor=desk.sales, memo_next="契約書送付")
        assert reloaded(frozen).memo_next == "契約書送付"


class TestCreditCheck:
    def test_keeps_the_check_of_the_current_amount_with_the_grades(self, desk):
        debtor = desk.debtor("A")
        deal = desk.deal(client=desk.client("B"), debtors=[debtor], checked=False)
        result = deal_check_credit(deal=deal, actor=desk.underwriter)
        assert result["check"]["amount"] == deal.advance_amount == 7 * M
        assert result["check"]["status"] == "green"
        assert result["grades"] == {str(deal.client_id): "B", str(debtor.pk): "A"}
        deal = reloaded(deal)
        assert deal.credit_result == result and deal.credit_checked_at is not None
