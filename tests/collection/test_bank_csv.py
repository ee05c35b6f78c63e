"""Bank CSV statements through a saved layout: read, refused row by row, imported once."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from collection.bank_csv import parse_bank_csv
from collection.models import BankEntry, CsvMapping
from collection.services import statement_import
from collection.zengin import StatementError

pytestmark = pytest.mark.django_db

CSV = (
    "日付,摘要,お預り金額,お引出金額,振込依頼人\n"
    '2026/06/01,振込,"1,000,000",,ｶ)ｱｵﾊﾞｼﾖｳｼﾞ\n'
    "2026/06/02,手数料,,440,\n"
    "2026/06/03,振込,250000,,ヤマダ　タロウ\n"
)


@pytest.fixture
def layout():
    return CsvMapping.objects.create(
        name="みずほ 本店 普通 1234567", bank_code="0001", branch_code="001",
        account_number="1234567", encoding="cp932", header_rows=1, date_column=1,
        date_format="%Y/%m/%d", amount_column=3, withdrawal_column=4, payer_column=5,
        description_column=2,
    )  # fmt: skip


def test_a_csv_is_read_through_its_layout(layout):
    statement = parse_bank_csv(CSV.encode("cp932"), layout)
    deposits = [e for e in statement.entries if e.direction == "in"]
    assert [e.amount for e in deposits] == [1_000_000, 250_000]
    assert deposits[0].payer_name == "カ)アオバシヨウジ"
    assert statement.entries[1].direction == "out" and statement.entries[1].amount == 440
    assert statement.header.period_start.isoformat() == "2026-06-01"


def test_a_bad_row_is_refused_with_its_line_number(layout):
    broken = CSV.replace("2026/06/03", "6月3日")
    with pytest.raises(StatementError) as refused:
        parse_bank_csv(broken.encode("cp932"), layout)
    assert refused.value.problems[0].record_number == 4


def test_importing_the_same_csv_twice_adds_nothing(layout):
    data = CSV.encode("cp932")
    statement_import(data=data, file_name="a.csv", mapping=layout)
    statement_import(data=data + b"\n", file_name="b.csv", mapping=layout)
    assert BankEntry.objects.count() == 3


def test_the_import_screen_offers_the_saved_layouts(role_client, layout):
    web = role_client("collections")
    upload = SimpleUploadedFile("june.csv", CSV.encode("cp932"))
    preview = web.post("/collection/statements/import/", {"file": upload, "mapping": layout.pk})
    assert preview.context["new_count"] == 3
    token = preview.context["form"].initial["token"]
    web.post("/collection/statements/import/", {"token": token})
    assert BankEntry.objects.count() == 3
