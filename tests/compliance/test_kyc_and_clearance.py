from datetime import date, timedelta

import pytest
from django.utils import timezone

from compliance.calculations import add_months, kyc_expiry, mask_document_number
from compliance.choices import HitStatus
from compliance.models import KycPolicy
from compliance.screening import screen_customer
from compliance.selectors import clearance
from compliance.services import hit_review, kyc_record_create
from core.models import Alert, AuditEvent
from tests.factories import (
    CustomerFactory,
    KeyPersonFactory,
    KycRecordFactory,
    WatchlistEntryFactory,
)


class TestKycExpiry:
    def test_runs_to_the_day_before_the_anniversary(self):
        assert kyc_expiry(date(2026, 4, 1), 12) == date(2027, 3, 31)
        assert kyc_expiry(date(2026, 4, 1), 24) == date(2028, 3, 31)

    def test_month_ends_are_clamped(self):
        assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
        assert add_months(date(2027, 2, 28), 12) == date(2028, 2, 28)

    def test_document_numbers_keep_only_the_last_four(self):
        assert mask_document_number("AB 1234 5678") == "******5678"
        assert mask_document_number("123") == "***"


@pytest.mark.django_db
class TestKycRecord:
    @pytest.mark.parametrize(
        ("risk", "expires"),
        [("high", date(2027, 11, 19)), ("normal", date(2028, 11, 19)), ("low", date(2029, 11, 19))],
    )
    def test_expiry_follows_the_policy_for_the_risk(self, make_user, risk, expires):
        record = kyc_record_create(
            customer=CustomerFactory(), actor=make_user("compliance"), method="in_person", document_type="registry",
            verified_on=date(2026, 11, 20), result="verified", risk=risk, document_number="1234-5678-9012",
        )  # fmt: skip
        assert record.expires_on == expires
        assert (
            record.document_number_masked.endswith("9012")
            and "1234" not in record.document_number_masked
        )
        assert AuditEvent.objects.filter(action="compliance.kyc_recorded").exists()

    def test_the_policy_is_editable(self, make_user):
        KycPolicy.objects.filter(risk="high").update(validity_months=6)
        record = kyc_record_create(
            customer=CustomerFactory(), actor=make_user("compliance"), method="ekyc", document_type="registry",
            verified_on=date(2026, 1, 10), result="verified", risk="high",
        )  # fmt: skip
        assert record.expires_on == date(2026, 7, 9)

    def test_a_key_persons_kyc_must_belong_to_the_customer(self, make_user):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            kyc_record_create(
                customer=CustomerFactory(), person=KeyPersonFactory(), actor=make_user("compliance"),
                method="in_person", document_type="driver_licence", verified_on=date(2026, 1, 1),
                result="verified", risk="normal",
            )  # fmt: skip


def _cleared_customer():
    customer = CustomerFactory()
    KycRecordFactory(customer=customer)
    screen_customer(customer=customer, job="test")
    return customer


@pytest.mark.django_db
class TestClearance:
    def test_a_verified_and_screened_customer_is_cleared(self):
        result = clearance(_cleared_customer())
        assert result.cleared and result.reasons == []

    def test_lists_every_reason(self):
        result = clearance(CustomerFactory())
        assert not result.cleared
        assert set(result.codes) == {"kyc_missing", "screening_missing"}

    def test_expired_kyc_blocks(self):
        customer = _cleared_customer()
        KycRecordFactory(
            customer=customer, verified_on=date(2020, 1, 1), expires_on=date(2021, 12, 31)
        )
        customer.kyc_records.exclude(verified_on=date(2020, 1, 1)).update(
            expires_on=date(2021, 1, 1)
        )
        assert "kyc_expired" in clearance(customer).codes

    def test_old_screening_blocks(self, settings):
        customer = _cleared_customer()
        later = timezone.localdate() + timedelta(days=settings.SCREENING_INTERVAL_DAYS + 1)
        assert "screening_stale" in clearance(customer, today=later).codes

    def test_open_hit_blocks_until_reviewed_false_positive(self, make_user):
        customer = CustomerFactory(name="株式会社黒田興業")
        KycRecordFactory(customer=customer)
        WatchlistEntryFactory(name="黒田興業", entry_type="entity", name_kana="クロダコウギョウ")
        run = screen_customer(customer=customer, job="test")
        assert run.hits_opened == 1
        assert "open_hits" in clearance(customer).codes
        hit = customer.screening_hits.get()
        hit_review(
            hit=hit,
            actor=make_user("compliance"),
            decision=HitStatus.FALSE_POSITIVE,
            reason="所在地・代表者が異なる",
        )
        assert clearance(customer).cleared

    def test_a_true_match_blocks_and_alerts_compliance(self, make_user):
        customer = CustomerFactory(name="株式会社黒田興業")
        KycRecordFactory(customer=customer)
        WatchlistEntryFactory(name="黒田興業", entry_type="entity")
        screen_customer(customer=customer, job="test")
        hit = customer.screening_hits.get()
        hit_review(
            hit=hit,
            actor=make_user("compliance"),
            decision=HitStatus.TRUE_MATCH,
            reason="警察照会で該当",
        )
        result = clearance(customer)
        assert not result.cleared and "true_match" in result.codes
        alert = Alert.objects.get(kind="screening_true_match")
        assert alert.severity == "high" and alert.assigned_role.name == "compliance"


@pytest.mark.django_db
class TestHitReview:
    def test_only_compliance_reviews_hits(self, make_user):
        from core.exceptions import PermissionDeniedError

        customer = CustomerFactory(name="株式会社黒田興業")
        WatchlistEntryFactory(name="黒田興業", entry_type="entity")
        screen_customer(customer=customer, job="test")
        hit = customer.screening_hits.get()
        for role in ("sales", "underwriter", "approver", "manager", "admin"):
            with pytest.raises(PermissionDeniedError):
                hit_review(
                    hit=hit, actor=make_user(role), decision=HitStatus.FALSE_POSITIVE, reason="x"
                )
        hit.refresh_from_db()
        assert hit.status == HitStatus.OPEN

    def test_needs_a_reason(self, make_user):
        from django.core.exceptions import ValidationError

        customer = CustomerFactory(name="株式会社黒田興業")
        WatchlistEntryFactory(name="黒田興業", entry_type="entity")
        screen_customer(customer=customer, job="test")
        with pytest.raises(ValidationError):
            hit_review(
                hit=customer.screening_hits.get(),
                actor=make_user("compliance"),
                decision="false_positive",
                reason=" ",
            )
