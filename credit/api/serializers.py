"""Credit API serializers: one per resource, read-only fields where services decide."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from customers.models import Customer

from ..choices import ClientSize, Grade, LimitKind, Scheme
from ..models import CreditLimit, Exposure, ExposureEntry, Rating


class RatingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rating
        fields = [
            "id", "counterparty", "grade", "previous_grade", "internal_score", "agency",
            "agency_score", "agency_scored_on", "rationale", "rated_by", "rated_at",
        ]  # fmt: skip
        read_only_fields = ["previous_grade", "rated_by", "rated_at"]


class CreditLimitSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditLimit
        fields = [
            "id", "counterparty", "kind", "amount", "max_share", "valid_from", "valid_until",
            "review_date", "status", "rationale", "recommended_amount", "recommended_by_method",
            "required_level", "proposed_by", "proposed_at", "decided_by", "decided_at",
            "decision_comment", "suspended_at", "suspension_reason",
        ]  # fmt: skip
        read_only_fields = [
            "status", "recommended_amount", "recommended_by_method", "required_level",
            "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_comment",
            "suspended_at", "suspension_reason",
        ]  # fmt: skip


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ExposureSerializer(serializers.ModelSerializer):
    client_total = serializers.IntegerField(read_only=True)
    debtor_total = serializers.IntegerField(read_only=True)
    group_total = serializers.IntegerField(read_only=True)

    class Meta:
        model = Exposure
        fields = [
            "counterparty", "client_reserved", "client_consumed", "client_total",
            "debtor_reserved", "debtor_consumed", "debtor_total", "group_reserved",
            "group_consumed", "group_total", "worst_delay_days", "updated_at",
        ]  # fmt: skip


class ExposureEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ExposureEntry
        fields = [
            "id", "counterparty", "debtor", "reference", "kind", "amount", "reserved_change",
            "consumed_change", "note", "created_by", "actor_label", "created_at",
        ]  # fmt: skip


class LimitLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    counterparty_id = serializers.IntegerField()
    counterparty_name = serializers.CharField()
    limit_id = serializers.IntegerField(allow_null=True)
    limit = serializers.IntegerField(allow_null=True)
    exposure = serializers.IntegerField()
    requested = serializers.IntegerField()
    after = serializers.IntegerField()
    headroom = serializers.IntegerField()
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class LimitCheckSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    status = serializers.CharField()
    allowed = serializers.BooleanField()
    overridable = serializers.BooleanField()
    headroom = serializers.IntegerField()
    required_level = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    lines = LimitLineSerializer(many=True)


class LimitCheckRequestSerializer(serializers.Serializer):
    counterparty = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    amount = serializers.IntegerField(min_value=0)
    debtor = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )


class ExposureViewSerializer(serializers.Serializer):
    exposure = ExposureSerializer()
    limits = serializers.ListField(child=serializers.DictField())
    status = serializers.CharField(allow_blank=True)


class FundingRequestSerializer(serializers.Serializer):
    """Either give ``advance_rate`` or the five factors (the active policy decides the rate)."""

    face_value = serializers.IntegerField(min_value=0)
    fee_rate = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=0, max_value=1)
    other_costs = serializers.IntegerField(min_value=0, default=0)
    advance_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, required=False
    )
    scheme = serializers.ChoiceField(choices=Scheme.choices, required=False)
    registered = serializers.BooleanField(required=False, default=False)
    debtor_rating = serializers.ChoiceField(choices=Grade.choices, required=False)
    client_size = serializers.ChoiceField(choices=ClientSize.choices, required=False)
    prior_deals = serializers.IntegerField(min_value=0, required=False, default=0)

    def validate(self, attrs):
        if attrs.get("advance_rate") is None:
            missing = [f for f in ("scheme", "debtor_rating", "client_size") if f not in attrs]
            if missing:
                raise serializers.ValidationError(
                    {name: _("Required when advance_rate is not given.") for name in missing}
                )
        return attrs


class FundingSerializer(serializers.Serializer):
    face_value = serializers.IntegerField()
    advance_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    fee_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    advance_amount = serializers.IntegerField()
    fee = serializers.IntegerField()
    other_costs = serializers.IntegerField()
    upfront_payment = serializers.IntegerField()
    reserve = serializers.IntegerField()
    total_to_client = serializers.IntegerField()
    policy_version = serializers.IntegerField(allow_null=True)
    factors = serializers.ListField(child=serializers.DictField(), required=False)


class LimitProposeSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=LimitKind.choices)

    class Meta:
        model = CreditLimit
        fields = [
            "counterparty", "kind", "amount", "max_share", "valid_from", "valid_until",
            "review_date", "rationale",
        ]  # fmt: skip
