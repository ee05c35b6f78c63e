"""Run every registered nightly check now, synchronously."""

from datetime import date

from django.core.management.base import BaseCommand

from core.jobs import run_all_checks


class Command(BaseCommand):
    help = "Run every scheduled nightly check now (idempotent: safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, help="treat this day as today")

    def handle(self, *args, **opts):
        for run in run_all_checks(today=opts.get("date")):
            self.stdout.write(
                f"{run.name}: processed={run.outcome.processed} raised={run.outcome.raised}"
                f" ({run.seconds:.2f}s)"
            )
