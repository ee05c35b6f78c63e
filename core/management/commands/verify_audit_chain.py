"""Verify the audit log's hash chain and report the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_audit_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exits non-zero at the first broken link."

    def handle(self, *args, **opts):
        checked, broken = verify_audit_chain()
        if broken is not None:
            raise CommandError(
                f"監査ログの改ざんを検出しました: イベント #{broken.event_id} ({broken.reason})。"
                f" {checked} 件目で検出。"
            )
        self.stdout.write(self.style.SUCCESS(f"監査ログは正常です ({checked} 件を検証)。"))
