from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core.audit import (
    GENESIS_HASH,
    AuditRecord,
    audit_log,
    audit_log_many,
    verify_audit_chain,
)
from core.models import AppendOnlyError, AuditEvent


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def chain(db, make_user):
    user = make_user("sales")
    events = [
        audit_log(actor=user, action="deal.created", subject=user, data={"amount": 1_000_000}),
        audit_log(actor=user, action="deal.updated", data={"rate": Decimal("0.8000")}),
        audit_log(actor=None, actor_label="job:test", action="nightly_check.run"),
    ]
    return user, events


class TestAuditChain:
    def test_links_each_event_to_the_previous_one(self, chain):
        _, events = chain
        first = AuditEvent.objects.order_by("id").first()
        assert first.prev_hash == GENESIS_HASH or first.id < events[0].id
        assert events[1].prev_hash == events[0].hash
        assert events[2].prev_hash == events[1].hash

    def test_an_untouched_chain_verifies(self, chain):
        checked, broken = verify_audit_chain()
        assert broken is None
        assert checked == AuditEvent.objects.count()

    def test_detects_an_altered_row(self, chain):
        _, events = chain
        _tamper(
            f"UPDATE {AuditEvent._meta.db_table} SET data = %s WHERE id = %s",
            ['{"amount": 9000000}', events[0].id],
        )
        _, broken = verify_audit_chain()
        assert broken is not None and broken.event_id == events[0].id
        assert "altered" in broken.reason

    def test_detects_a_deleted_row(self, chain):
        _, events = chain
        _tamper(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [events[1].id])
        _, broken = verify_audit_chain()
        assert broken is not None and broken.event_id == events[2].id

    def test_detects_a_changed_actor(self, chain):
        _, events = chain
        _tamper(
            f"UPDATE {AuditEvent._meta.db_table} SET actor_label = %s WHERE id = %s",
            ["someone-else", events[1].id],
        )
        _, broken = verify_audit_chain()
        assert broken.event_id == events[1].id

    def test_command_reports_the_first_broken_link(self, chain):
        _, events = chain
        call_command("verify_audit_chain")
        _tamper(
            f"UPDATE {AuditEvent._meta.db_table} SET action = %s WHERE id = %s",
            ["deal.deleted", events[1].id],
        )
        with pytest.raises(CommandError, match=f"#{events[1].id}"):
            call_command("verify_audit_chain")

    def test_rows_cannot_be_changed_or_deleted_through_the_orm(self, chain):
        _, events = chain
        with pytest.raises(AppendOnlyError):
            events[0].save()
        with pytest.raises(AppendOnlyError):
            events[0].delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(id=events[0].id).update(action="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().delete()

    def test_decimal_details_survive_the_round_trip(self, chain):
        _, events = chain
        stored = AuditEvent.objects.get(id=events[1].id)
        assert stored.data == {"rate": "0.8000"}


class TestManyAtOnce:
    def test_a_batch_chains_in_order_after_single_events_and_verifies(self, chain):
        user, events = chain
        batch = audit_log_many([
            AuditRecord(actor=user, action="collection.allocated", subject=user,
                        data={"lines": [{"amount": n}]})
            for n in range(5)
        ])  # fmt: skip
        assert batch[0].prev_hash == events[-1].hash
        assert [b.prev_hash for b in batch[1:]] == [b.hash for b in batch[:-1]]
        audit_log(actor=None, actor_label="job:test", action="after.batch")
        assert verify_audit_chain() == (AuditEvent.objects.count(), None)

    def test_an_empty_batch_writes_nothing(self, db):
        assert audit_log_many([]) == []
        assert not AuditEvent.objects.exists()
