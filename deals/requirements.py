"""The stage requirements table (DESIGN §5): what must hold before a deal may leave a stage.

One declarative table drives the transition guards (``deals.services.deal_transition``),
the checklist on the deal page, the stage-appropriate edit form (``fields``) and the API's
``missing_requirements``. Field requirements are cheap predicates on the deal and its
receivables; gates (``gate=True``) ask compliance or credit and are evaluated by the
service, never inside the FSM condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from customers.choices import AccountVerification

from .choices import Channel, Stage


@dataclass
class Facts:
    """What the predicates read, loaded once per evaluation (constant queries)."""

    deal: Any
    receivables: list[Any]
    cleared: dict[int, bool] = field(default_factory=dict)  # customer id → clearance
    limits_in_force: bool = True  # no limit touched is missing, suspended or lapsed
    grades: dict[int, str] = field(default_factory=dict)  # customer id → current grade
    approved: bool = False

    @property
    def debtor_ids(self) -> list[int]:
        return sorted({r.debtor_id for r in self.receivables})


@dataclass(frozen=True)
class Requirement:
    code: str
    stage: str  # the stage this requirement must hold to leave
    label: Any
    check: Callable[[Facts], bool]
    fields: tuple[str, ...] = ()  # deal fields a user fills in to meet it
    gate: bool = False  # evaluated against other apps (compliance, credit) by the service
    applies: Callable[[Any], bool] = lambda deal: True


def _filled(*names: str) -> Callable[[Facts], bool]:
    return lambda f: all(getattr(f.deal, name) not in (None, "") for name in names)


def _channel_details(f: Facts) -> bool:
    deal = f.deal
    if deal.channel == Channel.REFERRAL:
        return bool(deal.referrer_company and deal.referrer_person)
    if deal.channel == Channel.ADVERT:
        return bool(deal.campaign)
    return bool(deal.channel)


def _account_ok(f: Facts) -> bool:
    account = f.deal.remittance_account
    return bool(
        account
        and account.customer_id == f.deal.client_id
        and account.is_active
        and account.verification in (AccountVerification.TEST_DEPOSIT, AccountVerification.DOCUMENT)
    )


def _needs_consent(deal: Any) -> bool:
    return deal.scheme == "three_party" or deal.notice_required


REQUIREMENTS: tuple[Requirement, ...] = (
    # 新規 → 書類受領
    Requirement("client", Stage.LEAD, _("Client is a customer marked as client"),
                lambda f: bool(f.deal.client_id and f.deal.client.is_client), ("client",)),
    Requirement("channel", Stage.LEAD, _("Source channel with referrer or campaign"),
                _channel_details, ("channel", "referrer_company", "referrer_person", "campaign")),
    Requirement("next_action", Stage.LEAD, _("Next action with owner and due date"),
                _filled("next_action", "next_action_owner_id", "next_action_due"),
                ("next_action", "next_action_owner", "next_action_due")),
    # 書類受領 → KYC・反社
    Requirement("receivables", Stage.DOCUMENTS, _("At least one receivable"),
                lambda f: bool(f.receivables)),
    Requirement("evidence", Stage.DOCUMENTS, _("Evidence received for every receivable"),
                lambda f: bool(f.receivables) and all(r.evidence_received for r in f.receivables)),
    Requirement("existence", Stage.DOCUMENTS,
                _("How each receivable's existence was verified (取引実在性)"),
                lambda f: bool(f.receivables) and all(r.verification_method for r in f.receivables)),
    # KYC・反社 → 与信審査
    Requirement("client_cleared", Stage.SCREENING, _("Client cleared by compliance (KYC・反社)"),
                lambda f: f.cleared.get(f.deal.client_id, False), gate=True),
    Requirement("debtors_cleared", Stage.SCREENING, _("Every debtor cleared by compliance"),
                lambda f: bool(f.debtor_ids) and all(f.cleared.get(d, False) for d in f.debtor_ids),
                gate=True),
    # 与信審査 → 見積提示
    Requirement("ratings", Stage.UNDERWRITING, _("Rating of the client and every debtor"),
                lambda f: all(f.grades.get(p) for p in (f.deal.client_id, *f.debtor_ids)),
                gate=True),
    Requirement("pricing", Stage.UNDERWRITING, _("Fee rate and advance rate (policy version)"),
                _filled("fee_rate", "advance_rate", "policy_version"),
                ("fee_rate", "client_size", "survey_fee", "registration_fee", "scrivener_fee",
                 "transfer_fee")),
    Requirement("override_reason", Stage.UNDERWRITING,
                _("Reason for an advance rate that differs from the policy"),
                lambda f: f.deal.advance_rate == f.deal.policy_rate
                or bool(f.deal.advance_override_reason),
                ("advance_override_reason",)),
    Requirement("limit_checked", Stage.UNDERWRITING, _("Credit limit check on the current amount"),
                lambda f: bool(f.deal.credit_result)
                and f.deal.credit_result.get("check", {}).get("amount") == f.deal.advance_amount),
    # 見積提示 → 稟議
    Requirement("term_sheet", Stage.QUOTED, _("Term sheet date"), _filled("term_sheet_date"),
                ("term_sheet_date",)),
    Requirement("expected_dates", Stage.QUOTED, _("Expected payment and collection dates"),
                _filled("expected_payment_date", "expected_collection_date"),
                ("expected_payment_date", "expected_collection_date")),
    Requirement("memo", Stage.QUOTED, _("Memo: background, judgement, next steps"),
                _filled("memo_background", "memo_judgement", "memo_next"),
                ("memo_background", "memo_judgement", "memo_next")),
    # 稟議 → 契約
    Requirement("approved", Stage.APPROVAL, _("Approval decision (稟議)"),
                lambda f: f.approved),
    # 契約・登記・通知 → 実行
    Requirement("contract", Stage.CONTRACTED, _("Contract date and e-contract id"),
                _filled("contract_date", "e_contract_id"), ("contract_date", "e_contract_id")),
    Requirement("registration", Stage.CONTRACTED, _("Registration (債権譲渡登記) completed"),
                _filled("registration_applied_on", "registration_completed_at",
                        "registration_number"),
                ("registration_applied_on", "registration_completed_at", "registration_number",
                 "registration_expires_on"),
                applies=lambda deal: deal.registration_required),
    Requirement("consent", Stage.CONTRACTED, _("Debtor notice / consent with certified date"),
                _filled("notice_date", "notice_method", "notice_reference", "consent_signatory"),
                ("notice_date", "notice_method", "notice_reference", "consent_signatory",
                 "defences_waived", "anti_assignment_noted"),
                applies=_needs_consent),
    Requirement("remittance", Stage.CONTRACTED,
                _("Remittance to a verified, active account of the client"), _account_ok,
                ("remittance_account",)),
    Requirement("execution", Stage.CONTRACTED, _("Execution date and executed amount"),
                _filled("executed_on", "executed_amount"), ("executed_on", "executed_amount")),
    Requirement("limits_in_force", Stage.CONTRACTED,
                _("Credit limits of the client and every debtor still in force (not suspended)"),
                lambda f: f.limits_in_force, gate=True),
    Requirement("clearance_recheck", Stage.CONTRACTED,
                _("Compliance clearance still holds for the client and every debtor"),
                lambda f: all(f.cleared.get(p, False) for p in (f.deal.client_id, *f.debtor_ids)),
                gate=True),
)  # fmt: skip


def requirements_for(stage: str, deal: Any | None = None) -> list[Requirement]:
    """Return the requirements for leaving ``stage`` that apply to ``deal``."""
    return [r for r in REQUIREMENTS if r.stage == stage and (deal is None or r.applies(deal))]


def fields_for(stage: str, deal: Any) -> list[str]:
    """Return the deal fields a user fills in at ``stage`` (its exit requirements)."""
    seen: list[str] = []
    for requirement in requirements_for(stage, deal):
        seen.extend(name for name in requirement.fields if name not in seen)
    return seen


@dataclass(frozen=True)
class Check:
    requirement: Requirement
    met: bool

    @property
    def code(self) -> str:
        return self.requirement.code

    @property
    def label(self) -> str:
        return str(self.requirement.label)


def evaluate(stage: str, facts: Facts) -> list[Check]:
    """Return each requirement of ``stage`` with whether it is met."""
    return [Check(r, bool(r.check(facts))) for r in requirements_for(stage, facts.deal)]
