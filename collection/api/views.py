"""Collection API: statements (upload), entries, receivables with status, allocations
(create / reverse), overdue, dunning and repurchases — same services and permissions as
the screens."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from ..models import (
    Allocation,
    BankEntry,
    DunningLog,
    ExpectedCollection,
    RepurchaseRequest,
    StatementImport,
)
from ..selectors import overdue_list, receivable_ledger
from ..services import allocate, allocation_reverse, statement_import
from ..services.recovery import dunning_record
from ..zengin import StatementError
from .serializers import (
    AllocationSerializer,
    BankEntrySerializer,
    DunningSerializer,
    ExpectedCollectionSerializer,
    RepurchaseSerializer,
    ReverseSerializer,
    StatementImportSerializer,
    StatementUploadSerializer,
)


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, viewsets.GenericViewSet):  # fmt: skip
    """Imported statements; POST a 全銀 file (multipart ``file``) to import it."""

    serializer_class = StatementImportSerializer
    queryset = StatementImport.objects.order_by("-imported_at", "-pk")
    parser_classes = [MultiPartParser]

    @extend_schema(request=StatementUploadSerializer, responses=StatementImportSerializer)
    def create(self, request, *args, **kwargs):
        body = StatementUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        try:
            result = statement_import(data=upload.read(), file_name=upload.name,
                                      actor=request.user)  # fmt: skip
        except StatementError as error:
            raise ValidationError({"file": [p.text for p in error.problems]}) from error
        if result.already_imported:
            return Response({"detail": "already imported", "entries_added": 0})
        return Response(self.get_serializer(result.statement).data, status=status.HTTP_201_CREATED)


class BankEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BankEntrySerializer
    queryset = BankEntry.objects.order_by("-value_date", "-pk")
    filterset_fields = ["status", "statement", "direction"]


class ExpectedCollectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Receivables with their collection status (derived from allocations)."""

    serializer_class = ExpectedCollectionSerializer
    queryset = ExpectedCollection.objects.none()  # view permission on expected collections

    def get_queryset(self):
        return receivable_ledger(self.request.query_params).select_related("deal", "receivable")

    @action(detail=False, methods=["get"])
    def overdue(self, request):
        rows = overdue_list(timezone.localdate(), request.query_params.get("bucket") or None)
        page = self.paginate_queryset(rows.select_related("deal", "receivable"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AllocationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, viewsets.GenericViewSet):  # fmt: skip
    """Allocations (消込); POST applies part of an entry, `reverse` takes one back."""

    serializer_class = AllocationSerializer
    queryset = Allocation.objects.order_by("-created_at", "-pk")
    filterset_fields = ["entry", "expected"]
    action_permissions = {"reverse": ["collection.change_allocation"]}

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        allocation = allocate(entry=data["entry"], expected=data["expected"],
                           amount=data["amount"], fee=data.get("fee", 0), actor=request.user)  # fmt: skip
        return Response(self.get_serializer(allocation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReverseSerializer, responses=AllocationSerializer)
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        body = ReverseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        allocation = allocation_reverse(allocation=self.get_object(), actor=request.user,
                           reason=body.validated_data["reason"])  # fmt: skip
        return Response(self.get_serializer(allocation).data)


class DunningViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = DunningSerializer
    queryset = DunningLog.objects.order_by("-contacted_on", "-pk")
    filterset_fields = ["expected"]

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = dunning_record(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)


class RepurchaseViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RepurchaseSerializer
    queryset = RepurchaseRequest.objects.order_by("-opened_on", "-pk")
    filterset_fields = ["status", "client"]
