"""Alerts over the API: the same selectors, services and permissions as the inbox."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.filters import AlertFilter
from core.models import Alert
from core.selectors import alert_list
from core.services import alert_acknowledge, alert_resolve

from .permissions import ModelPermissions
from .serializers import AlertSerializer, ResolveSerializer


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts the caller may see; acknowledge and resolve are POST actions."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    queryset = Alert.objects.none()
    permission_classes = [IsAuthenticated, ModelPermissions]
    ordering_fields = ["created_at", "due_date", "severity"]
    action_permissions = {"acknowledge": ["core.change_alert"], "resolve": ["core.change_alert"]}

    def get_queryset(self):
        return alert_list(user=self.request.user, request=self.request)

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = alert_acknowledge(alert=self.get_object(), actor=request.user)
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=ResolveSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alert = alert_resolve(
            alert=self.get_object(), actor=request.user, note=body.validated_data["note"]
        )
        return Response(AlertSerializer(alert).data)
