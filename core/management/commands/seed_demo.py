"""Create demo data and one demo user per role; safe to run again (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from core.demo import DemoOptions, run_seeders


class Command(BaseCommand):
    help = "Create demo users (password demo-pass) and demo data; sizes are for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=50, help="number of customers")
        parser.add_argument("--deals", type=int, default=100, help="number of deals")
        parser.add_argument(
            "--receivables-per-deal", type=int, default=3, help="receivables per deal"
        )
        parser.add_argument("--seed", type=int, default=20261121, help="random seed")

    def handle(self, *args, **opts):
        if not settings.DEMO_USERS_ALLOWED:
            raise CommandError(
                "デモユーザーは本番設定では作成できません (demo data is refused in production)."
            )
        autodiscover_modules("demo")
        options = DemoOptions(
            customers=opts["customers"],
            deals=opts["deals"],
            receivables_per_deal=opts["receivables_per_deal"],
            seed=opts["seed"],
        )
        with transaction.atomic():
            run_seeders(options, self.stdout.write)
        self.stdout.write(self.style.SUCCESS("デモデータを作成しました。"))
