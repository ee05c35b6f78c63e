"""Refresh the 名寄せ review list: ``python manage.py find_duplicates [--threshold 0.88]``."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from customers.dedup import refresh_duplicate_candidates
from customers.matching import DUPLICATE_THRESHOLD
from customers.models import DuplicateCandidate


class Command(BaseCommand):
    help = "名寄せ: 重複の疑いがある顧客の組を探し、確認待ちの一覧を更新します。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--threshold",
            type=float,
            default=DUPLICATE_THRESHOLD,
            help=f"候補とする類似度の下限 (0-1、既定 {DUPLICATE_THRESHOLD})",
        )

    def handle(self, *args: Any, threshold: float, **options: Any) -> None:
        if not 0 < threshold <= 1:
            raise CommandError("--threshold は 0 より大きく 1 以下で指定してください。")
        started = time.perf_counter()
        created, updated = refresh_duplicate_candidates(threshold=threshold)
        elapsed = time.perf_counter() - started
        open_count = DuplicateCandidate.objects.filter(
            status=DuplicateCandidate.Status.OPEN
        ).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"名寄せ候補: 新規 {created} 件、更新 {updated} 件、確認待ち {open_count} 件"
                f" (しきい値 {threshold:.2f}、{elapsed:.1f} 秒)"
            )
        )
