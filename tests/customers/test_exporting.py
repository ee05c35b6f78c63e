"""Customer export and import template: the import's layout, re-importable, every export logged."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.roles import ROLE_CODES
from core.models import AuditEvent
from customers.choices import CustomerKind
from customers.exporting import export_customers, import_template
from customers.importing import HEADERS, import_customers, parse_customers
from customers.models import Customer
from tests.factories import CustomerFactory, TransferNameFactory

COMPARED = (
    "kind", "name", "name_kana", "name_en", "corporate_number", "invoice_number", "industry",
    "established", "capital", "employees", "annual_sales", "net_assets", "fiscal_year_end_month",
    "postal_code", "prefecture", "city", "street", "building", "phone", "is_client", "is_debtor",
)  # fmt: skip


def sheet_rows(data: bytes, sheet: str | None = None) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    rows = list(worksheet.iter_rows(values_only=True))
    workbook.close()
    return rows


def snapshot(customer: Customer) -> dict:
    values = {name: getattr(customer, name) for name in COMPARED}
    values["transfer_names"] = sorted(customer.transfer_names.values_list("name", flat=True))
    return values


def varied_customers() -> list[Customer]:
    """Return customers using every column, including blanks, negatives and a sole proprietor."""
    full = CustomerFactory(
        name="株式会社往復テスト",
        name_kana="オウフクテスト",
        name_en="Ofuku Test Co., Ltd.",
        industry="E",
        established=date(1987, 11, 1),
        capital=30_000_000,
        employees=120,
        annual_sales=1_250_000_000,
        net_assets=-4_500_000,
        fiscal_year_end_month=9,
        postal_code="060-0001",
        prefecture="北海道",
        city="札幌市中央区",
        street="北一条西1-1",
        building="札幌ビル3階",
        phone="011-123-4567",
        is_client=True,
        is_debtor=True,
    )
    TransferNameFactory(customer=full, name="カ)オウフクテスト")
    TransferNameFactory(customer=full, name="オウフクテスト(カ")
    sole = CustomerFactory(
        kind=CustomerKind.SOLE_PROPRIETOR,
        name="山田太郎商店",
        name_kana="ヤマダタロウシヨウテン",
        corporate_number=None,
        invoice_number="T9876543210987",
        industry="",
        is_client=False,
        is_debtor=True,
    )
    return [full, sole, CustomerFactory()]


class _Rollback(Exception):
    pass


@pytest.mark.django_db
class TestExportCustomers:
    def test_header_row_is_the_templates_plus_id_and_status(self):
        CustomerFactory()
        header = sheet_rows(export_customers(Customer.objects.all()))[0]
        assert header == ("ID", *sheet_rows(import_template())[0], "状態")

    def test_an_export_reimports_into_a_fresh_register_with_the_same_values(self, make_user):
        user = make_user("sales")
        with pytest.raises(_Rollback), transaction.atomic():
            customers = varied_customers()
            expected = sorted((snapshot(c) for c in customers), key=lambda v: v["name"])
            data = export_customers(Customer.objects.all())
            raise _Rollback  # the register is empty again: as if re-importing elsewhere
        assert Customer.objects.count() == 0
        result = import_customers(source=io.BytesIO(data), filename="export.xlsx", actor=user)
        assert result.created == 3
        imported = sorted((snapshot(c) for c in Customer.objects.all()), key=lambda v: v["name"])
        assert imported == expected

    def test_writes_values_as_the_import_template_expects(self):
        customer = varied_customers()[0]
        header, row = sheet_rows(export_customers(Customer.objects.filter(pk=customer.pk)))
        cells = dict(zip(header, row, strict=True))
        assert cells["ID"] == customer.pk and cells["種別"] == "法人"
        assert cells["業種"] == "製造業" and cells["設立年月"] == "1987-11"
        assert cells["資本金"] == 30_000_000 and cells["純資産"] == -4_500_000
        assert cells["法人番号"] == customer.corporate_number  # text, so Excel keeps every digit
        assert (cells["利用会社"], cells["売掛先"]) == ("○", "○")
        assert cells["振込名義カナ"] == "カ)オウフクテスト、オウフクテスト(カ"

    def test_reads_in_a_constant_number_of_queries(self, django_assert_num_queries):
        for customer in CustomerFactory.create_batch(5):
            TransferNameFactory(customer=customer)
        with django_assert_num_queries(2):  # customers, then their transfer names
            export_customers(Customer.objects.all())

    def test_writes_a_formula_like_name_as_text(self):
        CustomerFactory(name='=HYPERLINK("http://example.com","x")')
        workbook = load_workbook(io.BytesIO(export_customers(Customer.objects.all())))
        cell = workbook.worksheets[0]["C2"]
        assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"


@pytest.mark.django_db
class TestImportTemplate:
    def test_has_the_header_an_example_and_a_guide(self):
        workbook = load_workbook(io.BytesIO(import_template()))
        assert workbook.sheetnames == ["顧客", "記入例", "説明"]
        assert [c.value for c in workbook["顧客"][1]] == list(HEADERS)
        assert workbook["顧客"].max_row == 1
        guide_columns = [row[0] for row in workbook["説明"].iter_rows(min_row=2, values_only=True)]
        assert set(HEADERS) <= set(guide_columns)

    def test_its_example_row_imports_without_errors(self):
        example = sheet_rows(import_template(), "記入例")
        workbook = Workbook()
        for row in example:
            workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        preview = parse_customers(buffer, "example.xlsx")
        assert preview.errors == [] and len(preview.rows) == 1


@pytest.mark.django_db
class TestExportViews:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_every_role_that_reads_the_register_may_export(self, role_client, role):
        response = role_client(role).get(reverse("customers:export"))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in response["Content-Disposition"]

    def test_a_user_without_a_role_may_not_export_or_download_the_template(self, client, make_user):
        client.force_login(make_user())
        assert client.get(reverse("customers:export")).status_code == 403
        assert client.get(reverse("customers:import_template")).status_code == 403

    def test_export_follows_the_list_filter_and_logs_an_audit_event(self, role_client):
        CustomerFactory(prefecture="大阪府")
        CustomerFactory(prefecture="東京都")
        client = role_client("manager")
        response = client.get(reverse("customers:export"), {"prefecture": "大阪府", "page": "2"})
        rows = sheet_rows(response.content)
        assert len(rows) == 2 and rows[1][HEADERS.index("都道府県") + 1] == "大阪府"
        event = AuditEvent.objects.get(action="customer.exported")
        assert event.actor == client.user
        assert event.data == {"filters": {"prefecture": "大阪府"}, "rows": 1, "format": "xlsx"}

    def test_template_download_is_the_import_template(self, role_client):
        response = role_client("approver").get(reverse("customers:import_template"))
        assert response.status_code == 200
        assert sheet_rows(response.content)[0] == HEADERS
