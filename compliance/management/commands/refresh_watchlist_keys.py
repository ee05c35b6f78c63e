"""Recompute every watchlist entry's match keys after the key rules change."""

from django.core.management.base import BaseCommand
from django.db import transaction

from compliance.models import WatchlistEntry
from compliance.screening import refresh_entry_keys
from core.audit import audit_log


class Command(BaseCommand):
    help = (
        "Recompute match keys and fingerprints of all watchlist entries (after an engine change)."
    )

    def handle(self, *args, **opts):
        changed = 0
        with transaction.atomic():
            for entry in WatchlistEntry.objects.select_for_update().iterator(chunk_size=2000):
                before = (list(entry.match_keys), entry.fingerprint)
                refresh_entry_keys(entry)
                if (entry.match_keys, entry.fingerprint) != before:
                    entry.save(update_fields=["match_keys", "fingerprint"])
                    changed += 1
            audit_log(actor=None, actor_label="cli:refresh_watchlist_keys", action="compliance.keys_refreshed",
                      data={"changed": changed})  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"照合キーを再計算しました: {changed} 件を更新"))
