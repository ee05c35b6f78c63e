"""GET /api/dashboard/ (every KPI as JSON) and GET /api/dashboard/drill/?key=… (the paged
deals or receivables behind one figure); same GET filters as the screen; managers only."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import StandardPagination
from core.api.permissions import HasPerms

from .. import views as screen
from ..assumptions import Assumptions
from ..filters import DashboardFilterForm
from ..selectors import (
    DrillError,
    cached_dashboard_data,
    drill_deals,
    drill_receivables,
    is_receivable_drill,
)
from .serializers import dashboard_json, deal_row, receivable_row

FILTER_PARAMETERS = [
    OpenApiParameter("period", str, enum=["month", "quarter", "fiscal_year", "custom"],
                     description="Reporting period (default: this month)."),
    OpenApiParameter("anchor", str, description="YYYY-MM: the month, or any month of the "
                     "quarter / fiscal year."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="Custom range start."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Custom range end (inclusive)."),
    *(OpenApiParameter(name, str) for name in ("channel", "industry", "scheme", "amount_band",
                                               "debtor_rating", "department", "group_by")),
    OpenApiParameter("owner", int, description="Owner user id."),
]  # fmt: skip


def _filters(request: Request):
    today = screen.as_of()
    return DashboardFilterForm(request.query_params).to_filters(today), today


def _assumptions(request: Request) -> Assumptions:
    """The manager's edited assumptions, kept in the session by the screen."""
    return screen.session_assumptions(getattr(request, "session", None))[0]


class DashboardView(APIView):
    """Every KPI of the dashboard, its previous-period value and its drill-down key."""

    permission_classes = [IsAuthenticated, HasPerms]
    required_perms = [screen.PERMISSION]

    @extend_schema(parameters=FILTER_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        filters, today = _filters(request)
        return Response(dashboard_json(cached_dashboard_data(filters, _assumptions(request),
                                                      today=today)))  # fmt: skip


class DrillView(APIView):
    """The deals or receivables behind one figure, paged (50 a page, ?page_size= up to 500)."""

    permission_classes = [IsAuthenticated, HasPerms]
    required_perms = [screen.PERMISSION]

    @extend_schema(
        parameters=[OpenApiParameter("key", str, required=True,
                                     description="Drill-down key of a figure, e.g. "
                                     "executed, stage:quoted, bucket:4-30."),
                    OpenApiParameter("page", int), OpenApiParameter("page_size", int),
                    *FILTER_PARAMETERS],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        filters, today = _filters(request)
        key = request.query_params.get("key", "")
        try:
            if is_receivable_drill(key):
                rows, to_row, kind = (
                    drill_receivables(filters, key, today=today),
                    receivable_row,
                    "receivables",
                )
            else:
                rows, to_row, kind = drill_deals(filters, key, today=today), deal_row, "deals"
        except DrillError as error:
            raise ValidationError({"key": [f"unknown drill-down key: {key}"]}) from error
        paginator = StandardPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response([to_row(r) for r in page])
        response.data["kind"] = kind
        response.data["key"] = key
        return response
