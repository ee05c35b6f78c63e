"""A real Celery worker, consuming from Redis, runs a registered nightly check end to end."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from config.celery import app as celery_app
from core.audit import audit_log
from core.choices import AlertKind
from core.models import Alert, AuditEvent
from core.tasks import run_nightly_check

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_worker(redis_url):
    """Point the Celery app at Redis and start a worker thread consuming a queue of its own."""
    saved = {
        key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")
    }
    celery_app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield celery_app
    finally:
        celery_app.conf.update(saved)


def test_a_worker_runs_the_audit_chain_check_and_raises_an_alert(redis_worker):
    audit_log(actor=None, action="test.before")
    tampered = audit_log(actor=None, action="test.target")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET action = 'test.forged' WHERE id = %s",
            [tampered.id],
        )

    result = run_nightly_check.delay("audit_chain").get(timeout=60)

    assert result == {"check": "audit_chain", "processed": 2, "raised": 1}
    alert = Alert.objects.get(kind=AlertKind.AUDIT_CHAIN_BROKEN)
    assert alert.dedup_key == f"audit_chain_broken:{tampered.id}"

    again = run_nightly_check.delay("audit_chain").get(timeout=60)
    assert again["raised"] == 0
    assert Alert.objects.filter(kind=AlertKind.AUDIT_CHAIN_BROKEN).count() == 1
