"""Compliance API: same services, selectors and permissions as the screens."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.models import ConnectionApproval, KycRecord, ScreeningHit, ScreeningRun
from compliance.selectors import clearance
from compliance.services import (
    connection_create,
    connection_transition,
    hit_review,
    kyc_record_create,
)
from customers.models import Customer

from .serializers import (
    ClearanceSerializer,
    ConnectionApprovalSerializer,
    HitReviewSerializer,
    KycRecordSerializer,
    ScreeningHitSerializer,
    ScreeningRunSerializer,
    TransitionSerializer,
)


class KycRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = KycRecordSerializer
    queryset = KycRecord.objects.order_by("-verified_on", "-id")
    filterset_fields = ["customer", "person", "result", "risk"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = kyc_record_create(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)


class ScreeningRunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScreeningRunSerializer
    queryset = ScreeningRun.objects.order_by("-started_at")
    filterset_fields = ["customer"]


class ScreeningHitViewSet(viewsets.ReadOnlyModelViewSet):
    """Hits; `review` records the decision (compliance staff only)."""

    serializer_class = ScreeningHitSerializer
    queryset = ScreeningHit.objects.select_related("entry", "entry__watchlist").order_by(
        "status", "-score"
    )
    filterset_fields = ["customer", "status"]
    action_permissions = {"review": ["compliance.review_screeninghit"]}

    @extend_schema(request=HitReviewSerializer, responses=ScreeningHitSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        body = HitReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hit = hit_review(hit=self.get_object(), actor=request.user, **body.validated_data)
        return Response(ScreeningHitSerializer(hit).data)


class ClearanceView(APIView):
    """Cleared or not, with every reason: the gate deals use."""

    queryset = KycRecord.objects.none()  # view permission on KYC records is required

    @extend_schema(responses=ClearanceSerializer)
    def get(self, request, customer_id: int):
        customer = get_object_or_404(Customer, pk=customer_id)
        result = clearance(customer)
        data = {
            "customer": customer.pk,
            "cleared": result.cleared,
            "reasons": [{"code": r.code, "message": r.message} for r in result.reasons],
            "kyc_expires_on": result.kyc.expires_on if result.kyc else None,
            "screened_at": result.screened_at,
        }
        return Response(ClearanceSerializer(data).data)


class ConnectionApprovalViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ConnectionApprovalSerializer
    queryset = ConnectionApproval.objects.order_by("name")
    filterset_fields = ["status", "kind"]
    action_permissions = {"transition": ["compliance.change_connectionapproval"]}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connection = connection_create(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(connection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TransitionSerializer, responses=ConnectionApprovalSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        connection = connection_transition(
            connection=self.get_object(),
            actor=request.user,
            **body.validated_data,
        )
        return Response(self.get_serializer(connection).data)
