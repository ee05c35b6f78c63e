"""The nightly credit check: reviews due raise one alert, passed reviews suspend, lapsed
limits expire; running twice raises nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.jobs import run_check
from core.models import Alert
from credit.choices import LimitStatus
from credit.nightly import check_credit_reviews
from tests.factories import CreditLimitFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 21)


class TestCreditReviewCheck:
    def test_alerts_once_for_a_review_due_within_30_days(self):
        due = CreditLimitFactory(review_date=TODAY + timedelta(days=10))
        CreditLimitFactory(review_date=TODAY + timedelta(days=60))
        first = check_credit_reviews(today=TODAY)
        second = check_credit_reviews(today=TODAY)
        assert (first.raised, second.raised) == (1, 0)
        alert = Alert.objects.get(kind="credit_review_due")
        assert alert.subject_id == str(due.counterparty_id) and alert.severity == "warning"

    def test_a_passed_review_date_suspends_the_limit_and_alerts(self):
        limit = CreditLimitFactory(review_date=TODAY - timedelta(days=1))
        check_credit_reviews(today=TODAY)
        limit.refresh_from_db()
        assert limit.status == LimitStatus.SUSPENDED
        assert Alert.objects.filter(kind="credit_limit_suspended").count() == 1
        assert Alert.objects.get(kind="credit_review_due").severity == "high"

    def test_a_limit_past_its_validity_expires(self):
        limit = CreditLimitFactory(
            valid_from=TODAY - timedelta(days=400), valid_until=TODAY - timedelta(days=1),
            review_date=TODAY - timedelta(days=30),
        )  # fmt: skip
        check_credit_reviews(today=TODAY)
        limit.refresh_from_db()
        assert limit.status == LimitStatus.EXPIRED

    def test_is_registered_with_the_nightly_runner(self):
        CreditLimitFactory(review_date=TODAY + timedelta(days=5))
        assert run_check("credit_review", today=TODAY).outcome.raised == 1
