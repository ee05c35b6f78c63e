"""Demo deals: a pipeline in every stage, from 100 deals to 100,000.

Small (``seed_demo``, 100 deals by default, at most ``SMALL_MAX``): every deal is walked
through the real services of ``deals.services`` — the calls the screens make — so each one
carries the evidence its stage needs (receivables with verification, clearance and credit
snapshots, pricing from the active policy, 稟議 with the approver's decision, contract and
execution data) and the exposure ledger moves as it would. The walk stops at a planned stage;
a domain error (a gate that does not clear, a limit that is full) leaves the deal where it
got to. Afterwards the timeline is moved into the past (queryset updates) so the board shows
deals waiting for days, some of them stalled, and tasks of the ``sales`` user due today or
overdue.

Large (``seed_demo --deals 100000 --receivables-per-deal 10``): rows are written in bulk
(PostgreSQL COPY, ``bulk_create`` elsewhere) in the proportions of a real book — many leads,
fewer deals in each later stage, a fifth lost, some cancelled, many collecting or closed — with
the stage history, the 稟議 of every deal that reached approval, numbers ``YYYY-NNNN`` over
2024–2026 (``DealSequence`` brought in line) and the funding computed by
``credit.calculations.funding_breakdown``. Customers are topped up in bulk when the register
is too small for the scale (KYC, screening and a rating each, so they clear like the others;
no limits). Exposure is not posted through the ledger services for bulk deals (see
``seed_bulk``): only the open exposure is written directly, as ledger rows and balances.
"""

from __future__ import annotations

import io
import json
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from compliance.calculations import kyc_expiry
from compliance.models import KycPolicy, KycRecord
from compliance.screening import screen_customers
from compliance.selectors import clearances
from core.demo import DemoOptions, demo_seeder
from core.exceptions import DomainError
from credit.calculations import advance_rate, funding_breakdown
from credit.choices import EntryKind, LimitKind, LimitStatus
from credit.models import CreditLimit, Exposure, ExposureEntry, Rating
from credit.selectors import active_policy, current_grades
from customers.models import BankAccount, Customer

from .authority import required_level, risk_tier
from .calculations import split_by_debtor
from .choices import OPEN_STAGES, PIPELINE, ApprovalStatus, Decision, Stage
from .milestones import business_days_in_stage, milestones_of, refresh_milestones
from .models import (
    ApprovalRequest,
    AuthorityRule,
    Deal,
    DealSequence,
    LostReason,
    Receivable,
    StageChange,
)
from .services import (
    approval_decide,
    deal_check_credit,
    deal_create,
    deal_price,
    deal_transition,
    deal_update,
    receivable_add,
)
from .services.records import invoice_key  # the double-sale guard's key

# Up to this many deals the seeder goes through the services; above it, bulk rows.
SMALL_MAX = 500
# The large path wants at least one customer per this many deals (clients and debtors).
DEALS_PER_CUSTOMER = 20
BULK_CHUNK = 5_000  # deals generated and written per round (≈ 50,000 receivables at 10 each)
BATCH_SIZE = 5_000  # bulk_create batch size where COPY is not available
FIRST_DAY = date(2024, 1, 1)

# Final stages in the proportions of a real pipeline.
SMALL_MIX = (
    ("lead", 14), ("documents", 12), ("screening", 8), ("underwriting", 10), ("quoted", 8),
    ("approval", 4), ("contracted", 6), ("executed", 5), ("collecting", 10), ("closed", 8),
    ("lost", 12), ("cancelled", 3),
)  # fmt: skip
BULK_MIX = (
    ("lead", 10), ("documents", 8), ("screening", 4), ("underwriting", 4), ("quoted", 3),
    ("approval", 1), ("contracted", 2), ("executed", 1), ("collecting", 12), ("closed", 30),
    ("lost", 20), ("cancelled", 5),
)  # fmt: skip
# Where lost and cancelled deals left the pipeline (lost in approval = rejected).
LOST_FROM = (("lead", 30), ("documents", 20), ("screening", 5), ("underwriting", 15),
             ("quoted", 25), ("approval", 5))  # fmt: skip
CANCELLED_FROM = (("lead", 30), ("documents", 30), ("screening", 10), ("underwriting", 10),
                  ("quoted", 10), ("contracted", 10))  # fmt: skip
LOST_CODES = (("price", 30), ("speed", 15), ("competitor", 20), ("terms", 15),
              ("no_contact", 10), ("withdrawn", 5), ("other", 5))  # fmt: skip
LOST_NOTES = {
    "price": "手数料率で他社に見劣りした。", "speed": "資金化の希望日に間に合わなかった。",
    "competitor": "既存取引のある他社に決定。", "terms": "3社間への切替えに顧客が難色。",
    "no_contact": "見積提示後に連絡が取れなくなった。", "withdrawn": "資金需要がなくなったとのこと。",
    "other": "顧客都合。", "risk_ng": "稟議で否決。",
}  # fmt: skip
CANCEL_NOTES = (
    "顧客から申込みの取下げ。",
    "重複登録のため取消し。",
    "条件変更のため新しい案件で再起票。",
)
CHANNELS = (("referral", 40), ("existing", 30), ("web", 20), ("advert", 10))
REFERRERS = (("みらい税理士法人", "佐藤"), ("東京中央会計事務所", "鈴木"),
             ("さくら経営コンサルティング", "高橋"), ("日本橋商工会", "田中"))  # fmt: skip
CAMPAIGNS = ("2026春 Web広告", "業界紙 広告", "リスティング 資金繰り")
NEXT_ACTIONS = {
    "lead": "初回ヒアリングの日程調整", "documents": "請求書・通帳コピーの回収",
    "screening": "反社チェック結果の確認", "underwriting": "決算書3期分の分析",
    "quoted": "見積条件への回答確認", "approval": "稟議結果の連絡",
    "contracted": "登記申請と債権譲渡通知の発送", "executed": "入金予定日の確認",
    "collecting": "売掛先からの入金確認",
}  # fmt: skip
VERIFICATIONS = ("debtor_call", "contract", "delivery", "bank_history", "debtor_consent")
# Days spent in a stage before leaving it (uniform between the bounds).
DWELL = {
    "lead": (1, 6), "documents": (2, 12), "screening": (0.5, 3), "underwriting": (1, 7),
    "quoted": (1, 10), "approval": (0.3, 3), "contracted": (2, 10), "executed": (0.5, 2),
    "collecting": (25, 90),
}  # fmt: skip
# Who moves a deal into each stage (the owner for the sales steps).
MOVER = {
    "documents": "owner", "screening": "owner", "underwriting": "owner",
    "quoted": "underwriter", "approval": "owner", "contracted": "approver",
    "executed": "operations", "collecting": "operations", "closed": "operations",
    "lost": "owner", "cancelled": "owner",
}  # fmt: skip
EXTRA_SALES = 9  # staff added to the sales team for the large book
# Bulk deals in these stages hold exposure on the ledger (reserved, then consumed).
LEDGER_STAGES = ("contracted", "executed", "collecting")

STAGE_INDEX = {stage.value: i for i, stage in enumerate(PIPELINE)}


def _allocate(n: int, mix: tuple[tuple[str, int], ...]) -> list[str]:
    """Return ``n`` stages in the proportions of ``mix`` (largest remainder)."""
    total = sum(weight for _, weight in mix)
    exact = [(stage, n * weight / total) for stage, weight in mix]
    counts = {stage: int(value) for stage, value in exact}
    rest = n - sum(counts.values())
    for stage, _ in sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)[:rest]:
        counts[stage] += 1
    return [stage for stage, _ in mix for _ in range(counts[stage])]


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([key for key, _ in table], weights=[weight for _, weight in table])[0]


