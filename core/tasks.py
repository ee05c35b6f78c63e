"""Celery tasks of the shared kernel: thin wrappers around the nightly-check registry."""

from celery import shared_task

from .jobs import registered_checks, run_check


@shared_task(name="core.run_nightly_check")
def run_nightly_check(name: str) -> dict:
    """Run one registered check; safe to re-run (checks are idempotent)."""
    run = run_check(name)
    return {"check": run.name, "processed": run.outcome.processed, "raised": run.outcome.raised}


@shared_task(name="core.run_nightly_checks")
def run_nightly_checks() -> list[dict]:
    """Run every registered check, one after another."""
    return [run_nightly_check(check.name) for check in registered_checks()]
