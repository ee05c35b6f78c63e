"""``Desk`` builds parties and deals through the real services: a deal from ``Desk.deal`` has
every stage's paperwork filled in, is priced and credit-checked, so ``Desk.move`` can take it
to any stage and a test then removes exactly the one thing it is about."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from compliance.screening import screen_customer
from credit.models import Exposure
from customers.models import Customer
from deals.choices import PIPELINE, ApprovalStatus, Stage
from deals.models import ApprovalRequest, Deal
from deals.services import (
    approval_decide,
    deal_check_credit,
    deal_create,
    deal_price,
    deal_transition,
    next_stage,
    receivable_add,
)
from tests.factories import (
    BankAccountFactory,
    CreditLimitFactory,
    CustomerFactory,
    KycRecordFactory,
    RatingFactory,
)

M = 1_000_000


class Desk:
    """The staff of a deal and the parties they deal with, built through the services."""

    def __init__(self, make_user):
        self.sales = make_user("sales")
        self.underwriter = make_user("underwriter")
        self.operations = make_user("operations")
        self.approver = make_user("approver", approval_level=3)
        self._numbers = itertools.count(1)

    # ------------------------------------------------------------------ parties

    def party(self, *, kind: str = "client", grade: str | None = "B", limit: int | None = 100 * M,
              kyc: bool = True) -> Customer:  # fmt: skip
        """Return a screened customer; with KYC it is cleared, with a grade rated, with a limit
        it has an active credit limit of ``kind``."""
        flags = {} if kind == "client" else {"is_client": False, "is_debtor": True}
        party = CustomerFactory(**flags)
        # As tests.factories.cleared and creditworthy do, with this desk's staff as the
        # people who verified, rated and decided (fewer users to create).
        if kyc:
            KycRecordFactory(customer=party, verified_by=self.operations)
        screen_customer(customer=party, job="test")
        if grade:
            RatingFactory(counterparty=party, grade=grade, rated_by=self.underwriter)
        if limit is not None:
            CreditLimitFactory(counterparty=party, kind=kind, amount=limit,
                               proposed_by=self.underwriter, decided_by=self.approver)  # fmt: skip
        return party

    def client(self, grade: str | None = "B", **options) -> Customer:
        return self.party(kind="client", grade=grade, **options)

    def debtor(self, grade: str | None = "A", **options) -> Customer:
        return self.party(kind="debtor", grade=grade, **options)

    # ------------------------------------------------------------------ deals

    def paperwork(self, client: Customer) -> dict:
        """Return every field a stage asks for, filled in as the staff would."""
        today = timezone.localdate()
        return {
            "next_action": "書類回収", "next_action_owner": self.sales,
            "next_action_due": today + timedelta(days=3),
            "term_sheet_date": today, "expected_payment_date": today + timedelta(days=7),
            "expected_collection_date": today + timedelta(days=60),
            "memo_background": "継続取引", "memo_judgement": "売掛先は上場企業",
            "memo_next": "契約準備",
            "contract_date": today, "e_contract_id": "CS-0001",
            "registration_applied_on": today, "registration_completed_at": timezone.now(),
            "registration_number": "第2026-0001号",
            "notice_date": today, "notice_method": "certified_mail", "notice_reference": "R-1",
            "consent_signatory": "経理部長",
            "executed_on": today, "executed_amount": 6_300_000,
            "remittance_account": BankAccountFactory(customer=client,
                                                     verification="test_deposit"),
        }  # fmt: skip

    def invoice(self) -> str:
        return f"INV-{next(self._numbers):05d}"

    def receivable(self, deal: Deal, debtor: Customer, face: int, invoice: str | None = None,
                   **fields):  # fmt: skip
        today = timezone.localdate()
        options = {"evidence_received": True, "verification_method": "debtor_call", **fields}
        return receivable_add(
            deal=deal, actor=self.sales, debtor=debtor, invoice_number=invoice or self.invoice(),
            issue_date=today - timedelta(days=5), due_date=today + timedelta(days=55),
            face_amount=face, **options,
        )  # fmt: skip

    def deal(
        self,
        *,
        client: Customer | None = None,
        debtors: list[Customer] | None = None,
        faces: list[int] | None = None,
        rate: Decimal | None = Decimal("0.7000"),
        fee_rate: Decimal = Decimal("0.1000"),
        priced: bool = True,
        checked: bool = True,
        channel: str = "web",
        scheme: str = "two_party",
        **fields,
    ) -> Deal:
        """Return a deal at ``lead`` that meets every stage's requirements: paperwork filled
        in, one receivable per debtor (10M each unless ``faces``), priced at ``rate`` (the
        policy's when None) and credit-checked on that amount."""
        client = client or self.client()
        if debtors is None:
            debtors = [self.debtor() for _face in faces or [10 * M]]
        faces = faces or [10 * M] * len(debtors)
        owner = fields.pop("owner", self.sales)
        actor = fields.pop("actor", self.sales)
        values = {**self.paperwork(client), **fields}
        deal = deal_create(actor=actor, owner=owner, client=client, name="売掛債権買取",
                           channel=channel, scheme=scheme, **values)  # fmt: skip
        for debtor, face in zip(debtors, faces, strict=True):
            self.receivable(deal, debtor, face)
        if priced:
            self.price(deal, rate=rate, fee_rate=fee_rate)
        if checked:
            deal_check_credit(deal=deal, actor=self.underwriter)
        deal.refresh_from_db()
        return deal

    def price(self, deal: Deal, *, rate: Decimal | None = Decimal("0.7000"),
              fee_rate: Decimal = Decimal("0.1000")) -> Deal:  # fmt: skip
        reason = "記事の例に合わせる" if rate is not None else ""
        return deal_price(deal=deal, actor=self.underwriter, fee_rate=fee_rate,
                          advance_override=rate, override_reason=reason)  # fmt: skip

    def move(self, deal: Deal, to: str, *, actor=None) -> Deal:
        """Take ``deal`` forward stage by stage to ``to``, approving it on the way."""
        while PIPELINE.index(deal.stage) < PIPELINE.index(to):
            if deal.stage == Stage.APPROVAL:
                self.decide(deal, "approve", comment="承認")
            else:
                deal_transition(deal=deal, actor=actor or self.sales, to=next_stage(deal.stage))
            deal.refresh_from_db()
        return deal

    def deal_at(self, stage: str, **options) -> Deal:
        return self.move(self.deal(**options), stage)

    def executed(self, faces: list[int], scheme: str = "two_party", **options) -> Deal:
        """A deal taken through approval to execution (its expected collections open)."""
        return self.deal_at(Stage.EXECUTED, faces=faces, scheme=scheme, **options)

    def pending(self, deal: Deal) -> ApprovalRequest:
        return deal.approvals.get(status=ApprovalStatus.PENDING)

    def decide(self, deal: Deal, decision: str, *, actor=None, **options) -> ApprovalRequest:
        return approval_decide(approval=self.pending(deal), actor=actor or self.approver,
                               decision=decision, **options)  # fmt: skip


def codes(missing: list[dict]) -> list[str]:
    return [item["code"] for item in missing]


def reloaded(deal: Deal) -> Deal:
    return Deal.objects.select_related("client", "remittance_account").get(pk=deal.pk)


def balances(party: Customer) -> tuple[int, int, int, int]:
    row = Exposure.objects.filter(pk=party.pk).first() or Exposure()
    return row.client_reserved, row.client_consumed, row.debtor_reserved, row.debtor_consumed