def _face(rng: random.Random, median: int = 800_000) -> int:
    """Return an invoice amount: log-normal around ``median``, whole thousands of yen."""
    value = rng.lognormvariate(math.log(median), 0.8)
    return int(min(max(value, 100_000), 30_000_000)) // 1000 * 1000


def _short(name: str) -> str:
    return name.replace("株式会社", "").replace("有限会社", "").strip()


@demo_seeder("deals")
def seed_deals(options: DemoOptions, log) -> None:
    if Deal.objects.exists():
        log(f"案件: 既存 {Deal.objects.count():,} 件 (追加なし)")
        return
    if options.deals <= 0:
        return
    if options.deals <= SMALL_MAX:
        _seed_small(options, log)
    else:
        seed_bulk(options, log)


# ---------------------------------------------------------------------------------------
# Small: through the services
# ---------------------------------------------------------------------------------------


@dataclass
class _Plan:
    target: str  # the stage the deal should end in
    stop: str  # the pipeline stage where the walk stops (the exit's origin for lost/cancelled)
    send_back: bool = False
    reject: bool = False
    stalled: bool = False
    bare_lead: bool = False  # a lead without its next action yet
    age_days: float = 0.0
    in_stage_days: float = 0.0

    @property
    def passes_approval(self) -> bool:
        """Whether the walk reserves exposure (an approval decided positively)."""
        return STAGE_INDEX.get(self.stop, 0) > STAGE_INDEX["approval"]

    @property
    def reaches_approval(self) -> bool:
        return STAGE_INDEX.get(self.stop, 0) >= STAGE_INDEX["approval"] or self.send_back


def _small_plans(n: int, rng: random.Random) -> list[_Plan]:
    targets = _allocate(n, SMALL_MIX)
    if "approval" not in targets and n >= 5:  # someone must be waiting for the approver
        targets[targets.index("lead") if "lead" in targets else 0] = "approval"
    rng.shuffle(targets)
    plans = []
    for target in targets:
        if target == "lost":
            stop = _pick(rng, LOST_FROM[:-1])  # rejections are planned below
        elif target == "cancelled":
            stop = _pick(rng, CANCELLED_FROM)
        else:
            stop = target
        plans.append(_Plan(target=target, stop=stop))
    # One deal sent back from approval, one rejected in approval (a lost deal with リスクNG).
    for plan in plans:
        if plan.target in ("quoted", "underwriting"):
            plan.send_back = True
            break
    if n >= 20:
        for plan in plans:
            if plan.target == "lost":
                plan.stop, plan.reject = "approval", True
                break
    lead_count = 0
    for plan in plans:
        low, high = {
            "lead": (0.5, 8), "documents": (3, 20), "screening": (5, 25), "underwriting": (7, 30),
            "quoted": (10, 35), "approval": (12, 35), "contracted": (15, 40),
            "executed": (20, 45), "collecting": (30, 80), "closed": (100, 300),
            "lost": (5, 150), "cancelled": (5, 150),
        }[plan.target]  # fmt: skip
        plan.age_days = rng.uniform(low, high)
        if plan.target == "lead":
            lead_count += 1
            plan.bare_lead = lead_count % 2 == 0
        if plan.target in OPEN_STAGES and rng.random() < 0.15:
            plan.stalled = True
            plan.in_stage_days = rng.uniform(9, 20)
            plan.age_days = max(plan.age_days, plan.in_stage_days + rng.uniform(2, 15))
        elif plan.target in ("lost", "cancelled", "closed"):
            plan.in_stage_days = rng.uniform(0.2, plan.age_days * 0.5)
        else:
            plan.in_stage_days = rng.uniform(0.05, min(2.5, plan.age_days * 0.5))
    # Oldest first, so that numbers follow the dates the deals were opened.
    return sorted(plans, key=lambda plan: -plan.age_days)


@dataclass
class _Cast:
    sales: Any
    underwriter: Any
    operations: Any
    approver: Any

    @classmethod
    def load(cls) -> _Cast:
        users = User.objects.in_bulk(
            ["sales", "underwriter", "operations", "approver"], field_name="username"
        )
        cast = cls(**{name: users[name] for name in ("sales", "underwriter", "operations",
                                                     "approver")})  # fmt: skip
        # seed_demo is refused under production settings; its approver acts as a verified
        # session, so the two-factor rule (OTP_REQUIRED) does not stop the demo's decisions.
        cast.approver.is_verified = lambda: True
        return cast


@dataclass
class _Room:
    """What the seeder may still put under each limit (so late-stage deals get approved)."""

    client: dict[int, int] = field(default_factory=dict)
    debtor: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, today: date) -> _Room:
        room = cls()
        exposures = {e.pk: e for e in Exposure.objects.all()}
        limits = CreditLimit.objects.filter(
            status=LimitStatus.ACTIVE, valid_from__lte=today, valid_until__gte=today,
            kind__in=[LimitKind.CLIENT, LimitKind.DEBTOR],
        )  # fmt: skip
        for limit in limits:
            exposure = exposures.get(limit.counterparty_id) or Exposure()
            if limit.kind == LimitKind.CLIENT:
                # Stay under 80 % (green) so the approver's level is the matrix's, not red.
                room.client[limit.counterparty_id] = int(limit.amount * 0.8) - exposure.client_total
            else:
                room.debtor[limit.counterparty_id] = int(limit.amount * 0.8) - exposure.debtor_total
        return room


