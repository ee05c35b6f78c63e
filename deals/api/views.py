"""Deals API: the same selectors, services and permissions as the screens.

Deals are addressed by number (``2026-0012``) and never deleted. Each pipeline move is a
POST action calling ``deal_transition``; a blocked move answers 409 with exactly the
requirements that are missing. Leaving approval happens only through a decision on the 稟議.
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.downloads import XLSX_CONTENT_TYPE, xlsx_response

from ..choices import Stage
from ..exceptions import DoubleSale, TransitionBlocked
from ..exporting import export_deals_logged
from ..filters import DealFilter
from ..models import ApprovalRequest, Deal, Receivable
from ..selectors import approval_inbox, deal_get, deal_list
from ..services import (
    approval_decide,
    deal_check_clearance,
    deal_check_credit,
    deal_create,
    deal_price,
    deal_transition,
    deal_update,
    receivable_add,
    receivable_remove,
    receivable_update,
)
from ..services.records import UPDATABLE
from .serializers import (
    ApprovalRequestSerializer,
    BlockedSerializer,
    CancelSerializer,
    DealDetailSerializer,
    DealMoveSerializer,
    DealSerializer,
    DecideSerializer,
    DoubleSaleSerializer,
    LoseSerializer,
    PriceSerializer,
    ReceivableSerializer,
)

TRANSITION = ["deals.transition_deal"]
ALL_PARAMETER = OpenApiParameter(
    "all", OpenApiTypes.BOOL, description="Every approval request, not only the caller's inbox."
)
MOVED = {200: DealDetailSerializer, 409: BlockedSerializer}


def _double_sale(error: DoubleSale) -> Response:
    return Response(
        {"detail": str(error.message), "other_deal": error.other_deal.number},
        status=status.HTTP_409_CONFLICT,
    )


class RoutedMethodsOnly:
    """Answer 405 to a method the viewset does not route (PUT, and DELETE where records are
    never hard-deleted) before the permission check would answer 403."""

    def initial(self, request, *args, **kwargs):
        if self.action is None:
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class XlsxRenderer(BaseRenderer):
    """Let a client ask for the register with ``Accept`` or ``?format=xlsx``; the export
    writes its own bytes, so only error answers are rendered here (as JSON)."""

    media_type = XLSX_CONTENT_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class DealViewSet(
    RoutedMethodsOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Deals by number; pipeline moves, pricing and checks are POST actions. No delete."""

    serializer_class = DealDetailSerializer
    filterset_class = DealFilter
    queryset = Deal.objects.none()
    lookup_field = "number"
    lookup_value_regex = r"[0-9]{4}-[0-9]{4,}"
    ordering_fields = ["number", "created_at", "stage_entered_at", "face_value", "advance_amount",
                       "expected_payment_date", "next_action_due"]  # fmt: skip
    action_permissions = {
        "to_documents": TRANSITION, "to_screening": TRANSITION, "to_underwriting": TRANSITION,
        "to_quoted": TRANSITION, "to_approval": TRANSITION, "to_executed": TRANSITION,
        "to_collecting": TRANSITION, "to_closed": TRANSITION, "lose": TRANSITION,
        "cancel": TRANSITION,
        "price": ["deals.change_deal"],
        "check_credit": ["deals.change_deal"],
        "check_clearance": ["deals.change_deal"],
        "export": ["deals.view_deal", "deals.export_deal"],
    }  # fmt: skip

    def get_serializer_class(self):
        return DealSerializer if self.action == "list" else DealDetailSerializer

    def get_queryset(self):
        queryset = deal_list(user=self.request.user)
        if self.action == "list":
            queryset = queryset.prefetch_related("lost_reasons")
        return queryset

    def get_object(self) -> Deal:
        """Return the deal by number: with all its page shows for reads, bare for actions
        (the services lock and re-read it)."""
        number = self.kwargs[self.lookup_field]
        try:
            if self.action == "retrieve":
                deal = deal_get(number=number)
            else:
                deal = Deal.objects.select_related("client").get(number=number)
        except Deal.DoesNotExist:
            raise Http404 from None
        self.check_object_permissions(self.request, deal)
        return deal

    def _detail(self, deal: Deal, code: int = status.HTTP_200_OK) -> Response:
        fresh = deal_get(number=deal.number)
        return Response(DealDetailSerializer(fresh, context=self.get_serializer_context()).data,
                        status=code)  # fmt: skip

    def create(self, request, *args, **kwargs):
        """Open a deal at 新規 (lead) with the next number; ``client`` is a customer id."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deal = deal_create(actor=request.user, **serializer.validated_data)
        return self._detail(deal, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        """Change the fields the deal's stage allows; pricing goes through ``price``."""
        deal = self.get_object()
        serializer = self.get_serializer(deal, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = {k: v for k, v in serializer.validated_data.items() if k in UPDATABLE}
        deal = deal_update(deal=deal, actor=request.user, **fields)
        return self._detail(deal)

    def _move(self, request, to: str, body_class=DealMoveSerializer) -> Response:
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            deal = deal_transition(deal=self.get_object(), actor=request.user, to=to,
                         **body.validated_data)  # fmt: skip
        except TransitionBlocked as error:
            return Response({"detail": str(error.message), "missing": error.missing},
                            status=status.HTTP_409_CONFLICT)  # fmt: skip
        return self._detail(deal)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-documents")
    def to_documents(self, request, number=None):
        """Move a new deal to 書類受領 (documents received)."""
        return self._move(request, Stage.DOCUMENTS)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-screening")
    def to_screening(self, request, number=None):
        """Move the deal to KYC・反社 screening once the receivables are evidenced."""
        return self._move(request, Stage.SCREENING)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-underwriting")
    def to_underwriting(self, request, number=None):
        """Move the deal to 与信審査 once the client and every debtor are cleared."""
        return self._move(request, Stage.UNDERWRITING)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-quoted")
    def to_quoted(self, request, number=None):
        """Move the deal to 見積提示 once rated, priced and limit-checked."""
        return self._move(request, Stage.QUOTED)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-approval")
    def to_approval(self, request, number=None):
        """Send the deal for approval (稟議): opens the approval request at the matrix's level."""
        return self._move(request, Stage.APPROVAL)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-executed")
    def to_executed(self, request, number=None):
        """Record the execution (実行): consumes the reserved exposure."""
        return self._move(request, Stage.EXECUTED)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-collecting")
    def to_collecting(self, request, number=None):
        """Move an executed deal to 回収中 (collecting)."""
        return self._move(request, Stage.COLLECTING)

    @extend_schema(request=DealMoveSerializer, responses=MOVED)
    @action(detail=True, methods=["post"], url_path="to-closed")
    def to_closed(self, request, number=None):
        """Close a collected deal (完了)."""
        return self._move(request, Stage.CLOSED)

    @extend_schema(request=LoseSerializer, responses=MOVED)
    @action(detail=True, methods=["post"])
    def lose(self, request, number=None):
        """Mark an open deal lost (失注) with one to three reason codes."""
        return self._move(request, Stage.LOST, LoseSerializer)

    @extend_schema(request=CancelSerializer, responses=MOVED)
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        """Cancel an open deal, saying why."""
        return self._move(request, Stage.CANCELLED, CancelSerializer)

    @extend_schema(request=PriceSerializer, responses=DealDetailSerializer)
    @action(detail=True, methods=["post"])
    def price(self, request, number=None):
        """Set the fee rate and take the advance rate from the policy (or override it with a
        reason, underwriters only); the funding is recomputed."""
        body = PriceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deal = deal_price(deal=self.get_object(), actor=request.user,
                     **body.validated_data)  # fmt: skip
        return self._detail(deal)

    @extend_schema(request=None, responses=DealDetailSerializer)
    @action(detail=True, methods=["post"], url_path="check-credit")
    def check_credit(self, request, number=None):
        """Check the advance amount against the limits and keep the result with the deal."""
        deal = self.get_object()
        deal_check_credit(deal=deal, actor=request.user)
        return self._detail(deal)

    @extend_schema(request=None, responses=DealDetailSerializer)
    @action(detail=True, methods=["post"], url_path="check-clearance")
    def check_clearance(self, request, number=None):
        """Snapshot the compliance clearance of the client and every debtor."""
        deal = self.get_object()
        deal_check_clearance(deal=deal, actor=request.user)
        return self._detail(deal)

    @extend_schema(
        request=None, filters=True, responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY}
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, XlsxRenderer])
    def export(self, request):
        """Download the 案件台帳 (.xlsx) of the deals the filters select; every export is
        logged."""
        queryset = self.filter_queryset(self.get_queryset())
        data = export_deals_logged(actor=request.user, queryset=queryset,
                                   filters=request.query_params)  # fmt: skip
        return xlsx_response(data, f"案件台帳_{timezone.localdate():%Y%m%d}.xlsx")


