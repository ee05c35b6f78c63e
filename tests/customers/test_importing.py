"""Customer import: every row validated, errors by row and column, nothing written on error."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import Workbook

from accounts.roles import ROLE_CODES
from core.models import AuditEvent
from customers.choices import CustomerKind
from customers.importing import HEADERS, ImportRejected, import_customers, parse_customers
from customers.models import Customer
from tests.factories import CustomerFactory, corporate_number

IMPORTERS = {"sales", "underwriter"}


def make_row(**values: Any) -> dict[str, Any]:
    """Return a complete, valid row keyed by Japanese header; ``values`` override cells."""
    seed = values.pop("seed", 1)
    number = corporate_number(900000000000 + seed)
    row = {
        "種別": "法人",
        "商号": f"株式会社取込テスト{seed}",
        "商号カナ": f"トリコミテスト{seed}",
        "英文名": "",
        "法人番号": number,
        "インボイス登録番号": f"T{number}",
        "業種": "卸売業，小売業",
        "設立年月": "2001-04",
        "資本金": "10,000,000",
        "従業員数": "25",
        "年商": "300000000円",
        "純資産": "△2,000,000",
        "決算月": "3",
        "郵便番号": "1000005",
        "都道府県": "東京都",
        "市区町村": "千代田区",
        "番地": f"丸の内{seed}-1-1",
        "建物": "",
        "電話番号": f"03-1234-{seed:04d}",
        "利用会社": "○",
        "売掛先": "",
        "振込名義カナ": f"カ)トリコミテスト{seed}、トリコミテスト{seed}(カ",
    }
    row.update(values)
    return row


def csv_file(rows: list[dict[str, Any]], encoding: str = "utf-8-sig") -> io.BytesIO:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([row.get(header, "") for header in HEADERS])
    return io.BytesIO(text.getvalue().encode(encoding))


def xlsx_file(rows: list[dict[str, Any] | None]) -> io.BytesIO:
    """Return an .xlsx with the template header; ``None`` leaves a blank row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append([None] * len(HEADERS) if row is None else [row.get(h) for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def errors_of(preview) -> set[tuple[int, str]]:
    return {(error.row, error.column) for error in preview.errors}


@pytest.mark.django_db
class TestParseCustomers:
    def test_reads_every_column_into_customer_fields(self):
        preview = parse_customers(csv_file([make_row(seed=1)]), "customers.csv")
        assert preview.errors == []
        fields = preview.rows[0].fields
        assert fields["kind"] == CustomerKind.CORPORATION
        assert fields["industry"] == "I"
        assert fields["established"] == date(2001, 4, 1)
        assert (fields["capital"], fields["annual_sales"], fields["net_assets"]) == (
            10_000_000,
            300_000_000,
            -2_000_000,
        )
        assert (fields["employees"], fields["fiscal_year_end_month"]) == (25, 3)
        assert fields["postal_code"] == "100-0005"
        assert (fields["is_client"], fields["is_debtor"]) == (True, False)
        assert fields["transfer_names"] == ["カ)トリコミテスト1", "トリコミテスト1(カ"]

    def test_shows_each_cell_as_it_will_be_registered(self):
        row = make_row(seed=17, 利用会社="はい", 資本金="10.5", 都道府県="大阪", 業種="e")
        values = {
            h: (text, bad)
            for h, text, bad in parse_customers(csv_file([row]), "c.csv").rows[0].values()
        }
        assert values["利用会社"] == ("○", False) and values["都道府県"] == ("大阪府", False)
        assert values["業種"] == ("E 製造業", False) and values["年商"] == ("¥300,000,000", False)
        assert values["資本金"] == ("10.5", True)  # a cell in error shows what the file says

    def test_keeps_names_as_typed_but_folds_numbers_and_kana(self):
        row = make_row(
            seed=16,
            商号="㈱ＡＢＣ商事",
            商号カナ="えーびーしーｼｮｳｼﾞ",
            電話番号="０３－１１１１－２２２２",
        )
        fields = parse_customers(csv_file([row]), "c.csv").rows[0].fields
        assert fields["name"] == "㈱ＡＢＣ商事"
        assert fields["name_kana"] == "エービーシーショウジ"
        assert fields["phone"] == "03-1111-2222"

    @pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "shift_jis", "cp932"])
    def test_reads_csv_in_utf8_with_or_without_bom_and_in_shift_jis(self, encoding):
        row = make_row(seed=2, 商号="株式会社髙橋商店", 商号カナ="ﾀｶﾊｼｼｮｳﾃﾝ")
        if encoding == "shift_jis":
            row["商号"] = "株式会社高橋商店"  # 髙 exists only in cp932, Windows' Shift_JIS
        preview = parse_customers(csv_file([row], encoding), "customers.csv")
        assert preview.errors == []
        assert preview.rows[0].fields["name"] == row["商号"]
        assert preview.rows[0].fields["name_kana"] == "タカハシショウテン"

    def test_reports_a_wrong_check_digit_by_row_and_column_in_japanese(self):
        good = make_row(seed=3)
        bad = make_row(seed=4)
        bad["法人番号"] = ("1" if bad["法人番号"][0] != "1" else "2") + bad["法人番号"][1:]
        bad["インボイス登録番号"] = f"T{bad['法人番号']}"
        preview = parse_customers(csv_file([good, bad]), "customers.csv")
        assert errors_of(preview) == {(3, "法人番号")}
        assert preview.errors[0].text.startswith("3行目 法人番号: ")
        assert "チェックデジット" in preview.errors[0].text
        assert preview.rows[0].is_valid and not preview.rows[1].is_valid

    def test_numbers_rows_as_excel_does_across_blank_rows(self):
        preview = parse_customers(
            xlsx_file([make_row(seed=5), None, make_row(seed=6, 資本金="12.5")]), "customers.xlsx"
        )
        assert [row.row for row in preview.rows] == [2, 4]
        assert errors_of(preview) == {(4, "資本金")}

    @pytest.mark.parametrize("amount", ["1000.5", "1,000.50円", 1000.5])
    def test_refuses_fractional_yen(self, amount):
        preview = parse_customers(xlsx_file([make_row(seed=7, 資本金=amount)]), "customers.xlsx")
        assert errors_of(preview) == {(2, "資本金")}

    @pytest.mark.parametrize(
        ("amount", "expected"),
        [("1,000,000", 1_000_000), ("1000000円", 1_000_000), ("¥1,000,000", 1_000_000),
         ("１，０００円", 1_000), (2500000, 2_500_000), (2500000.0, 2_500_000), ("1000.00", 1_000)],
    )  # fmt: skip
    def test_accepts_whole_yen_as_people_write_it(self, amount, expected):
        preview = parse_customers(xlsx_file([make_row(seed=8, 年商=amount)]), "customers.xlsx")
        assert preview.errors == []
        assert preview.rows[0].fields["annual_sales"] == expected

    @pytest.mark.parametrize("value", ["I", "i", "卸売業、小売業", "I 卸売業，小売業"])
    def test_reads_an_industry_as_letter_or_japanese_name(self, value):
        preview = parse_customers(csv_file([make_row(seed=9, 業種=value)]), "c.csv")
        assert preview.rows[0].fields["industry"] == "I"

    def test_reports_a_corporate_number_twice_in_the_file(self):
        first = make_row(seed=10)
        second = make_row(
            seed=11, 法人番号=first["法人番号"], インボイス登録番号=first["インボイス登録番号"]
        )
        preview = parse_customers(csv_file([first, second]), "c.csv")
        assert errors_of(preview) == {(3, "法人番号"), (3, "インボイス登録番号")}
        assert any("2" in error.message for error in preview.errors)

    def test_reports_a_corporate_number_already_registered(self):
        existing = CustomerFactory()
        row = make_row(
            seed=12, 法人番号=existing.corporate_number, インボイス登録番号=existing.invoice_number
        )
        preview = parse_customers(csv_file([row]), "c.csv")
        assert errors_of(preview) == {(2, "法人番号"), (2, "インボイス登録番号")}
        assert existing.name in preview.errors[0].message

    def test_names_the_japanese_column_of_model_errors(self):
        row = make_row(seed=13, 商号="", 都道府県="東京", インボイス登録番号="T1234567890123")
        row["郵便番号"] = "12-345"
        preview = parse_customers(csv_file([row]), "c.csv")
        assert errors_of(preview) == {(2, "商号"), (2, "インボイス登録番号"), (2, "郵便番号")}
        assert preview.rows[0].fields["prefecture"] == "東京都"

    @pytest.mark.parametrize(
        ("header", "value"),
        [("種別", "株式"), ("設立年月", "2001年13月"), ("決算月", "13"), ("利用会社", "たぶん"),
         ("業種", "宇宙業"), ("従業員数", "約20")],
    )  # fmt: skip
    def test_reports_an_unreadable_cell_under_its_column(self, header, value):
        preview = parse_customers(csv_file([make_row(seed=14, **{header: value})]), "c.csv")
        assert errors_of(preview) == {(2, header)}

    def test_flags_a_similar_customer_as_a_warning_not_an_error(self):
        existing = CustomerFactory(
            name="株式会社山田商事", corporate_number=None, invoice_number=None
        )
        row = make_row(seed=15, 商号="山田商事株式会社", 法人番号="", インボイス登録番号="")
        preview = parse_customers(csv_file([row]), "c.csv")
        parsed = preview.rows[0]
        assert parsed.is_valid
        assert existing.pk in [candidate.customer.pk for candidate in parsed.candidates]

    def test_flags_similar_customers_in_a_large_file_in_one_pass(self):
        from customers.importing import BULK_MATCH_FROM

        existing = CustomerFactory(
            name="株式会社山田商事", corporate_number=None, invoice_number=None
        )
        rows = [make_row(seed=100 + i) for i in range(BULK_MATCH_FROM)]
        rows.append(make_row(seed=99, 商号="山田商事株式会社", 法人番号="", インボイス登録番号=""))
        preview = parse_customers(csv_file(rows), "big.csv")
        assert [c.customer.pk for c in preview.rows[-1].candidates] == [existing.pk]
        assert all(not parsed.candidates for parsed in preview.rows[:-1])

    def test_needs_the_name_column(self):
        file = io.BytesIO("法人番号,電話番号\n7123456789012,03-0000-0000\n".encode())
        preview = parse_customers(file, "c.csv")
        assert errors_of(preview) == {(1, "商号")}

    def test_reads_past_the_export_only_columns_with_a_warning(self):
        file = io.BytesIO("ID,商号,状態\n12,株式会社ID付き,有効\n".encode())
        preview = parse_customers(file, "c.csv")
        assert preview.errors == [] and preview.warnings
        assert preview.rows[0].fields["name"] == "株式会社ID付き"

    @pytest.mark.parametrize(
        ("data", "filename"),
        [(b"%PDF-1.4", "register.pdf"), (b"PK\x03\x04broken", "register.xlsx"),
         (b"\xff\xfe\xfa\xfb", "register.csv"), ("商号\n".encode(), "register.csv")],
    )  # fmt: skip
    def test_reports_a_file_it_cannot_use_as_one_error(self, data, filename):
        preview = parse_customers(io.BytesIO(data), filename)
        assert len(preview.file_errors) == 1 and preview.rows == []


