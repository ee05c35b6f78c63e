"""Deal API serializers: one per resource, read-only where the services decide, plus the
bodies of the POST actions and the shapes of their 409 answers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from customers.models import Customer

from ..choices import ApprovalException, Decision, Stage
from ..facts import missing
from ..models import ApprovalRequest, Deal, Receivable
from ..services import available_transitions, next_stage
from ..services.records import UPDATABLE

DEAL_FIELDS = [
    "id", "number", "name", "stage", "stage_display", "stage_entered_at", "owner", "owner_name",
    "department", "channel", "referrer_company", "referrer_person", "campaign", "client",
    "client_name", "scheme", "notice_required", "registration_required",
    "repurchase_trigger_days", "client_size", "fee_rate", "advance_rate", "policy_rate",
    "policy_version", "advance_override_reason", "survey_fee", "registration_fee",
    "scrivener_fee", "transfer_fee", "other_costs", "face_value", "advance_amount", "fee",
    "upfront_payment", "reserve", "total_to_client", "expected_payment_date",
    "expected_collection_date", "credit_result", "credit_checked_at", "clearance_snapshot",
    "clearance_checked_at", "term_sheet_date", "contract_date", "e_contract_id",
    "send_back_reasons", "registration_applied_on", "registration_completed_at",
    "registration_number", "registration_expires_on", "notice_date", "notice_method",
    "notice_reference", "consent_signatory", "defences_waived", "anti_assignment_noted",
    "executed_on", "remittance_account", "executed_amount", "lost_reasons", "lost_note",
    "memo_background", "memo_judgement", "memo_next", "next_action", "next_action_owner",
    "next_action_due", "created_by", "created_at", "updated_at",
]  # fmt: skip
# What a client may send: the fields deal_update accepts, and the client when opening a deal.
WRITABLE = UPDATABLE | {"client"}
_DECLARED = {"stage_display", "owner", "owner_name", "client", "client_name", "other_costs",
             "total_to_client", "lost_reasons"}  # fmt: skip


class RequirementSerializer(serializers.Serializer):
    """One unmet exit requirement of a stage (the requirements table's code and label)."""

    code = serializers.CharField()
    label = serializers.CharField()
    stage = serializers.CharField()


class TransitionOptionSerializer(serializers.Serializer):
    """A move the pipeline offers from the deal's stage, and what still blocks it."""

    to = serializers.CharField()
    label = serializers.CharField()
    allowed = serializers.BooleanField()
    missing = RequirementSerializer(many=True)


class BlockedSerializer(serializers.Serializer):
    """The 409 answer of a blocked move: the message and exactly what is missing."""

    detail = serializers.CharField()
    missing = RequirementSerializer(many=True)


class DoubleSaleSerializer(serializers.Serializer):
    """The 409 answer when the invoice is already sold in another live deal (二重譲渡)."""

    detail = serializers.CharField()
    other_deal = serializers.CharField()


class ReceivableSerializer(serializers.ModelSerializer):
    """A purchased invoice; its deal is given by number and never changes afterwards."""

    deal = serializers.SlugRelatedField(slug_field="number", queryset=Deal.objects.all())
    debtor = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    debtor_name = serializers.CharField(source="debtor.name", read_only=True)
    verification_method_display = serializers.CharField(
        source="get_verification_method_display", read_only=True
    )

    class Meta:
        model = Receivable
        fields = [
            "id", "deal", "debtor", "debtor_name", "invoice_number", "issue_date", "due_date",
            "face_amount", "evidence_received", "verification_method",
            "verification_method_display", "verification_note", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]

    def validate_deal(self, deal: Deal) -> Deal:
        if self.instance is not None and deal.pk != self.instance.deal_id:
            raise serializers.ValidationError(_("A receivable cannot move to another deal."))
        return deal


class DealSerializer(serializers.ModelSerializer):
    """A deal as the list shows it: every field and the funding, no per-row lookups."""

    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False
    )
    owner_name = serializers.StringRelatedField(source="owner")
    client = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    client_name = serializers.CharField(source="client.name", read_only=True)
    other_costs = serializers.IntegerField(read_only=True)
    total_to_client = serializers.IntegerField(read_only=True)
    lost_reasons = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Deal
        fields = DEAL_FIELDS
        read_only_fields = [name for name in DEAL_FIELDS if name not in WRITABLE | _DECLARED]

    def validate_client(self, client: Customer) -> Customer:
        if self.instance is not None and client.pk != self.instance.client_id:
            raise serializers.ValidationError(_("The client of a deal cannot be changed."))
        return client


