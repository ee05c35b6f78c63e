"""Celery tasks of collection: thin wrappers that call a service; safe to re-run."""

from celery import shared_task

from accounts.models import User


@shared_task(name="collection.reconcile")
def reconcile_task(user_id: int | None = None) -> dict:
    """Run automatic matching over every waiting deposit (already matched ones are skipped)."""
    from .reconcile import reconcile

    actor = User.objects.filter(pk=user_id).first() if user_id else None
    summary = reconcile(actor=actor)
    return {"matched": summary.matched, "queued": summary.queued, "suspense": summary.suspense}
