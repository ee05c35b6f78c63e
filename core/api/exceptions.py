"""Turn domain errors into 4xx answers with their Japanese message."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc.message)}, status=exc.status_code)
    return drf_exception_handler(exc, context)
