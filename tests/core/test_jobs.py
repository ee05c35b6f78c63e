from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from core.audit import audit_log
from core.choices import AlertKind
from core.jobs import registered_checks, run_all_checks, run_check
from core.models import Alert, AuditEvent
from core.schedule import sync_beat_schedule


@pytest.mark.django_db
class TestNightlyChecks:
    def test_the_audit_chain_check_is_registered_and_scheduled(self):
        assert "audit_chain" in [check.name for check in registered_checks()]
        task = PeriodicTask.objects.get(name="nightly: audit_chain")
        assert task.task == "core.run_nightly_check" and task.args == '["audit_chain"]'

    def test_schedule_sync_is_idempotent(self):
        assert sync_beat_schedule() == 0
        assert PeriodicTask.objects.filter(name__startswith="nightly: ").count() == len(
            registered_checks()
        )

    def test_a_broken_chain_raises_one_critical_alert_however_often_it_runs(self):
        audit_log(actor=None, action="test.one")
        event = audit_log(actor=None, action="test.two")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {AuditEvent._meta.db_table} SET action='x' WHERE id=%s", [event.id]
            )
        first = run_check("audit_chain", today=date(2026, 11, 21))
        second = run_check("audit_chain", today=date(2026, 11, 21))
        assert first.outcome.raised == 1 and second.outcome.raised == 0
        alert = Alert.objects.get(kind=AlertKind.AUDIT_CHAIN_BROKEN)
        assert alert.severity == "critical" and alert.assigned_role.name == "compliance"

    def test_every_run_is_recorded_in_the_audit_log(self):
        run_all_checks()
        assert AuditEvent.objects.filter(
            action="nightly_check.run", actor_label="job:audit_chain"
        ).exists()

    def test_management_command_runs_every_check(self, capsys):
        call_command("run_nightly_checks", "--date", "2026-11-21")
        assert "audit_chain: processed=" in capsys.readouterr().out
