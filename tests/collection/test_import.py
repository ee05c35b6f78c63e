"""Statement import: stored once however often a file or its entries come in; a bad file
writes nothing; the command line does the same as the service."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from collection.models import BankEntry, EntryStatus, StatementImport
from collection.services import statement_import
from collection.zengin import StatementError
from core.models import AuditEvent

from .statements import dw_file

pytestmark = pytest.mark.django_db


def _file(*amounts: int, payer: str = "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ") -> bytes:
    return dw_file([{"amount": amount, "payer": payer, "inquiry": n + 1}
                    for n, amount in enumerate(amounts)])  # fmt: skip


class TestStatementImport:
    def test_stores_every_entry_with_the_payer_name_in_full_width_kana(self):
        result = statement_import(data=_file(100_000, 250_000), file_name="0601.txt")
        assert (result.entries_in_file, result.entries_added) == (2, 2)
        entry = BankEntry.objects.order_by("record_number").first()
        assert entry.payer_name == "カ)ヤマダシヨウジ" and entry.raw_payer_name == "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"
        assert entry.amount == 100_000 and entry.status == EntryStatus.UNMATCHED
        assert AuditEvent.objects.filter(action="collection.statement_imported").exists()

    def test_the_same_file_twice_adds_nothing(self):
        data = _file(100_000)
        statement_import(data=data, file_name="a.txt")
        again = statement_import(data=data, file_name="a-copy.txt")
        assert again.already_imported and again.entries_added == 0
        assert BankEntry.objects.count() == 1 and StatementImport.objects.count() == 1

    def test_an_overlapping_file_adds_only_the_entries_not_seen_before(self):
        statement_import(data=_file(100_000), file_name="day1.txt")
        result = statement_import(data=_file(100_000, 70_000), file_name="day1-2.txt")
        assert (result.entries_in_file, result.entries_added) == (2, 1)
        assert BankEntry.objects.count() == 2

    def test_a_bad_file_is_refused_and_writes_nothing(self):
        data = dw_file([{"amount": 100_000}], in_total=999)
        with pytest.raises(StatementError):
            statement_import(data=data, file_name="bad.txt")
        assert not StatementImport.objects.exists() and not BankEntry.objects.exists()

    def test_withdrawals_are_kept_but_never_matched(self):
        data = dw_file([{"amount": 5_000, "direction": "2"}])
        statement_import(data=data, file_name="out.txt")
        assert BankEntry.objects.get().status == EntryStatus.IGNORED


class TestCommand:
    def test_import_bank_statement_reads_a_path_and_is_idempotent(self, tmp_path, capsys):
        path = tmp_path / "statement.txt"
        path.write_bytes(_file(100_000, 200_000))
        call_command("import_bank_statement", str(path))
        call_command("import_bank_statement", str(path))
        output = capsys.readouterr().out
        assert "2" in output and BankEntry.objects.count() == 2

    def test_a_bad_file_fails_with_the_record_and_field_named(self, tmp_path):
        path = tmp_path / "bad.txt"
        path.write_bytes(dw_file([{"amount": 100_000}], in_total=1))
        with pytest.raises(CommandError) as failed:
            call_command("import_bank_statement", str(path))
        assert "入金額合計" in str(failed.value)
        assert not BankEntry.objects.exists()

    def test_a_missing_file_is_reported(self, tmp_path):
        with pytest.raises(CommandError):
            call_command("import_bank_statement", str(tmp_path / "nope.txt"))