@pytest.mark.django_db
class TestImportCustomers:
    def test_registers_a_valid_csv_with_transfer_names_and_audit_events(self, make_user):
        user = make_user("sales")
        result = import_customers(
            source=csv_file([make_row(seed=20), make_row(seed=21)]), filename="c.csv", actor=user
        )
        assert result.created == 2 and result.skipped_rows == []
        customer = Customer.objects.get(name="株式会社取込テスト20")
        assert customer.created_by == user and customer.capital == 10_000_000
        assert sorted(customer.transfer_names.values_list("name", flat=True)) == [
            "カ)トリコミテスト20",
            "トリコミテスト20(カ",
        ]
        assert AuditEvent.objects.filter(action="customer.created").count() == 2
        event = AuditEvent.objects.get(action="customer.imported")
        assert event.data["filename"] == "c.csv" and event.data["created"] == 2

    def test_registers_a_valid_xlsx(self, make_user):
        rows = [make_row(seed=22, 資本金=5000000, 設立年月=date(1999, 7, 15)), make_row(seed=23)]
        result = import_customers(
            source=xlsx_file(rows), filename="c.xlsx", actor=make_user("sales")
        )
        assert result.created == 2
        customer = Customer.objects.get(name="株式会社取込テスト22")
        assert customer.capital == 5_000_000 and customer.established == date(1999, 7, 1)
        assert customer.transfer_names.count() == 2

    def test_writes_nothing_when_one_row_is_bad(self, make_user):
        bad = make_row(seed=25, 法人番号="1234567890123")
        rows = [make_row(seed=24), bad, make_row(seed=26)]
        with pytest.raises(ImportRejected) as rejected:
            import_customers(source=csv_file(rows), filename="c.csv", actor=make_user("sales"))
        assert (3, "法人番号") in {(e.row, e.column) for e in rejected.value.errors}
        assert Customer.objects.count() == 0
        assert not AuditEvent.objects.filter(action__startswith="customer.").exists()

    def test_imports_the_valid_rows_only_when_asked(self, make_user):
        rows = [make_row(seed=27), make_row(seed=28, 資本金="1.5"), make_row(seed=29)]
        result = import_customers(
            source=csv_file(rows), filename="c.csv", actor=make_user("sales"), valid_rows_only=True
        )
        assert result.created == 2 and result.skipped_rows == [3]
        assert set(Customer.objects.values_list("name", flat=True)) == {
            "株式会社取込テスト27",
            "株式会社取込テスト29",
        }
        event = AuditEvent.objects.get(action="customer.imported")
        assert event.data["skipped_rows"] == [3] and event.data["valid_rows_only"] is True

    def test_a_conflict_arising_after_the_preview_rolls_everything_back(self, make_user):
        rows = [make_row(seed=30), make_row(seed=31)]
        preview = parse_customers(csv_file(rows), "c.csv")
        assert not preview.has_errors
        CustomerFactory(
            corporate_number=rows[1]["法人番号"]
        )  # registered by someone else meanwhile
        before = Customer.objects.count()
        with pytest.raises(ImportRejected) as rejected:
            import_customers(source=preview, actor=make_user("sales"))
        assert rejected.value.errors[0].row == 3
        assert Customer.objects.count() == before


