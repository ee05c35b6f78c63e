from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from compliance.choices import ConnectionStatus
from compliance.nightly import check_connection_expiry, check_kyc_expiry, check_rescreening
from compliance.services import connection_transition
from core.exceptions import InvalidStateError
from core.models import Alert
from tests.factories import (
    ConnectionApprovalFactory,
    CustomerFactory,
    KycRecordFactory,
    WatchlistEntryFactory,
)

TODAY = date(2026, 11, 21)


@pytest.mark.django_db
class TestNightlyChecks:
    def test_kyc_expiring_and_expired_raise_one_alert_each_however_often_run(self):
        KycRecordFactory(
            verified_on=TODAY - timedelta(days=700), expires_on=TODAY + timedelta(days=10)
        )
        KycRecordFactory(
            verified_on=TODAY - timedelta(days=800), expires_on=TODAY - timedelta(days=1)
        )
        KycRecordFactory(verified_on=TODAY, expires_on=TODAY + timedelta(days=700))
        first = check_kyc_expiry(today=TODAY)
        second = check_kyc_expiry(today=TODAY)
        assert (first.raised, second.raised) == (2, 0)
        assert set(Alert.objects.values_list("kind", flat=True)) == {"kyc_expiring", "kyc_expired"}

    def test_a_superseded_kyc_does_not_alert(self):
        customer = CustomerFactory()
        KycRecordFactory(
            customer=customer,
            verified_on=TODAY - timedelta(days=800),
            expires_on=TODAY - timedelta(days=1),
        )
        KycRecordFactory(
            customer=customer, verified_on=TODAY, expires_on=TODAY + timedelta(days=700)
        )
        assert check_kyc_expiry(today=TODAY).raised == 0

    def test_connections_expiring_raise_one_alert(self):
        ConnectionApprovalFactory(valid_until=TODAY + timedelta(days=20))
        ConnectionApprovalFactory(certificate_expires_on=TODAY + timedelta(days=5))
        ConnectionApprovalFactory(valid_until=TODAY + timedelta(days=90))
        assert check_connection_expiry(today=TODAY).raised == 2
        assert check_connection_expiry(today=TODAY).raised == 0
        assert Alert.objects.filter(kind="connection_cert_expiring").count() == 2

    def test_rescreening_processes_only_what_is_due(self):
        CustomerFactory.create_batch(3)
        CustomerFactory(is_client=False, is_debtor=False)  # no live business
        first = check_rescreening(today=TODAY)
        second = check_rescreening(today=TODAY)
        assert (first.processed, second.processed) == (3, 0)

    def test_a_list_import_makes_everyone_due_again(self):
        CustomerFactory.create_batch(2)
        check_rescreening(today=TODAY)
        entry = WatchlistEntryFactory()
        entry.watchlist.version += 1
        entry.watchlist.save()
        assert check_rescreening(today=TODAY).processed == 2


@pytest.mark.django_db
class TestConnectionLifecycle:
    def test_walks_from_application_to_production_with_a_review_history(self, make_user):
        actor = make_user("compliance")
        connection = ConnectionApprovalFactory(
            approval_number="SEC-2026-001", valid_until=TODAY + timedelta(days=365)
        )
        for step in (
            "start_technical_review",
            "pass_technical_review",
            "confirm_connectivity",
            "approve_production",
        ):
            connection = connection_transition(
                connection=connection, actor=actor, transition=step, comment=step
            )
        assert connection.status == ConnectionStatus.PRODUCTION
        assert connection.reviews.count() == 4

    def test_production_needs_an_approval_number_and_validity(self, make_user):
        actor = make_user("compliance")
        connection = ConnectionApprovalFactory()
        for step in ("start_technical_review", "pass_technical_review", "confirm_connectivity"):
            connection = connection_transition(connection=connection, actor=actor, transition=step)
        with pytest.raises(InvalidStateError):
            connection_transition(
                connection=connection, actor=actor, transition="approve_production"
            )

    def test_steps_cannot_be_skipped(self, make_user):
        with pytest.raises(InvalidStateError):
            connection_transition(
                connection=ConnectionApprovalFactory(),
                actor=make_user("compliance"),
                transition="approve_production",
            )

    def test_secrets_and_bad_networks_are_refused(self):
        with pytest.raises(ValidationError) as error:
            ConnectionApprovalFactory.build(
                credentials_ref="p@ssw0rd", allowed_ips="10.0.0.0/8\nnot-an-ip", responsible=None
            ).full_clean(exclude=["responsible", "status"])
        assert {"credentials_ref", "allowed_ips"} <= set(error.value.message_dict)


@pytest.mark.django_db
def test_refresh_watchlist_keys_recomputes_stale_keys(capsys):
    from django.core.management import call_command

    from compliance.models import WatchlistEntry

    entry = WatchlistEntryFactory(name="黒田興業", entry_type="entity")
    WatchlistEntry.objects.filter(pk=entry.pk).update(match_keys=[], fingerprint="stale")
    call_command("refresh_watchlist_keys")
    entry.refresh_from_db()
    assert entry.match_keys and entry.fingerprint != "stale"
    assert "1 件" in capsys.readouterr().out
