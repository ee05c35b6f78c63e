"""Maker-checker on bank accounts, representatives and beneficial owners."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.exceptions import InvalidStateError, PermissionDeniedError
from core.models import AuditEvent
from customers.choices import ChangeStatus, PersonRole
from customers.exceptions import MakerCheckerError
from customers.models import BankAccount, KeyPerson
from customers.services import (
    bank_account_request,
    change_request_approve,
    change_request_reject,
    person_request,
)
from tests.factories import BankAccountFactory, CustomerFactory

ACCOUNT = {
    "bank_code": "0001",
    "branch_code": "001",
    "account_type": "ordinary",
    "number": "1234567",
    "holder_kana": "カ)テスト",
    "verification": "test_deposit",
}


@pytest.fixture
def maker(make_user):
    return make_user("sales")


@pytest.fixture
def checker(make_user):
    return make_user("operations")


@pytest.mark.django_db
class TestBankAccountChange:
    def test_takes_effect_only_after_a_second_person_approves(self, maker, checker):
        customer = CustomerFactory()
        request = bank_account_request(customer=customer, actor=maker, **ACCOUNT)
        assert not BankAccount.objects.filter(customer=customer).exists()
        change_request_approve(request=request, actor=checker)
        account = BankAccount.objects.get(customer=customer)
        assert account.bank_name == "みずほ" and account.number == "1234567"
        assert AuditEvent.objects.filter(action="customer.change_approved").exists()

    def test_the_maker_cannot_approve_their_own_change(self, make_user):
        both = make_user("underwriter")  # may request and approve, but never their own
        request = bank_account_request(customer=CustomerFactory(), actor=both, **ACCOUNT)
        with pytest.raises(MakerCheckerError):
            change_request_approve(request=request, actor=both)
        request.refresh_from_db()
        assert request.status == ChangeStatus.PENDING
        assert not BankAccount.objects.exists()

    def test_the_database_refuses_a_checker_equal_to_the_maker(self, maker):
        request = bank_account_request(customer=CustomerFactory(), actor=maker, **ACCOUNT)
        request.checker = maker
        with pytest.raises(IntegrityError), transaction.atomic():
            request.save()

    def test_a_user_without_approval_permission_cannot_approve(self, maker, make_user):
        request = bank_account_request(customer=CustomerFactory(), actor=maker, **ACCOUNT)
        with pytest.raises(PermissionDeniedError):
            change_request_approve(request=request, actor=make_user("sales"))

    def test_an_unknown_branch_is_refused_when_requested(self, maker):
        with pytest.raises(ValidationError) as error:
            bank_account_request(
                customer=CustomerFactory(), actor=maker, **{**ACCOUNT, "branch_code": "999"}
            )
        assert "branch_code" in error.value.message_dict

    def test_a_change_to_an_existing_account_waits_too(self, maker, checker):
        account = BankAccountFactory(number="7654321")
        request = bank_account_request(
            customer=account.customer, actor=maker, account=account, number="1111111"
        )
        account.refresh_from_db()
        assert account.number == "7654321"
        change_request_approve(request=request, actor=checker)
        account.refresh_from_db()
        assert account.number == "1111111"

    def test_rejection_needs_a_reason_and_is_final(self, maker, checker):
        request = bank_account_request(customer=CustomerFactory(), actor=maker, **ACCOUNT)
        with pytest.raises(ValidationError):
            change_request_reject(request=request, actor=checker, reason=" ")
        change_request_reject(request=request, actor=checker, reason="通帳の名義と不一致")
        with pytest.raises(InvalidStateError):
            change_request_approve(request=request, actor=checker)
        assert not BankAccount.objects.exists()


@pytest.mark.django_db
class TestKeyPersonChange:
    def test_a_beneficial_owner_waits_for_approval(self, maker, checker):
        customer = CustomerFactory()
        request = person_request(
            customer=customer, actor=maker, role=PersonRole.BENEFICIAL_OWNER, name="鈴木一郎",
            date_of_birth="1970-04-01", ownership_pct="60.00",
        )  # fmt: skip
        assert not KeyPerson.objects.filter(customer=customer).exists()
        change_request_approve(request=request, actor=checker)
        owner = KeyPerson.objects.get(customer=customer)
        assert str(owner.ownership_pct) == "60.00" and owner.date_of_birth.year == 1970
