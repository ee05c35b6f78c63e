"""Keep django-celery-beat's database schedule in step with the registered checks.

One periodic task per check, so an admin can move or disable a single check in the
admin without touching code; existing rows are never overwritten.
"""

from __future__ import annotations

import json

from django.conf import settings

from .jobs import registered_checks


def sync_beat_schedule() -> int:
    """Create the missing periodic task of every registered check; return how many were created."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour=str(settings.NIGHTLY_CHECKS_HOUR),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    created = 0
    for check in registered_checks():
        _, was_created = PeriodicTask.objects.get_or_create(
            name=f"nightly: {check.name}",
            defaults={
                "task": "core.run_nightly_check",
                "crontab": crontab,
                "args": json.dumps([check.name]),
                "description": check.label,
            },
        )
        created += int(was_created)
    return created