class _SmallSeeder:
    def __init__(self, options: DemoOptions, log) -> None:
        self.options = options
        self.log = log
        self.rng = random.Random(options.seed)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.cast = _Cast.load()
        self.room = _Room.load(self.today)
        customers = list(Customer.objects.filter(merged_into__isnull=True).order_by("pk"))
        found = clearances(customers, today=self.today)
        self.cleared = {pk: judged.cleared for pk, judged in found.items()}
        self.grades = current_grades([c.pk for c in customers])
        good = {pk for pk, grade in self.grades.items() if grade in ("A", "B", "C")}
        self.clients = [c for c in customers if c.is_client]
        self.debtors = [c for c in customers if c.is_debtor]
        self.good_clients = [c for c in self.clients if self.cleared[c.pk] and c.pk in good]
        self.good_debtors = [c for c in self.debtors if self.cleared[c.pk] and c.pk in good]
        self.accounts = {
            account.customer_id: account
            for account in BankAccount.objects.filter(
                is_active=True, verification__in=["test_deposit", "document"]
            ).order_by("pk")
        }
        self.invoice_no = 0
        self.kept: Counter[str] = Counter()

    # -- choosing parties and amounts ---------------------------------------------------

    def _faces(self, count: int, scale: float) -> list[int]:
        return [
            max(int(_face(self.rng, 700_000) * scale) // 1000 * 1000, 100_000) for _ in range(count)
        ]

    def _parties(self, plan: _Plan) -> tuple[Customer, list[Customer], list[int]] | None:
        """Return the client, the debtor of each receivable and their amounts."""
        k = max(self.options.receivables_per_deal, 1)
        need_clear = STAGE_INDEX.get(plan.stop, 0) > STAGE_INDEX["screening"] or plan.reject
        clients = self.good_clients if need_clear else self.clients
        debtors = self.good_debtors if need_clear else self.debtors
        if plan.target == "screening" and self.rng.random() < 0.4:
            # Some deals wait in screening because a party is not cleared (yet).
            clients = [c for c in self.clients if not self.cleared[c.pk]] or clients
        if not clients or len(debtors) < 1:
            return None
        for attempt in range(12):
            client = self.rng.choice(clients)
            chosen = self.rng.sample(
                debtors, min(len(debtors), 1 if self.rng.random() < 0.7 else 2)
            )
            chosen = [d for d in chosen if d.pk != client.pk]
            if not chosen:
                continue
            per_receivable = [chosen[i % len(chosen)] for i in range(k)]
            faces = self._faces(k, 1.0 / (1 + attempt // 3))
            if not plan.reaches_approval:
                return client, per_receivable, faces
            # Asking for approval needs a clear limit check, and approving needs room under
            # every limit: estimate the advance at 90 % of the face.
            advance = sum(faces) * 0.9
            by_debtor: dict[int, float] = defaultdict(float)
            for debtor, face in zip(per_receivable, faces, strict=True):
                by_debtor[debtor.pk] += face * 0.9
            if self.room.client.get(client.pk, 0) < advance or any(
                self.room.debtor.get(pk, 0) < amount for pk, amount in by_debtor.items()
            ):
                continue
            if plan.passes_approval:
                self.room.client[client.pk] -= int(advance)
                for pk, amount in by_debtor.items():
                    self.room.debtor[pk] -= int(amount)
            return client, per_receivable, faces
        # No room anywhere: this deal waits in quoted instead.
        plan.target = plan.stop = "quoted"
        client = self.rng.choice(clients)
        others = [d for d in debtors if d.pk != client.pk]
        if not others:
            return None
        debtor = self.rng.choice(others)
        return client, [debtor] * k, self._faces(k, 1.0)

    # -- the walk -------------------------------------------------------------------------

    def _date(self, plan: _Plan, fraction: float) -> date:
        """A date between the deal's creation (0) and its entry into its stage (1)."""
        created = self.now - timedelta(days=plan.age_days)
        entered = self.now - timedelta(days=plan.in_stage_days)
        return timezone.localdate(created + (entered - created) * fraction)

    def build(self, plan: _Plan) -> Deal | None:
        parties = self._parties(plan)
        if parties is None:
            return None
        client, debtors, faces = parties
        cast, rng = self.cast, self.rng
        scheme = "three_party" if rng.random() < 0.3 else "two_party"
        channel = _pick(rng, CHANNELS)
        extra: dict[str, Any] = {}
        if channel == "referral":
            extra["referrer_company"], extra["referrer_person"] = rng.choice(REFERRERS)
        elif channel == "advert":
            extra["campaign"] = rng.choice(CAMPAIGNS)
        created_day = self._date(plan, 0)
        deal = deal_create(
            actor=cast.sales, client=client, channel=channel, scheme=scheme,
            name=f"{_short(debtors[0].name)}向け {created_day.month}月分請求書の買取",
            registration_required=scheme == "two_party" and rng.random() < 0.6,
            notice_required=scheme == "three_party", client_size=rng.choice(["large", "medium",
                                                                           "medium", "small"]),
            **extra,
        )  # fmt: skip
        try:
            self._walk(deal, plan, debtors, faces, created_day)
        except (DomainError, ValidationError) as error:
            self.kept[f"{type(error).__name__} ({Deal.objects.get(pk=deal.pk).stage})"] += 1
        deal = Deal.objects.get(pk=deal.pk)
        if plan.target == "lost" and deal.stage == plan.stop and not plan.reject:
            codes = rng.sample([code for code, _ in LOST_CODES], rng.choice([1, 1, 2, 3]))
            deal_transition(deal=deal, actor=cast.sales, to=Stage.LOST, lost_reasons=codes,
                            comment=LOST_NOTES[codes[0]])  # fmt: skip
        elif plan.target == "cancelled" and deal.stage == plan.stop:
            deal_transition(deal=deal, actor=cast.sales, to=Stage.CANCELLED,
                            comment=rng.choice(CANCEL_NOTES))  # fmt: skip
        return deal

    def _walk(self, deal: Deal, plan: _Plan, debtors, faces, created_day: date) -> None:
        """Take ``deal`` from lead towards ``plan.stop`` the way staff would."""
        cast, rng, today = self.cast, self.rng, self.today

        def at(stage: str) -> bool:
            # A deal to be sent back travels through approval before it stops.
            return deal.stage == stage == plan.stop and not plan.send_back

        if at("lead") and plan.bare_lead:
            return
        deal_update(deal=deal, actor=cast.sales, next_action=NEXT_ACTIONS["lead"],
                    next_action_owner=cast.sales,
                    next_action_due=today + timedelta(days=rng.randint(1, 10)))  # fmt: skip
        if at("lead"):
            return
        deal = deal_transition(deal=deal, actor=cast.sales, to=Stage.DOCUMENTS)
        evidence_all = not at("documents") or rng.random() < 0.3
        for i, (debtor, face) in enumerate(zip(debtors, faces, strict=True)):
            self.invoice_no += 1
            issue = created_day - timedelta(days=rng.randint(3, 20))
            evidence = evidence_all or i % 2 == 0
            receivable_add(
                deal=deal, actor=cast.sales, debtor=debtor, face_amount=face,
                invoice_number=f"{issue:%y%m}-{self.invoice_no:05d}", issue_date=issue,
                due_date=issue + timedelta(days=rng.choice([30, 45, 60, 60, 75])),
                evidence_received=evidence,
                verification_method=rng.choice(VERIFICATIONS) if evidence else "",
            )  # fmt: skip
        if at("documents"):
            return
        deal = deal_transition(deal=deal, actor=cast.sales, to=Stage.SCREENING)
        if at("screening"):
            return
        deal = deal_transition(deal=deal, actor=cast.sales, to=Stage.UNDERWRITING)
        if at("underwriting") and rng.random() < 0.5:
            return  # not priced yet
        fee = Decimal("0.0300") if deal.scheme == "three_party" else Decimal("0.0800")
        deal_price(deal=deal, actor=cast.underwriter,
                   fee_rate=fee + Decimal(rng.randint(0, 4)) / 100)  # fmt: skip
        deal_check_credit(deal=deal, actor=cast.underwriter)
        if at("underwriting"):
            return
        deal = deal_transition(deal=deal, actor=cast.underwriter, to=Stage.QUOTED)
        if at("quoted") and rng.random() < 0.4:
            return  # term sheet not answered yet
        deal_update(
            deal=deal, actor=cast.sales, term_sheet_date=self._date(plan, 0.6),
            expected_payment_date=today + timedelta(days=rng.randint(3, 10)),
            expected_collection_date=max(r.due_date for r in deal.receivables.all()),
            memo_background="継続的な資金繰り改善のための買取。",
            memo_judgement="売掛先の信用力は高く、取引実績も確認済み。",
            memo_next="契約書の準備と登記の手配。",
        )  # fmt: skip
        deal.refresh_from_db()
        if at("quoted") or not deal.credit_result.get("check", {}).get("allowed"):
            return  # a limit without room keeps the deal at quoted
        deal = deal_transition(deal=deal, actor=cast.sales, to=Stage.APPROVAL)
        if at("approval") and not plan.reject:
            return  # waiting in the approver's inbox
        approval = deal.approvals.get(status=ApprovalStatus.PENDING)
        if plan.send_back:
            approval_decide(approval=approval, actor=cast.approver, decision=Decision.SEND_BACK,
                            send_back_to=plan.stop,
                            comment="売掛先の入金実績を3か月分追加で確認してください。")  # fmt: skip
            return
        if plan.reject:
            approval_decide(approval=approval, actor=cast.approver, decision=Decision.REJECT,
                            comment="売掛先の支払能力に懸念があるため否決。")  # fmt: skip
            return
        if approval.limit_status == "green" and rng.random() < 0.8:
            approval_decide(approval=approval, actor=cast.approver, decision=Decision.APPROVE,
                            comment="承認")  # fmt: skip
        else:
            approval_decide(approval=approval, actor=cast.approver,
                            decision=Decision.APPROVE_WITH_CONDITIONS,
                            conditions="初回入金の確認後に次回買取を行うこと。")  # fmt: skip
        deal = Deal.objects.get(pk=deal.pk)
        if at("contracted"):
            deal_update(deal=deal, actor=cast.operations, contract_date=self._date(plan, 1),
                        e_contract_id=f"CS-{deal.number}")  # fmt: skip
            return
        fields: dict[str, Any] = {
            "contract_date": self._date(plan, 0.7), "e_contract_id": f"CS-{deal.number}",
            "executed_on": self._date(plan, 0.85), "executed_amount": deal.upfront_payment,
            "remittance_account": self.accounts.get(deal.client_id),
        }  # fmt: skip
        if deal.registration_required:
            fields.update(
                registration_applied_on=self._date(plan, 0.7),
                registration_completed_at=self.now - timedelta(days=plan.age_days * 0.25),
                registration_number=f"第{self._date(plan, 0.7).year}-{deal.pk:05d}号",
                registration_expires_on=self._date(plan, 0.7) + timedelta(days=730),
            )
        if deal.scheme == "three_party" or deal.notice_required:
            fields.update(
                notice_date=self._date(plan, 0.75), notice_method="certified_mail",
                notice_reference=f"内容証明 {deal.pk:05d}", consent_signatory="経理部長",
                defences_waived=deal.scheme == "three_party", anti_assignment_noted=True,
            )  # fmt: skip
        deal_update(deal=deal, actor=cast.operations, **fields)
        deal = deal_transition(deal=deal, actor=cast.operations, to=Stage.EXECUTED)
        if at("executed"):
            return
        deal = deal_transition(deal=deal, actor=cast.operations, to=Stage.COLLECTING)
        if at("collecting"):
            return
        deal_transition(deal=deal, actor=cast.operations, to=Stage.CLOSED)

    # -- the past -------------------------------------------------------------------------

    def backdate(self, deal: Deal, plan: _Plan) -> None:
        """Move the deal's history into the past: created ``age_days`` ago, in its stage
        for ``in_stage_days`` (a stalled deal for longer than its threshold). The caller
        refreshes the milestones afterwards, once for every deal backdated."""
        created = self.now - timedelta(days=plan.age_days)
        entered = self.now - timedelta(days=plan.in_stage_days)
        changes = list(StageChange.objects.filter(deal=deal).order_by("pk"))
        # Each stage takes its share of the time as in the large book (collecting longest).
        weights = [self.rng.uniform(*DWELL.get(c.from_stage, (1, 5))) for c in changes]
        total, cumulative, previous = sum(weights), 0.0, created
        for change, weight in zip(changes, weights, strict=True):
            cumulative += weight
            change.at = created + (entered - created) * (cumulative / total)
            change.seconds_in_stage = int((change.at - previous).total_seconds())
            change.set_business_days()
            previous = change.at
        StageChange.objects.bulk_update(changes, ["at", "seconds_in_stage", "business_days"])
        approvals = list(ApprovalRequest.objects.filter(deal=deal).order_by("pk"))
        entries = [i for i, change in enumerate(changes) if change.to_stage == Stage.APPROVAL]
        for approval, index in zip(approvals, entries, strict=False):
            approval.requested_at = changes[index].at
            if approval.decided_at is not None and index + 1 < len(changes):
                approval.decided_at = changes[index + 1].at
        ApprovalRequest.objects.bulk_update(approvals, ["requested_at", "decided_at"])
        Receivable.objects.filter(deal=deal).update(created_at=created + timedelta(hours=4))
        Deal.objects.filter(pk=deal.pk).update(
            created_at=created, stage_entered_at=changes[-1].at if changes else created
        )

    def next_actions(self, deals: list[Deal]) -> None:
        """Stage-appropriate next actions for open deals; a few of sales's due today or late."""
        working = [*OPEN_STAGES, Stage.EXECUTED, Stage.COLLECTING]
        open_deals = [d for d in Deal.objects.filter(pk__in=[d.pk for d in deals],
                                                     stage__in=working).exclude(next_action="")]  # fmt: skip
        self.rng.shuffle(open_deals)
        for index, deal in enumerate(open_deals):
            if index < 3:
                due = self.today
            elif index < 7:
                due = self.today - timedelta(days=self.rng.randint(1, 6))
            else:
                due = self.today + timedelta(days=self.rng.randint(1, 14))
            Deal.objects.filter(pk=deal.pk).update(
                next_action=NEXT_ACTIONS[deal.stage], next_action_owner=self.cast.sales,
                next_action_due=due,
            )  # fmt: skip
        Deal.objects.filter(pk__in=[d.pk for d in deals]).exclude(stage__in=working).update(
            next_action="", next_action_owner=None, next_action_due=None
        )


def _seed_small(options: DemoOptions, log) -> None:
    started = time.perf_counter()
    seeder = _SmallSeeder(options, log)
    if not seeder.clients or not seeder.debtors:
        log("案件: 利用会社または売掛先がないため作成しません")
        return
    deals = []
    for plan in _small_plans(options.deals, seeder.rng):
        deal = seeder.build(plan)
        if deal is None:
            continue
        seeder.backdate(deal, plan)
        deals.append(deal)
    refresh_milestones([deal.pk for deal in deals])  # from the backdated stage logs
    seeder.next_actions(deals)
    by_stage = Counter(Deal.objects.values_list("stage", flat=True))
    pending = ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).count()
    kept = ", ".join(f"{reason} {n}" for reason, n in seeder.kept.most_common()) or "0"
    log(
        f"案件: {len(deals)} 件 ({', '.join(f'{s} {by_stage[s]}' for s in Stage.values if by_stage[s])}); "
        f"稟議待ち {pending} 件; 手前の段階に留めた案件: {kept} ({time.perf_counter() - started:.1f} 秒)"
    )


# ---------------------------------------------------------------------------------------
# Large: bulk rows
# ---------------------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    return "\\N" if value is None else value.translate(_ESCAPES)


def _plain(value: Any) -> str:  # numbers, ids
    return "\\N" if value is None else str(value)


def _iso(value: Any) -> str:  # dates and aware datetimes
    return "\\N" if value is None else value.isoformat()


def _bool(value: Any) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def _json(value: Any) -> str:
    if value is None:
        return "\\N"
    return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder).translate(_ESCAPES)


def _copy_format(field: models.Field):
    """Return the function writing ``field``'s values in COPY's text format."""
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.BooleanField):
        return _bool
    if isinstance(field, models.DateField):  # DateTimeField too
        return _iso
    if isinstance(field, models.CharField | models.TextField):
        return _text
    return _plain


