"""Collection API: permissions per role, upload, allocation and its reversal."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import ROLE_CODES
from collection.models import Allocation, CollectionStatus, ExpectedCollection

from .statements import dw_file

pytestmark = pytest.mark.django_db
READERS = {"collections", "manager", "operations", "underwriter"}


@pytest.mark.parametrize("role", ROLE_CODES)
def test_reads_and_writes_follow_the_role_table(role_client, role):
    client = role_client(role)
    assert client.get("/api/collection/collections/").status_code == (
        200 if role in READERS else 403
    )
    assert client.get("/api/collection/bank-entries/").status_code == (
        200 if role == "collections" else 403
    )
    upload = SimpleUploadedFile("s.txt", dw_file([{"amount": 1_000}]))
    response = client.post("/api/collection/statements/", {"file": upload}, format="multipart")
    assert response.status_code == (201 if role == "collections" else 403)


def test_a_bad_statement_answers_400_with_each_problem(role_client):
    client = role_client("collections")
    upload = SimpleUploadedFile("s.txt", dw_file([{"amount": 1_000}], in_total=3))
    response = client.post("/api/collection/statements/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_allocate_and_reverse_through_the_api(role_client, desk):
    deal = desk.executed([1_000_000])
    expected = ExpectedCollection.objects.get(deal=deal)
    client = role_client("collections")
    upload = SimpleUploadedFile("s.txt", dw_file([{"amount": 1_000_000}]))
    client.post("/api/collection/statements/", {"file": upload}, format="multipart")
    entry = client.get("/api/collection/bank-entries/").json()["results"][0]
    created = client.post("/api/collection/allocations/",
                          {"entry": entry["id"], "expected": expected.pk, "amount": 1_000_000},
                          content_type="application/json")  # fmt: skip
    assert created.status_code == 201
    expected.refresh_from_db()
    assert expected.status == CollectionStatus.PAID
    allocation = Allocation.objects.get()
    refused = client.post(f"/api/collection/allocations/{allocation.pk}/reverse/", {"reason": ""},
                          content_type="application/json")  # fmt: skip
    assert refused.status_code == 400
