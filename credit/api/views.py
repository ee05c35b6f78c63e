"""Credit API: ratings, limits (propose / approve / reject), exposure and headroom, the limit
check and the funding calculation — the same services, selectors and permissions as the
screens."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import HasPerms
from customers.models import Customer

from ..calculations import explain_advance_rate, funding_breakdown
from ..models import CreditLimit, Exposure, ExposureEntry, Rating
from ..selectors import active_policy, counterparty_credit
from ..services import check_limit, limit_approve, limit_propose, limit_reject, rating_record
from .serializers import (
    CreditLimitSerializer,
    DecisionSerializer,
    ExposureEntrySerializer,
    ExposureSerializer,
    ExposureViewSerializer,
    FundingRequestSerializer,
    FundingSerializer,
    LimitCheckRequestSerializer,
    LimitCheckSerializer,
    LimitProposeSerializer,
    RatingSerializer,
)


class RatingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Rating history per counterparty; creating one records a new current grade."""

    serializer_class = RatingSerializer
    queryset = Rating.objects.order_by("-rated_at", "-pk")
    filterset_fields = ["counterparty", "grade"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rating = rating_record(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(rating).data, status=status.HTTP_201_CREATED)


class CreditLimitViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Limits; POST proposes one, `approve` / `reject` decide it (maker-checker, authority)."""

    serializer_class = CreditLimitSerializer
    queryset = CreditLimit.objects.order_by("-proposed_at", "-pk")
    filterset_fields = ["counterparty", "kind", "status"]
    action_permissions = {
        "approve": ["credit.approve_creditlimit"],
        "reject": ["credit.approve_creditlimit"],
    }

    @extend_schema(request=LimitProposeSerializer, responses=CreditLimitSerializer)
    def create(self, request, *args, **kwargs):
        body = LimitProposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        limit = limit_propose(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(limit).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, service):
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        limit = service(limit=self.get_object(), actor=request.user,
                      comment=body.validated_data["comment"])  # fmt: skip
        return Response(self.get_serializer(limit).data)

    @extend_schema(request=DecisionSerializer, responses=CreditLimitSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, limit_approve)

    @extend_schema(request=DecisionSerializer, responses=CreditLimitSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, limit_reject)


class ExposureView(APIView):
    """A counterparty's balances, live limits, headroom and traffic light."""

    queryset = Exposure.objects.none()

    @extend_schema(responses=ExposureViewSerializer)
    def get(self, request, customer_id: int):
        customer = get_object_or_404(Customer, pk=customer_id)
        credit = counterparty_credit(customer)
        rows = credit.limits + ([credit.group_limit] if credit.group_limit else [])
        return Response({
            "exposure": ExposureSerializer(credit.exposure).data,
            "limits": [
                {"id": row.limit.pk, "kind": row.limit.kind, "counterparty": row.limit.counterparty_id,
                 "amount": row.limit.amount, "status": row.limit.status,
                 "exposure": row.exposure, "headroom": row.headroom, "light": row.status}
                for row in rows
            ],
            "status": credit.status,
        })  # fmt: skip


class ExposureEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only ledger (filter by counterparty, debtor or reference)."""

    serializer_class = ExposureEntrySerializer
    queryset = ExposureEntry.objects.order_by("-created_at", "-pk")
    filterset_fields = ["counterparty", "debtor", "reference", "kind"]


class CheckLimitView(APIView):
    """Does an amount fit? Each limit touched, headroom, and the approver level it needs."""

    permission_classes = [HasPerms]
    required_perms = ["credit.view_creditlimit"]

    @extend_schema(request=LimitCheckRequestSerializer, responses=LimitCheckSerializer)
    def post(self, request):
        body = LimitCheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        check = check_limit(data["counterparty"], data["amount"], data.get("debtor"))
        return Response(LimitCheckSerializer(check.as_dict()).data)


class FundingView(APIView):
    """The funding breakdown of DESIGN §5 for a face value, rate and fee."""

    permission_classes = [HasPerms]
    required_perms = ["credit.view_advanceratepolicy"]

    @extend_schema(request=FundingRequestSerializer, responses=FundingSerializer)
    def post(self, request):
        body = FundingRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        factors, version = [], None
        rate = data.get("advance_rate")
        if rate is None:
            policy = active_policy()
            explanation = explain_advance_rate(
                scheme=data["scheme"], registered=data["registered"],
                debtor_rating=data["debtor_rating"], client_size=data["client_size"],
                prior_deals=data["prior_deals"], policy=policy.as_policy(),
            )  # fmt: skip
            rate, version = explanation.rate, policy.version
            factors = [
                {"factor": f.factor, "value": f.value, "adjustment": str(f.adjustment)}
                for f in explanation.factors
            ]
        breakdown = funding_breakdown(
            data["face_value"], rate, data["fee_rate"], data["other_costs"]
        )
        payload = {**breakdown.__dict__, "policy_version": version, "factors": factors}
        return Response(FundingSerializer(payload).data)
