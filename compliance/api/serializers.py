from rest_framework import serializers

from compliance.choices import HitStatus
from compliance.models import ConnectionApproval, KycRecord, ScreeningHit, ScreeningRun


class KycRecordSerializer(serializers.ModelSerializer):
    document_number = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = KycRecord
        fields = [
            "id", "customer", "person", "method", "document_type", "document_number",
            "document_number_masked", "verified_on", "verified_by", "result", "risk", "expires_on",
            "beneficial_owners_identified", "notes",
        ]  # fmt: skip
        read_only_fields = ["document_number_masked", "verified_by", "expires_on"]


class ScreeningRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScreeningRun
        fields = [
            "id",
            "customer",
            "run_label",
            "started_at",
            "list_versions",
            "subjects",
            "hits_opened",
            "suppressed",
        ]
        read_only_fields = fields


class ScreeningHitSerializer(serializers.ModelSerializer):
    entry_name = serializers.CharField(source="entry.name", read_only=True)
    watchlist = serializers.CharField(source="entry.watchlist.name", read_only=True)

    class Meta:
        model = ScreeningHit
        fields = [
            "id", "run", "customer", "person", "subject_name", "entry", "entry_name", "watchlist",
            "score", "reasons", "status", "reviewed_by", "reviewed_at", "review_reason", "evidence",
        ]  # fmt: skip
        read_only_fields = fields


class HitReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[HitStatus.TRUE_MATCH, HitStatus.FALSE_POSITIVE])
    reason = serializers.CharField()
    evidence = serializers.CharField(required=False, allow_blank=True, default="")


class ClearanceSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    cleared = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.DictField())
    kyc_expires_on = serializers.DateField(allow_null=True)
    screened_at = serializers.DateTimeField(allow_null=True)


class ConnectionApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConnectionApproval
        fields = [
            "id", "name", "kind", "purpose", "data_scope", "counterparty", "method", "permitted_scopes",
            "allowed_ips", "certificate_subject", "certificate_expires_on", "credentials_ref",
            "approval_number", "status", "valid_until", "responsible",
        ]  # fmt: skip
        read_only_fields = ["status"]


class TransitionSerializer(serializers.Serializer):
    transition = serializers.CharField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")
