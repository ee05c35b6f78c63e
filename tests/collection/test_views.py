"""Collection screens: who may import, the preview before anything is stored."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import ROLE_CODES
from collection.models import BankEntry, StatementImport

from .test_zengin import dw_file

pytestmark = pytest.mark.django_db


def _upload(data: bytes, name: str = "0601.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_collections_staff_import_statements(self, role_client, role):
        client = role_client(role)
        expected = 200 if role == "collections" else 403
        assert client.get("/collection/statements/import/").status_code == expected
        assert client.get("/collection/statements/").status_code == expected


class TestStatementImport:
    def test_a_file_is_previewed_then_imported_once(self, role_client):
        web = role_client("collections")
        data = dw_file([{"amount": 100_000, "inquiry": 1}, {"amount": 250_000, "inquiry": 2}])
        preview = web.post("/collection/statements/import/", {"file": _upload(data)})
        body = preview.content.decode()
        assert 'data-testid="statement-summary"' in body and "カ)ヤマダシヨウジ" in body
        assert not BankEntry.objects.exists()  # nothing stored before confirmation
        token = preview.context["form"].initial["token"]
        done = web.post("/collection/statements/import/", {"token": token}, follow=True)
        assert BankEntry.objects.count() == 2 and StatementImport.objects.count() == 1
        assert "2" in done.content.decode()
        again = web.post("/collection/statements/import/", {"file": _upload(data, "copy.txt")})
        assert again.context["new_count"] == 0

    def test_a_bad_file_lists_each_problem_and_stores_nothing(self, role_client):
        web = role_client("collections")
        data = dw_file([{"amount": 100_000}], in_total=5)
        response = web.post("/collection/statements/import/", {"file": _upload(data)})
        body = response.content.decode()
        assert 'data-testid="statement-problems"' in body and "入金額合計" in body
        assert not StatementImport.objects.exists()
