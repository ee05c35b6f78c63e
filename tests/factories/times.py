"""Times for tests: a day at an hour, Tokyo time."""

from datetime import date, datetime, time

from django.utils import timezone


def at(d: date, hour: int = 10) -> datetime:
    """Return ``d`` at ``hour`` o'clock, Tokyo time."""
    return timezone.make_aware(datetime.combine(d, time(hour)))