def _upload(client, rows, name="customers.csv", **extra):
    file = csv_file(rows)
    file.name = name
    return client.post(reverse("customers:import"), {"file": file, **extra})


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "imports"


@pytest.mark.django_db
class TestImportViews:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_roles_that_add_customers_may_import(self, role_client, role, media):
        client = role_client(role)
        assert client.get(reverse("customers:import")).status_code == (
            200 if role in IMPORTERS else 403
        )
        response = _upload(client, [make_row(seed=40)])
        assert response.status_code == (200 if role in IMPORTERS else 403)

    def test_upload_page_links_the_template(self, role_client, media):
        body = role_client("sales").get(reverse("customers:import")).content.decode()
        assert reverse("customers:import_template") in body and 'name="valid_rows_only"' in body

    def test_preview_shows_errors_naming_row_and_column(self, role_client, media):
        client = role_client("sales")
        response = _upload(client, [make_row(seed=41), make_row(seed=42, 法人番号="1234567890123")])
        body = response.content.decode()
        assert response.status_code == 200
        assert 'id="row-3"' in body and "法人番号" in body and "text-danger" in body
        assert Customer.objects.count() == 0
        assert len(list(media.iterdir())) == 1  # the upload waits for confirmation

    def test_preview_links_possible_duplicates(self, role_client, media):
        existing = CustomerFactory(
            name="株式会社山田商事", corporate_number=None, invoice_number=None
        )
        row = make_row(seed=43, 商号="山田商事株式会社", 法人番号="", インボイス登録番号="")
        body = _upload(role_client("sales"), [row]).content.decode()
        assert existing.get_absolute_url() in body

    def test_confirm_imports_and_redirects_to_the_list(self, role_client, media):
        client = role_client("sales")
        token = (
            _upload(client, [make_row(seed=44), make_row(seed=45)]).context["form"]["token"].value()
        )
        response = client.post(reverse("customers:import"), {"token": token})
        assert response.status_code == 302 and response.url == reverse("customers:list")
        assert Customer.objects.count() == 2
        assert AuditEvent.objects.filter(action="customer.imported").count() == 1
        assert list(media.iterdir()) == []

    def test_confirm_with_an_error_row_reshows_the_errors_and_writes_nothing(
        self, role_client, media
    ):
        client = role_client("sales")
        rows = [make_row(seed=46), make_row(seed=47, 資本金="10.5")]
        token = _upload(client, rows).context["form"]["token"].value()
        response = client.post(reverse("customers:import"), {"token": token})
        assert response.status_code == 200 and 'id="row-3"' in response.content.decode()
        assert Customer.objects.count() == 0
        response = client.post(
            reverse("customers:import"), {"token": token, "valid_rows_only": "on"}
        )
        assert response.status_code == 302
        assert list(Customer.objects.values_list("name", flat=True)) == ["株式会社取込テスト46"]

    @pytest.mark.parametrize("token", ["../../etc/passwd", "not-a-uuid", "0" * 32])
    def test_confirm_refuses_a_token_this_session_did_not_upload(self, role_client, token, media):
        client = role_client("sales")
        response = client.post(reverse("customers:import"), {"token": token})
        assert response.status_code == 302 and response.url == reverse("customers:import")
        assert Customer.objects.count() == 0

    def test_confirm_refuses_another_users_upload(self, client, make_user, media):
        client.force_login(make_user("sales"))
        token = _upload(client, [make_row(seed=48)]).context["form"]["token"].value()
        client.force_login(make_user("underwriter"))
        response = client.post(reverse("customers:import"), {"token": token})
        assert response.status_code == 302 and Customer.objects.count() == 0

    def test_refuses_a_file_that_is_not_xlsx_or_csv(self, role_client, media):
        response = _upload(role_client("sales"), [make_row(seed=49)], name="customers.pdf")
        assert response.status_code == 200 and response.context["form"].errors["file"]
        assert not media.exists()
