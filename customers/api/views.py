"""Customer API: the same selectors, services and permissions as the screens; no hard delete."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.audit import audit_log
from customers.choices import DOUBLE_CHECKED_ROLES
from customers.exceptions import DuplicateCustomerError
from customers.filters import CustomerFilter
from customers.models import BankAccount, ContactLog, Customer, KeyPerson
from customers.selectors import customer_list
from customers.services import (
    bank_account_request,
    contact_log_add,
    customer_create,
    customer_update,
    person_add,
    person_request,
)

from .serializers import (
    BankAccountRequestSerializer,
    BankAccountSerializer,
    ChangeRequestSerializer,
    ContactLogSerializer,
    CustomerSerializer,
    KeyPersonSerializer,
)


class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers; `?q=` searches through the 名寄せ key, so any spelling of a name finds it."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    queryset = Customer.objects.none()
    action_permissions = {"request_bank_account": ["customers.add_changerequest"]}

    def get_queryset(self):
        return customer_list(user=self.request.user).prefetch_related("transfer_names")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            customer = customer_create(actor=request.user, **serializer.validated_data)
        except DuplicateCustomerError as error:
            return _conflict(error)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            customer = customer_update(
                customer=customer, actor=request.user, **serializer.validated_data
            )
        except DuplicateCustomerError as error:
            return _conflict(error)
        return Response(self.get_serializer(customer).data)

    @extend_schema(request=BankAccountRequestSerializer, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"], url_path="bank-accounts")
    def request_bank_account(self, request, pk=None):
        """Ask for a new bank account; it takes effect when a second person approves it."""
        body = BankAccountRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change = bank_account_request(
            customer=self.get_object(),
            actor=request.user,
            **body.validated_data,
        )
        return Response(ChangeRequestSerializer(change).data, status=status.HTTP_202_ACCEPTED)


def _conflict(error: DuplicateCustomerError) -> Response:
    return Response(
        {"detail": str(error.message), "existing_id": error.existing.pk, "field": error.field},
        status=status.HTTP_409_CONFLICT,
    )


class KeyPersonViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Key persons of the customers; representatives and owners are created as change requests."""

    serializer_class = KeyPersonSerializer
    queryset = KeyPerson.objects.select_related("customer").order_by("customer_id", "role", "id")
    filterset_fields = ["customer", "role"]

    def finalize_response(self, request, response, *args, **kwargs):
        """Log every response that carried unmasked personal data."""
        if (
            request.method == "GET"
            and response.status_code == 200
            and request.user.has_perm("customers.view_personal_data")
        ):
            rows = (
                response.data.get("results", [response.data])
                if isinstance(response.data, dict)
                else []
            )
            ids = [row["id"] for row in rows if "id" in row]
            if ids:
                audit_log(
                    actor=request.user,
                    action="customer.personal_data_viewed",
                    data={"person_ids": ids, "via": "api"},
                )
        return super().finalize_response(request, response, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = get_object_or_404(Customer, pk=request.data.get("customer"))
        data = serializer.validated_data
        if data["role"] in DOUBLE_CHECKED_ROLES:
            if not request.user.has_perm("customers.add_changerequest"):
                raise PermissionDenied
            change = person_request(customer=customer, actor=request.user, **data)
            return Response(ChangeRequestSerializer(change).data, status=status.HTTP_202_ACCEPTED)
        person = person_add(customer=customer, actor=request.user, **data)
        return Response(self.get_serializer(person).data, status=status.HTTP_201_CREATED)


class BankAccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Bank accounts in effect (approved); changes go through POST customers/{id}/bank-accounts/."""

    serializer_class = BankAccountSerializer
    queryset = BankAccount.objects.order_by("customer_id", "id")
    filterset_fields = ["customer", "bank_code", "is_active"]


class ContactLogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ContactLogSerializer
    queryset = ContactLog.objects.order_by("-occurred_at")
    filterset_fields = ["customer", "channel"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = get_object_or_404(Customer, pk=request.data.get("customer"))
        entry = contact_log_add(customer=customer, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)