class ReceivableFilter(django_filters.FilterSet):
    deal = django_filters.CharFilter(field_name="deal__number", label=_("Deal id"))
    debtor = django_filters.NumberFilter(field_name="debtor_id", label=_("Debtor"))

    class Meta:
        model = Receivable
        fields = ["deal", "debtor"]


class ReceivableViewSet(
    RoutedMethodsOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Purchased invoices; filter by deal number or debtor. A double sale answers 409."""

    serializer_class = ReceivableSerializer
    filterset_class = ReceivableFilter
    queryset = Receivable.objects.select_related("deal", "debtor").order_by(
        "deal_id", "due_date", "pk"
    )
    ordering_fields = ["due_date", "issue_date", "face_amount"]

    @extend_schema(responses={201: ReceivableSerializer, 409: DoubleSaleSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            receivable = receivable_add(deal=data.pop("deal"), actor=request.user, **data)
        except DoubleSale as error:
            return _double_sale(error)
        return Response(self.get_serializer(receivable).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: ReceivableSerializer, 409: DoubleSaleSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Record evidence and verification, or correct the invoice before approval."""
        receivable = self.get_object()
        serializer = self.get_serializer(receivable, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = {k: v for k, v in serializer.validated_data.items() if k != "deal"}
        try:
            receivable = receivable_update(receivable=receivable, actor=request.user,
                               **fields)  # fmt: skip
        except DoubleSale as error:
            return _double_sale(error)
        return Response(self.get_serializer(receivable).data)

    def destroy(self, request, *args, **kwargs):
        """Take an invoice off a deal that is not yet in approval."""
        receivable_remove(receivable=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApprovalViewSet(
    RoutedMethodsOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """稟議: the caller's inbox by default (``?all=1`` for every request); ``decide`` records
    the decision under maker-checker and the authority matrix."""

    serializer_class = ApprovalRequestSerializer
    queryset = ApprovalRequest.objects.none()
    filterset_fields = ["status", "required_level"]
    action_permissions = {"decide": ["deals.decide_approval"]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return ApprovalRequest.objects.none()
        user = self.request.user
        wants_all = self.request.query_params.get("all", "").lower() in ("1", "true", "yes")
        if self.action == "list" and not (
            wants_all and user.has_perm("deals.view_approvalrequest")
        ):
            return approval_inbox(user=user)
        return ApprovalRequest.objects.select_related("deal", "deal__client").order_by(
            "-requested_at", "-pk"
        )

    @extend_schema(parameters=[ALL_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=DecideSerializer, responses=ApprovalRequestSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve, approve with conditions, send back (underwriting / quoted) or reject."""
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval = approval_decide(approval=self.get_object(), actor=request.user,
                         **body.validated_data)  # fmt: skip
        return Response(ApprovalRequestSerializer(approval).data)
