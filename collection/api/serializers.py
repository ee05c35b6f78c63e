"""Collection API serializers."""

from __future__ import annotations

from rest_framework import serializers

from ..models import (
    Allocation,
    BankEntry,
    DunningLog,
    ExpectedCollection,
    RepurchaseRequest,
    StatementImport,
)


class StatementImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementImport
        fields = ["id", "file_name", "format", "bank_code", "branch_code", "account_number",
                  "period_start", "period_end", "entries_in_file", "entries_added",
                  "imported_by", "imported_at"]  # fmt: skip


class StatementUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class BankEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = BankEntry
        fields = ["id", "statement", "value_date", "booking_date", "amount", "direction",
                  "payer_name", "raw_payer_name", "description", "edi_info", "cancelled",
                  "status"]  # fmt: skip


class ExpectedCollectionSerializer(serializers.ModelSerializer):
    outstanding = serializers.IntegerField(read_only=True)
    deal_number = serializers.CharField(source="deal.number", read_only=True)
    invoice_number = serializers.CharField(source="receivable.invoice_number", read_only=True)

    class Meta:
        model = ExpectedCollection
        fields = ["receivable", "deal", "deal_number", "invoice_number", "payer", "due_date",
                  "expected_amount", "paid_amount", "fee_amount", "outstanding", "status",
                  "paid_on"]  # fmt: skip


class AllocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Allocation
        fields = ["id", "entry", "expected", "amount", "fee", "confidence", "reasons",
                  "automatic", "created_by", "created_at", "reversed_at", "reversed_by",
                  "reversal_reason"]  # fmt: skip
        read_only_fields = ["confidence", "reasons", "automatic", "created_by", "created_at",
                            "reversed_at", "reversed_by", "reversal_reason"]  # fmt: skip


class ReverseSerializer(serializers.Serializer):
    reason = serializers.CharField()


class DunningSerializer(serializers.ModelSerializer):
    class Meta:
        model = DunningLog
        fields = ["id", "expected", "contacted_on", "method", "person", "agreed",
                  "promise_date", "promise_amount", "recorded_by", "recorded_at"]  # fmt: skip
        read_only_fields = ["recorded_by", "recorded_at"]


class RepurchaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = RepurchaseRequest
        fields = ["id", "expected", "client", "amount", "status", "opened_on", "days_overdue",
                  "settled_on", "note"]  # fmt: skip