class DealDetailSerializer(DealSerializer):
    """A deal with its receivables, the moves it offers and what its stage still needs."""

    receivables = ReceivableSerializer(many=True, read_only=True)
    available_transitions = serializers.SerializerMethodField()
    missing_requirements = serializers.SerializerMethodField()

    class Meta(DealSerializer.Meta):
        fields = [*DEAL_FIELDS, "available_transitions", "missing_requirements", "receivables"]

    def _pipeline(self, deal: Deal) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Return the moves and the unmet requirements, evaluating the gates only once."""
        cached = getattr(deal, "_api_pipeline", None)
        if cached is None:
            request = self.context.get("request")
            options = available_transitions(deal, getattr(request, "user", None))
            upcoming = next_stage(deal.stage)
            forward = next((option for option in options if option["to"] == upcoming), None)
            gaps = forward["missing"] if forward is not None else missing(deal)
            cached = deal._api_pipeline = (options, gaps)
        return cached

    @extend_schema_field(TransitionOptionSerializer(many=True))
    def get_available_transitions(self, deal: Deal) -> list[dict[str, Any]]:
        return TransitionOptionSerializer(self._pipeline(deal)[0], many=True).data

    @extend_schema_field(RequirementSerializer(many=True))
    def get_missing_requirements(self, deal: Deal) -> list[dict[str, Any]]:
        return RequirementSerializer(self._pipeline(deal)[1], many=True).data


class DealMoveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class LoseSerializer(serializers.Serializer):
    lost_reasons = serializers.ListField(
        child=serializers.CharField(), min_length=1, max_length=3,
        help_text="One to three lost-reason codes (price, speed, competitor, …).",
    )  # fmt: skip
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    comment = serializers.CharField()


class PriceSerializer(serializers.Serializer):
    """The fee rate; the advance rate comes from the policy unless overridden with a reason."""

    fee_rate = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=0, max_value=1)
    advance_override = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, required=False,
        allow_null=True, default=None,
    )  # fmt: skip
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


# The stages a 稟議 can be sent back to (DESIGN §5): one choice set for request and answer.
SEND_BACK_CHOICES = [(s.value, s.label) for s in (Stage.UNDERWRITING, Stage.QUOTED)]


class ApprovalRequestSerializer(serializers.ModelSerializer):
    """A 稟議 with the summary frozen when approval was asked for, and its decision."""

    deal = serializers.SlugRelatedField(slug_field="number", read_only=True)
    send_back_to = serializers.ChoiceField(choices=SEND_BACK_CHOICES, allow_blank=True,
                                           read_only=True)  # fmt: skip
    deal_name = serializers.CharField(source="deal.name", read_only=True)
    deal_stage = serializers.CharField(source="deal.stage", read_only=True)
    client_name = serializers.CharField(source="deal.client.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "id", "deal", "deal_name", "deal_stage", "client_name", "summary", "amount", "risk",
            "limit_status", "required_level", "status", "status_display", "requested_by",
            "requested_at", "decision", "decided_by", "decided_at", "conditions", "comment",
            "send_back_to", "exception", "exception_reason", "on_behalf_of",
        ]  # fmt: skip
        read_only_fields = fields


class DecideSerializer(serializers.Serializer):
    """The decision on a 稟議; proxy and after-the-fact approvals are recorded exceptions."""

    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    conditions = serializers.CharField(required=False, allow_blank=True, default="")
    send_back_to = serializers.ChoiceField(
        choices=SEND_BACK_CHOICES, required=False, allow_blank=True, default=""
    )
    exception = serializers.ChoiceField(
        choices=[c for c in ApprovalException.choices if c[0]], required=False,
        allow_blank=True, default="",
    )  # fmt: skip
    exception_reason = serializers.CharField(required=False, allow_blank=True, default="")
    on_behalf_of = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True,
        default=None,
    )  # fmt: skip
