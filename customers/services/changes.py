"""Maker-checker (ダブルチェック) for bank accounts, representatives and beneficial owners.

A change is stored as a ChangeRequest and touches nothing until a second user, who holds
the approval permission and is not the maker, approves it. The database also refuses a
checker equal to the maker.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.exceptions import InvalidStateError, PermissionDeniedError

from ..banks import bank_name, branch_name
from ..choices import DOUBLE_CHECKED_ROLES, ChangeKind, ChangeStatus
from ..exceptions import MakerCheckerError
from ..models import BankAccount, ChangeRequest, Customer, KeyPerson

ACCOUNT_FIELDS = (
    "bank_code",
    "branch_code",
    "account_type",
    "number",
    "holder_kana",
    "verification",
    "is_active",
)
PERSON_FIELDS = (
    "role",
    "name",
    "name_kana",
    "title",
    "date_of_birth",
    "ownership_pct",
    "is_active",
)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[key] = value
    return out


def _account_from(
    customer: Customer, payload: dict[str, Any], base: BankAccount | None
) -> BankAccount:
    account = base or BankAccount(customer=customer)
    for field in ACCOUNT_FIELDS:
        if field in payload:
            setattr(account, field, payload[field])
    account.bank_name = bank_name(account.bank_code)
    account.branch_name = branch_name(account.bank_code, account.branch_code)
    account.full_clean()
    return account


def _person_from(customer: Customer, payload: dict[str, Any], base: KeyPerson | None) -> KeyPerson:
    person = base or KeyPerson(customer=customer)
    for field in PERSON_FIELDS:
        if field in payload:
            setattr(person, field, payload[field])
    if isinstance(person.date_of_birth, str):
        person.date_of_birth = (
            date.fromisoformat(person.date_of_birth) if person.date_of_birth else None
        )
    if isinstance(person.ownership_pct, str | int | float) and person.ownership_pct != "":
        person.ownership_pct = Decimal(str(person.ownership_pct))
    if person.role not in DOUBLE_CHECKED_ROLES:
        raise ValidationError(
            {"role": _("Only representatives and beneficial owners need approval.")}
        )
    person.full_clean()
    return person


def _create_request(
    *, customer: Customer, actor: Any, kind: str, payload: dict[str, Any], target_id: int | None
) -> ChangeRequest:
    request = ChangeRequest.objects.create(
        customer=customer, kind=kind, payload=_jsonable(payload), target_id=target_id, maker=actor
    )
    audit_log(
        actor=actor,
        action="customer.change_requested",
        subject=customer,
        data={
            "request_id": request.pk,
            "kind": kind,
            "target_id": target_id,
            "values": request.payload,
        },
    )
    return request


@transaction.atomic
def bank_account_request(
    *, customer: Customer, actor: Any, account: BankAccount | None = None, **values: Any
) -> ChangeRequest:
    """Ask for a new account, or a change to ``account``; validated now, applied on approval."""
    _account_from(customer, values, BankAccount.objects.get(pk=account.pk) if account else None)
    kind = ChangeKind.CHANGE_ACCOUNT if account else ChangeKind.ADD_ACCOUNT
    return _create_request(
        customer=customer,
        actor=actor,
        kind=kind,
        payload=values,
        target_id=account.pk if account else None,
    )


@transaction.atomic
def person_request(
    *, customer: Customer, actor: Any, person: KeyPerson | None = None, **values: Any
) -> ChangeRequest:
    """Ask for a new representative or beneficial owner, or a change to ``person``."""
    _person_from(customer, values, KeyPerson.objects.get(pk=person.pk) if person else None)
    kind = ChangeKind.CHANGE_PERSON if person else ChangeKind.ADD_PERSON
    return _create_request(
        customer=customer,
        actor=actor,
        kind=kind,
        payload=values,
        target_id=person.pk if person else None,
    )


def _lock_pending(request: ChangeRequest, actor: Any) -> ChangeRequest:
    request = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ChangeStatus.PENDING:
        raise InvalidStateError(_("This change has already been decided."))
    if request.maker_id == actor.pk:
        raise MakerCheckerError()
    if not actor.has_perm("customers.approve_change"):
        raise PermissionDeniedError(_("You are not allowed to approve changes."))
    return request


@transaction.atomic
def change_request_approve(*, request: ChangeRequest, actor: Any) -> ChangeRequest:
    """Apply a pending change as its second person (the checker)."""
    request = _lock_pending(request, actor)
    customer = request.customer
    if request.kind in (ChangeKind.ADD_ACCOUNT, ChangeKind.CHANGE_ACCOUNT):
        base = BankAccount.objects.get(pk=request.target_id) if request.target_id else None
        target = _account_from(customer, request.payload, base)
    else:
        base = KeyPerson.objects.get(pk=request.target_id) if request.target_id else None
        target = _person_from(customer, request.payload, base)
    target.save()
    request.target_id = target.pk
    request.status = ChangeStatus.APPROVED
    request.checker = actor
    request.decided_at = timezone.now()
    request.save()
    audit_log(
        actor=actor,
        action="customer.change_approved",
        subject=customer,
        data={
            "request_id": request.pk,
            "kind": request.kind,
            "target_id": target.pk,
            "maker": request.maker_id,
        },
    )
    return request


@transaction.atomic
def change_request_reject(*, request: ChangeRequest, actor: Any, reason: str) -> ChangeRequest:
    """Refuse a pending change, with the reason the maker will read."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for the rejection.")})
    request = _lock_pending(request, actor)
    request.status = ChangeStatus.REJECTED
    request.checker = actor
    request.decided_at = timezone.now()
    request.reason = reason
    request.save()
    audit_log(
        actor=actor,
        action="customer.change_rejected",
        subject=request.customer,
        data={"request_id": request.pk, "reason": reason},
    )
    return request
