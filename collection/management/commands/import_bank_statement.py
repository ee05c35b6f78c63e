"""Import a 全銀 bank statement file (入出金取引明細 / 振込入金通知) from the command line."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from collection.services import statement_import
from collection.zengin import StatementError


class Command(BaseCommand):
    help = "Import a 全銀 statement file; importing the same entries again adds nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the statement file (Shift_JIS, 200-byte records)")

    def handle(self, *args, path: str, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        try:
            result = statement_import(
                data=file.read_bytes(),
                file_name=file.name,
                actor_label="command:import_bank_statement",
            )
        except StatementError as error:
            raise CommandError(_("The file was not imported:") + f"\n{error}") from error
        if result.already_imported:
            self.stdout.write(
                _("%(file)s: already imported (0 entries added)") % {"file": file.name}
            )
        else:
            self.stdout.write(
                _("%(file)s: %(added)s of %(total)s entries added")
                % {"file": file.name, "added": result.entries_added,
                   "total": result.entries_in_file}
            )  # fmt: skip