class _Table:
    """Insert plain rows (dicts keyed by attname, ids given) into one model's table: COPY on
    PostgreSQL, ``bulk_create`` elsewhere. Fields a row leaves out take their default."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        now = timezone.now()
        self.defaults: dict[str, Any] = {}
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults[f.attname] = now
            else:  # the field's default, "" for text fields, None where null is allowed
                self.defaults[f.attname] = f.get_default()
        self.rows = 0

    def next_id(self) -> int:
        return (self.model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1

    def insert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        if connection.vendor == "postgresql":
            self._copy(rows)
        else:
            objects = [self.model(**{**self.defaults, **row}) for row in rows]
            self.model.objects.bulk_create(objects, batch_size=BATCH_SIZE)

    def _copy(self, rows: list[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        columns = [(f.attname, self.defaults[f.attname], _copy_format(f)) for f in self.fields]
        write = buffer.write
        for row in rows:
            write("\t".join([fmt(row.get(name, default)) for name, default, fmt in columns]))
            write("\n")
        quote = connection.ops.quote_name
        sql = (
            f"COPY {quote(self.model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in self.fields)}) FROM STDIN"
        )
        buffer.seek(0)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, buffer)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(buffer.getvalue())


@dataclass
class _Staff:
    sales: list[Any]
    sales_weights: list[float]
    underwriter: Any
    operations: Any
    approver: Any

    @classmethod
    def ensure(cls, rng: random.Random) -> _Staff:
        """The demo users, and a sales team for a book of this size (the demo ``sales`` user
        owns about a third of it)."""
        from faker import Faker

        users = User.objects.in_bulk(
            ["sales", "underwriter", "operations", "approver"], field_name="username"
        )
        team = [users["sales"]]
        group = Group.objects.get(name="sales")
        fake = Faker("ja_JP")
        fake.seed_instance(rng.randrange(10**9))
        for n in range(2, EXTRA_SALES + 2):
            user, created = User.objects.get_or_create(
                username=f"sales{n:02d}",
                defaults={"last_name": fake.last_name(), "first_name": fake.first_name(),
                          "department": "営業部", "is_demo": True},
            )  # fmt: skip
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(group)
            team.append(user)
        weights = [3.0] + [0.8 + 0.05 * i for i in range(len(team) - 1)]
        return cls(team, weights, users["underwriter"], users["operations"], users["approver"])


PLACES = (
    ("東京", "トウキョウ"), ("横浜", "ヨコハマ"), ("大阪", "オオサカ"), ("名古屋", "ナゴヤ"),
    ("札幌", "サッポロ"), ("仙台", "センダイ"), ("広島", "ヒロシマ"), ("福岡", "フクオカ"),
    ("神戸", "コウベ"), ("京都", "キョウト"), ("千葉", "チバ"), ("埼玉", "サイタマ"),
    ("静岡", "シズオカ"), ("新潟", "ニイガタ"), ("金沢", "カナザワ"), ("岡山", "オカヤマ"),
    ("熊本", "クマモト"), ("長野", "ナガノ"), ("富山", "トヤマ"), ("高松", "タカマツ"),
    ("関東", "カントウ"), ("関西", "カンサイ"), ("東海", "トウカイ"), ("九州", "キュウシュウ"),
    ("北陸", "ホクリク"), ("湘南", "ショウナン"), ("中央", "チュウオウ"), ("日本", "ニホン"),
    ("第一", "ダイイチ"), ("大和", "ヤマト"), ("富士", "フジ"), ("旭", "アサヒ"),
)  # fmt: skip
TRADES = (
    ("商事", "ショウジ"), ("工業", "コウギョウ"), ("建設", "ケンセツ"), ("物産", "ブッサン"),
    ("製作所", "セイサクショ"), ("運輸", "ウンユ"), ("食品", "ショクヒン"), ("電機", "デンキ"),
    ("物流", "ブツリュウ"), ("印刷", "インサツ"), ("化学", "カガク"), ("産業", "サンギョウ"),
    ("設備", "セツビ"), ("金属", "キンゾク"), ("電子", "デンシ"), ("精機", "セイキ"),
)  # fmt: skip
GRADES = ("A", "A", "B", "B", "B", "C", "C")


def _top_up_customers(target: int, rng: random.Random, log) -> None:
    """Bring the register to ``target`` customers in bulk: each with a verified KYC, a
    screening run (the real set-based one) and a rating, and an account for clients — so
    they clear like the demo's own. No credit limits: the bulk deals post no exposure."""
    from faker import Faker
    from stdnum.jp import cn

    from customers.choices import AccountType, AccountVerification, Industry

    existing = Customer.objects.count()
    if existing >= target:
        return
    started = time.perf_counter()
    fake = Faker("ja_JP")
    fake.seed_instance(rng.randrange(10**9))
    names = set(Customer.objects.values_list("name", flat=True))
    numbers = set(Customer.objects.exclude(corporate_number=None).values_list(
        "corporate_number", flat=True))  # fmt: skip
    surnames = sorted({fake.last_name_pair()[:2] for _ in range(2000)})
    combos = [(p, s, t) for p in PLACES for s in surnames for t in TRADES]
    rng.shuffle(combos)
    new: list[Customer] = []
    index = existing
    for n in range(target - existing):
        (place, place_kana), (family, family_kana), (trade, trade_kana) = combos[n % len(combos)]
        round_ = n // len(combos)
        name = f"株式会社{place}{family}{trade}" + (f"{round_ + 1}" if round_ else "")
        if name in names:
            name = f"{name}{n}"
        names.add(name)
        while True:
            body = f"{rng.randrange(10**11, 10**12):012d}"
            number = cn.calc_check_digit(body) + body
            if number not in numbers:
                numbers.add(number)
                break
        customer = Customer(
            name=name, name_kana=f"カブシキガイシャ{place_kana}{family_kana}{trade_kana}",
            corporate_number=number, invoice_number=f"T{number}",
            industry=rng.choice(Industry.values),
            capital=rng.choice([10_000_000, 30_000_000, 50_000_000, 100_000_000]),
            employees=rng.randint(5, 2000), annual_sales=rng.randrange(50, 50_000) * 1_000_000,
            net_assets=rng.randrange(10, 5000) * 1_000_000,
            fiscal_year_end_month=rng.choice([3, 3, 3, 6, 9, 12]), postal_code=fake.postcode(),
            prefecture=fake.prefecture(), city=fake.city(), street=fake.town() + fake.chome(),
            phone=fake.phone_number(), is_client=index % 3 != 2, is_debtor=index % 3 != 0,
        )  # fmt: skip
        customer.refresh_keys()
        new.append(customer)
        index += 1
    first = (Customer.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    Customer.objects.bulk_create(new, batch_size=1000)
    created = list(Customer.objects.filter(pk__gte=first).order_by("pk"))
    compliance_officer = User.objects.get(username="compliance")
    underwriter = User.objects.get(username="underwriter")
    policy = KycPolicy.objects.get(risk="normal")
    today = timezone.localdate()
    accounts, kyc, ratings = [], [], []
    for customer in created:
        if customer.is_client:
            accounts.append(
                BankAccount(
                    customer=customer, bank_code="0005", bank_name="三菱UFJ", branch_code="001",
                    branch_name="本店", account_type=AccountType.ORDINARY,
                    number=f"{rng.randrange(10**6, 10**7):07d}",
                    holder_kana=customer.name_kana.replace("カブシキガイシャ", "カ)"),
                    verification=AccountVerification.TEST_DEPOSIT,
                )
            )  # fmt: skip
        verified_on = today - timedelta(days=rng.randint(10, 600))
        kyc.append(
            KycRecord(
                customer=customer, method="in_person", document_type="registry",
                document_number_masked="******7890", verified_on=verified_on,
                verified_by=compliance_officer, result="verified", risk="normal",
                expires_on=kyc_expiry(verified_on, policy.validity_months),
            )
        )  # fmt: skip
        ratings.append(
            Rating(
                counterparty=customer, grade=rng.choice(GRADES),
                internal_score=rng.randint(40, 95), rated_by=underwriter,
                rationale="決算書3期分と取引状況から判定。",
            )
        )  # fmt: skip
    BankAccount.objects.bulk_create(accounts, batch_size=BATCH_SIZE)
    KycRecord.objects.bulk_create(kyc, batch_size=BATCH_SIZE)
    Rating.objects.bulk_create(ratings, batch_size=BATCH_SIZE)
    summary = screen_customers([c.pk for c in created], job="seed_demo")
    log(
        f"顧客: {len(created):,} 社を一括追加 (KYC・照合・格付つき, 該当候補 {summary.hits_opened} 件; "
        f"{time.perf_counter() - started:.1f} 秒)"
    )


@dataclass
class _Parties:
    clients: list[int]
    client_cum: list[float]
    debtors: list[int]
    debtor_cum: list[float]
    names: dict[int, str]
    grades: dict[int, str]
    accounts: dict[int, int]
    sizes: dict[int, str]

    @classmethod
    def load(cls, rng: random.Random) -> _Parties:
        rows = list(
            Customer.objects.filter(merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", "name", "is_client", "is_debtor")
        )
        clients = [pk for pk, _, is_client, _ in rows if is_client]
        debtors = [pk for pk, _, _, is_debtor in rows if is_debtor]
        rng.shuffle(clients)
        rng.shuffle(debtors)

        def cumulative(count: int, skew: float) -> list[float]:
            # A few parties carry much of the book (a Zipf-like spread).
            total, out = 0.0, []
            for rank in range(1, count + 1):
                total += 1 / rank**skew
                out.append(total)
            return out

        accounts: dict[int, int] = {}
        for pk, customer_id in (
            BankAccount.objects.filter(
                is_active=True, verification__in=["test_deposit", "document"]
            )
            .order_by("pk")
            .values_list("pk", "customer_id")
        ):
            accounts.setdefault(customer_id, pk)
        ids = [pk for pk, *_ in rows]
        grades = current_grades(ids) if len(ids) < 30_000 else {}
        return cls(
            clients=clients, client_cum=cumulative(len(clients), 0.6), debtors=debtors,
            debtor_cum=cumulative(len(debtors), 0.9), names={pk: n for pk, n, *_ in rows},
            grades=grades, accounts=accounts,
            sizes={pk: rng.choice(["large", "medium", "medium", "small"]) for pk in clients},
        )  # fmt: skip


@dataclass
class _BulkPlan:
    created: datetime
    final: str
    path: list[tuple[str, datetime]]  # (stage entered, when), in order
    reject: bool = False
    sent_back: bool = False

    @property
    def entered(self) -> datetime:
        return self.path[-1][1] if self.path else self.created


def _bulk_plan(rng: random.Random, now: datetime, start: datetime) -> _BulkPlan:
    final = _pick(rng, BULK_MIX)
    if final == "lost":
        stop = _pick(rng, LOST_FROM)
    elif final == "cancelled":
        stop = _pick(rng, CANCELLED_FROM)
    else:
        stop = final
    stages = [s.value for s in PIPELINE[1 : STAGE_INDEX[stop] + 1]]
    sent_back = "approval" in stages and rng.random() < 0.05
    if sent_back:
        at = stages.index("approval")
        stages[at + 1 : at + 1] = ["quoted", "approval"]
    if final in ("lost", "cancelled"):
        stages.append(final)
    # Time spent before each move, then in the current stage.
    dwell, previous = [], "lead"
    for stage in stages:
        low, high = DWELL[previous]
        dwell.append(timedelta(days=rng.uniform(low, high)))
        previous = stage
    if final in ("closed", "lost", "cancelled"):
        tail = timedelta(0)
    elif final == "collecting":
        tail = timedelta(days=rng.uniform(0, 60))
    elif rng.random() < 0.15:  # stalled: far longer than the stage's threshold
        tail = timedelta(days=rng.uniform(10, 90))
    else:
        tail = timedelta(days=rng.expovariate(1 / 3))
    span = sum(dwell, timedelta(0)) + tail
    if final in ("closed", "lost", "cancelled"):
        room = max((now - span - start).total_seconds(), 0)
        created = start + timedelta(seconds=rng.random() * room)
    else:
        created = now - span
    path, moment = [], created
    for stage, spent in zip(stages, dwell, strict=True):
        moment += spent
        path.append((stage, moment))
    return _BulkPlan(created, final, path, reject=final == "lost" and stop == "approval",
                     sent_back=sent_back)  # fmt: skip


class _BulkWriter:
    """Turns plans into rows: deals, receivables, stage changes, 稟議 and lost reasons."""

    def __init__(self, rng: random.Random, staff: _Staff, parties: _Parties, per_deal: int):
        self.rng = rng
        self.staff = staff
        self.parties = parties
        self.per_deal = max(per_deal, 1)
        self.today = timezone.localdate()
        policy = active_policy()
        self.policy_version = policy.version
        self.policy = policy.as_policy()
        self.rules = list(AuthorityRule.objects.all())
        self.reasons = dict(LostReason.objects.values_list("code", "pk"))
        self.tables = {
            model: _Table(model)
            for model in (Deal, Receivable, StageChange, ApprovalRequest,
                          Deal.lost_reasons.through, ExposureEntry)
        }  # fmt: skip
        # Balance changes per party from the ledger rows written (applied in finish()).
        self.exposure: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.ids = {model: table.next_id() for model, table in self.tables.items()}
        self.sequences = dict(DealSequence.objects.values_list("year", "last"))
        self.invoice_counter: Counter[int] = Counter()
        self.executed_before: Counter[int] = Counter()

    def _id(self, model) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    @lru_cache(maxsize=4096)  # noqa: B019 - one writer per seeding run
    def _rate(self, scheme: str, registered: bool, grade: str, size: str, prior: int) -> Decimal:
        return advance_rate(scheme=scheme, registered=registered, debtor_rating=grade,
                            client_size=size, prior_deals=prior, policy=self.policy)  # fmt: skip

    def _number(self, created: datetime) -> str:
        year = timezone.localtime(created).year
        self.sequences[year] = self.sequences.get(year, 0) + 1
        return f"{year}-{self.sequences[year]:04d}"

    def write(self, plans: list[_BulkPlan]) -> None:
        rows: dict[Any, list[dict[str, Any]]] = {model: [] for model in self.tables}
        for plan in plans:
            self._deal(plan, rows)
        for model, table in self.tables.items():
            table.insert(rows[model])

    def _deal(self, plan: _BulkPlan, rows: dict[Any, list[dict[str, Any]]]) -> None:
        rng, parties, staff = self.rng, self.parties, self.staff
        deal_id = self._id(Deal)
        number = self._number(plan.created)
        reached = {stage for stage, _ in plan.path} | {"lead"}
        when = {}
        for stage, moment in plan.path:
            when.setdefault(stage, moment)
        owner = rng.choices(staff.sales, weights=staff.sales_weights)[0]
        client = rng.choices(parties.clients, cum_weights=parties.client_cum)[0]
        count = min(rng.choice([1, 1, 1, 1, 2, 2, 3]), self.per_deal)
        debtors: list[int] = []
        while len(debtors) < count:
            debtor = rng.choices(parties.debtors, cum_weights=parties.debtor_cum)[0]
            if debtor != client and debtor not in debtors:
                debtors.append(debtor)
            elif len(parties.debtors) <= len(debtors) + 1:
                break
        if not debtors:
            debtors = [next(d for d in parties.debtors if d != client)]
        scheme = "three_party" if rng.random() < 0.3 else "two_party"
        registered = scheme == "two_party" and rng.random() < 0.6
        channel = _pick(rng, CHANNELS)
        created_day = timezone.localtime(plan.created).date()
        documented = "screening" in reached
        # Receivables
        receivable_rows, faces_by_debtor = [], Counter()
        median = rng.choice([300_000, 600_000, 1_000_000, 1_500_000])
        for i in range(self.per_deal):
            debtor = debtors[i % len(debtors)]
            face = _face(rng, median)
            faces_by_debtor[debtor] += face
            self.invoice_counter[debtor] += 1
            issue = created_day - timedelta(days=rng.randint(3, 25))
            invoice = f"{issue:%y%m}-{self.invoice_counter[debtor]:06d}"
            evidence = documented or rng.random() < 0.4
            receivable_rows.append({
                "id": self._id(Receivable), "deal_id": deal_id, "debtor_id": debtor,
                "invoice_number": invoice, "invoice_key": invoice_key(invoice), "issue_date": issue,
                "due_date": issue + timedelta(days=rng.choice([30, 45, 60, 60, 90, 120])),
                "face_amount": face, "evidence_received": evidence,
                "verification_method": rng.choice(VERIFICATIONS) if evidence else "",
                "created_at": when.get("documents", plan.created),
            })  # fmt: skip
        rows[Receivable].extend(receivable_rows)
        face_value = sum(faces_by_debtor.values())
        worst = max((parties.grades.get(d, "B") for d in debtors), default="B")
        size = parties.sizes.get(client, "medium")
        deal: dict[str, Any] = {
            "id": deal_id, "number": number, "owner_id": owner.pk, "created_by_id": owner.pk,
            "name": f"{_short(parties.names[debtors[0]])}向け {created_day.month}月分請求書の買取",
            "department": "営業部", "channel": channel, "client_id": client, "scheme": scheme,
            "notice_required": scheme == "three_party", "registration_required": registered,
            "client_size": size, "face_value": face_value,  # unpriced: no reserve
            "stage": plan.final, "stage_entered_at": plan.entered, "created_at": plan.created,
            **milestones_of(plan.path),
            "updated_at": plan.entered,
        }  # fmt: skip
        if channel == "referral":
            deal["referrer_company"], deal["referrer_person"] = rng.choice(REFERRERS)
        elif channel == "advert":
            deal["campaign"] = rng.choice(CAMPAIGNS)
        # Pricing (left underwriting, or half of those still in it)
        priced = "quoted" in reached or (
            "underwriting" in reached and plan.final in ("underwriting", "lost", "cancelled")
            and rng.random() < 0.5
        )  # fmt: skip
        if priced:
            policy_rate = self._rate(scheme, registered, worst, size,
                                     min(self.executed_before[client], 20))  # fmt: skip
            rate = policy_rate
            if rng.random() < 0.03:
                rate = max(policy_rate - Decimal("0.0200"), Decimal("0.5000"))
                deal["advance_override_reason"] = "売掛先の支払サイトが長いため掛け目を抑える。"
            fee_rate = (Decimal("0.0200") if scheme == "three_party" else Decimal("0.0500")) + (
                Decimal(rng.randint(0, 7)) / 100
            )
            costs = {
                "survey_fee": rng.choice([0, 0, 10_000, 30_000]),
                "registration_fee": 7_500 if registered else 0,
                "scrivener_fee": rng.choice([30_000, 50_000]) if registered else 0,
                "transfer_fee": rng.choice([440, 660, 770]),
            }
            funding = funding_breakdown(face_value, rate, fee_rate, sum(costs.values()))
            deal.update(costs)
            deal.update(
                fee_rate=fee_rate, advance_rate=rate, policy_rate=policy_rate,
                policy_version=self.policy_version, advance_amount=funding.advance_amount,
                fee=funding.fee, upfront_payment=funding.upfront_payment, reserve=funding.reserve,
            )  # fmt: skip
            grades = {str(p): parties.grades.get(p, "B") for p in (client, *debtors)}
            deal["credit_result"] = {
                "grades": grades,
                "check": {"amount": funding.advance_amount, "status": "green", "allowed": True,
                          "overridable": False, "headroom": 0, "required_level": 1,
                          "reasons": [], "lines": []},
            }  # fmt: skip
            deal["credit_checked_at"] = when.get("quoted", plan.entered)
        if "underwriting" in reached:
            deal["clearance_snapshot"] = {
                str(p): {"name": parties.names[p], "cleared": True, "reasons": []}
                for p in (client, *debtors)
            }
            deal["clearance_checked_at"] = when["underwriting"]
        due = max(r["due_date"] for r in receivable_rows)
        if "approval" in reached or (plan.final == "quoted" and rng.random() < 0.6):
            quoted_on = timezone.localtime(when.get("quoted", plan.entered)).date()
            deal.update(
                term_sheet_date=quoted_on, expected_payment_date=quoted_on + timedelta(days=7),
                expected_collection_date=due, memo_background="継続的な資金繰り改善のための買取。",
                memo_judgement="売掛先の信用力と入金実績を確認済み。", memo_next="契約と登記の手配。",
            )  # fmt: skip
        if "contracted" in reached:
            contracted = when["contracted"]
            contract_day = timezone.localtime(contracted).date()
            deal.update(contract_date=contract_day, e_contract_id=f"CS-{number}")
            if registered:
                deal.update(
                    registration_applied_on=contract_day,
                    registration_completed_at=contracted + timedelta(hours=20),
                    registration_number=f"第{contract_day.year}-{deal_id:06d}号",
                    registration_expires_on=contract_day + timedelta(days=730),
                )
            if scheme == "three_party":
                deal.update(
                    notice_date=contract_day, notice_method="certified_mail",
                    notice_reference=f"内容証明 {deal_id:06d}", consent_signatory="経理部長",
                    defences_waived=True, anti_assignment_noted=True,
                )  # fmt: skip
            deal["remittance_account_id"] = parties.accounts.get(client)
        if "executed" in reached:
            executed_day = timezone.localtime(when["executed"]).date()
            deal.update(executed_on=executed_day, executed_amount=deal.get("upfront_payment", 0),
                        expected_payment_date=executed_day)  # fmt: skip
            self.executed_before[client] += 1
        if plan.final in LEDGER_STAGES:
            self._ledger(plan, deal, faces_by_debtor, when, rows[ExposureEntry])
        if plan.final in (*OPEN_STAGES, "executed", "collecting"):
            deal.update(
                next_action=NEXT_ACTIONS[plan.final], next_action_owner_id=owner.pk,
                next_action_due=self.today + timedelta(days=rng.randint(-10, 14)),
            )  # fmt: skip
        # History
        actors = {"owner": owner.pk, "underwriter": staff.underwriter.pk,
                  "approver": staff.approver.pk, "operations": staff.operations.pk}  # fmt: skip
        previous, since = "lead", plan.created
        lost_codes: list[str] = []
        approvals: list[dict[str, Any]] = []
        for position, (stage, moment) in enumerate(plan.path):
            comment = ""
            actor = actors[MOVER[stage]]
            if stage == "lost":
                if plan.reject:
                    lost_codes, actor = ["risk_ng"], staff.approver.pk
                else:
                    lost_codes = rng.sample([c for c, _ in LOST_CODES], rng.choice([1, 1, 2, 3]))
                comment = LOST_NOTES[lost_codes[0]]
                deal["lost_note"] = comment
            elif stage == "cancelled":
                comment = rng.choice(CANCEL_NOTES)
            elif previous == "approval" and stage == "quoted":
                actor = staff.approver.pk
                comment = "売掛先の入金実績を3か月分追加で確認してください。"
                deal["send_back_reasons"] = (
                    f"[{timezone.localtime(moment):%Y-%m-%d %H:%M}] {comment}"
                )
            seconds = int((moment - since).total_seconds())
            rows[StageChange].append({
                "id": self._id(StageChange), "deal_id": deal_id, "from_stage": previous,
                "to_stage": stage, "actor_id": actor, "at": moment, "comment": comment,
                "seconds_in_stage": seconds,
                "business_days": business_days_in_stage(moment, seconds),
            })  # fmt: skip
            if stage == "approval":
                nxt = plan.path[position + 1][0] if position + 1 < len(plan.path) else None
                approvals.append(self._approval(deal, plan, moment, nxt, owner, position))
            previous, since = stage, moment
        rows[ApprovalRequest].extend(approvals)
        for code in lost_codes:
            rows[Deal.lost_reasons.through].append(
                {
                    "id": self._id(Deal.lost_reasons.through),
                    "deal_id": deal_id,
                    "lostreason_id": self.reasons[code],
                }
            )
        rows[Deal].append(deal)

    def _approval(self, deal, plan, requested_at, nxt, owner, position) -> dict[str, Any]:
        amount = deal.get("advance_amount", 0)
        grades = deal.get("credit_result", {}).get("grades", {})
        risk = risk_tier(grades.values(), "green")
        row = {
            "id": self._id(ApprovalRequest), "deal_id": deal["id"], "amount": amount,
            "risk": risk, "limit_status": "green",
            "required_level": required_level(amount, risk, "green", self.rules),
            "requested_by_id": owner.pk, "requested_at": requested_at,
            "summary": {
                "deal": deal["number"], "name": deal["name"],
                "client": {"id": deal["client_id"], "name": self.parties.names[deal["client_id"]],
                           "grade": grades.get(str(deal["client_id"]), "")},
                "scheme": deal["scheme"], "registration_required": deal["registration_required"],
                "funding": {"face_value": deal["face_value"], "advance_rate": str(deal.get("advance_rate")),
                            "fee_rate": str(deal.get("fee_rate")), "advance_amount": amount,
                            "fee": deal.get("fee", 0), "upfront_payment": deal.get("upfront_payment", 0),
                            "reserve": deal.get("reserve", 0)},
                "risks": [],
            },
        }  # fmt: skip
        if nxt is None:
            return row  # still pending
        decided_at = plan.path[position + 1][1]
        approver = self.staff.approver.pk
        if nxt == "contracted":
            conditional = self.rng.random() < 0.1
            row.update(status=ApprovalStatus.CONDITIONAL if conditional else ApprovalStatus.APPROVED,
                       decision=Decision.APPROVE_WITH_CONDITIONS if conditional else Decision.APPROVE,
                       conditions="初回入金の確認後に次回買取を行うこと。" if conditional else "",
                       comment="" if conditional else "承認")  # fmt: skip
        elif nxt == "quoted":
            row.update(status=ApprovalStatus.SENT_BACK, decision=Decision.SEND_BACK,
                       send_back_to="quoted", comment="売掛先の入金実績を3か月分追加で確認してください。")  # fmt: skip
        elif nxt == "lost" and plan.reject:
            row.update(status=ApprovalStatus.REJECTED, decision=Decision.REJECT,
                       comment="売掛先の支払能力に懸念があるため否決。")  # fmt: skip
        else:  # lost or cancelled while waiting
            row.update(status=ApprovalStatus.WITHDRAWN, decided_at=decided_at)
            return row
        row.update(decided_by_id=approver, decided_at=decided_at)
        return row

    def _ledger(self, plan, deal, faces_by_debtor, when, entries: list[dict[str, Any]]) -> None:
        """The open exposure of a deal past approval: reserved at the decision, consumed at
        execution, split by debtor as ``deals.services.exposure_split`` splits it."""
        client, number = deal["client_id"], deal["number"]
        parts = split_by_debtor(faces_by_debtor, deal["advance_rate"], deal["advance_amount"])
        for debtor, part in sorted(parts.items()):
            if not part:
                continue
            entries.append({
                "id": self._id(ExposureEntry), "counterparty_id": client, "debtor_id": debtor,
                "reference": number, "kind": EntryKind.RESERVE.value, "amount": part,
                "reserved_change": part, "consumed_change": 0, "note": f"稟議承認 {number}",
                "created_by_id": self.staff.approver.pk, "created_at": when["contracted"],
            })  # fmt: skip
            self.exposure[client]["client_reserved"] += part
            self.exposure[debtor]["debtor_reserved"] += part
            if plan.final == "contracted":
                continue
            entries.append({
                "id": self._id(ExposureEntry), "counterparty_id": client, "debtor_id": debtor,
                "reference": number, "kind": EntryKind.CONSUME.value, "amount": part,
                "reserved_change": -part, "consumed_change": part, "note": f"実行 {number}",
                "created_by_id": self.staff.operations.pk, "created_at": when["executed"],
            })  # fmt: skip
            for side in ("client", "debtor"):
                party = client if side == "client" else debtor
                self.exposure[party][f"{side}_reserved"] -= part
                self.exposure[party][f"{side}_consumed"] += part

    def _apply_exposure(self) -> None:
        """Move the Exposure balances by what the ledger rows added (group parents too)."""
        parents = dict(Customer.objects.exclude(parent=None).values_list("pk", "parent_id"))
        changes = defaultdict(Counter, {pk: Counter(c) for pk, c in self.exposure.items()})
        for party, change in self.exposure.items():
            parent, depth = parents.get(party), 0
            while parent is not None and depth < 20:
                changes[parent]["group_reserved"] += change["client_reserved"]
                changes[parent]["group_consumed"] += change["client_consumed"]
                parent, depth = parents.get(parent), depth + 1
        rows = Exposure.objects.in_bulk(list(changes))
        new = []
        for party, change in changes.items():
            row = rows.get(party)
            if row is None:
                row = Exposure(counterparty_id=party)
                new.append(row)
            for name, delta in change.items():
                setattr(row, name, getattr(row, name) + delta)
        fields = ["client_reserved", "client_consumed", "debtor_reserved", "debtor_consumed",
                  "group_reserved", "group_consumed"]  # fmt: skip
        Exposure.objects.bulk_update(list(rows.values()), fields, batch_size=BATCH_SIZE)
        Exposure.objects.bulk_create(new, batch_size=BATCH_SIZE)

    def finish(self) -> None:
        """Bring the balances, the number sequences and the id sequences in line."""
        self._apply_exposure()
        for year, last in self.sequences.items():
            DealSequence.objects.update_or_create(year=year, defaults={"last": last})
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), list(self.tables)):
                    cursor.execute(sql)
                for model in self.tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def seed_bulk(options: DemoOptions, log) -> None:
    """Write ``options.deals`` deals in bulk (appending to any already there).

    Exposure is not posted through the ledger services for these deals: a reservation and a
    consumption per deal (row locks, limit checks, an audited entry each) would take far
    longer than the rest of the seeding together, and limits are not checked. Only the open
    exposure is written, directly as ledger rows with the balances moved to match: reserved
    for contracted deals, consumed for executed and collecting ones — so those deals can
    still be executed, lost or cancelled (release finds its reservation). Closed, lost and
    cancelled deals leave no ledger rows (their history nets to zero), and the bulk limits
    are not resized, so utilisation of the demo's limited parties runs red at this scale.
    Nor are the bulk rows audited one by one; the run itself is in the log.
    """
    started = time.perf_counter()
    rng = random.Random(options.seed)
    staff = _Staff.ensure(rng)
    _top_up_customers(max(options.customers, math.ceil(options.deals / DEALS_PER_CUSTOMER)),
                      rng, log)  # fmt: skip
    parties = _Parties.load(rng)
    if not parties.clients or len(parties.debtors) < 2:
        log("案件: 利用会社または売掛先が足りないため作成しません")
        return
    now = timezone.now()
    start = timezone.make_aware(datetime.combine(FIRST_DAY, datetime.min.time()))
    plans = sorted((_bulk_plan(rng, now, start) for _ in range(options.deals)),
                   key=lambda plan: plan.created)  # fmt: skip
    writer = _BulkWriter(rng, staff, parties, options.receivables_per_deal)
    log(f"案件: {options.deals:,} 件を一括作成します (債権 {options.receivables_per_deal} 件/案件)")
    for first in range(0, len(plans), BULK_CHUNK):
        writer.write(plans[first : first + BULK_CHUNK])
        done = min(first + BULK_CHUNK, len(plans))
        if done % 20_000 == 0 or done == len(plans):
            log(f"  … {done:,} / {len(plans):,} 件 ({time.perf_counter() - started:.0f} 秒)")
    writer.finish()
    by_stage = Counter(plan.final for plan in plans)
    counts = {model._meta.model_name: table.rows for model, table in writer.tables.items()}
    log(
        f"案件: {len(plans):,} 件 ({', '.join(f'{s} {by_stage[s]:,}' for s in Stage.values if by_stage[s])}); "
        f"債権 {counts['receivable']:,} 件, 段階履歴 {counts['stagechange']:,} 件, "
        f"稟議 {counts['approvalrequest']:,} 件, 与信台帳 {counts['exposureentry']:,} 件 "
        f"({time.perf_counter() - started:.1f} 秒)"
    )
