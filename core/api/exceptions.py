"""Turn domain errors into 4xx answers with their Japanese message.

Services raise Django's ``ValidationError`` (field by field) and ``DomainError``; API views
call them directly and this handler gives both their HTTP answer, so no view wraps them.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc.message)}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(getattr(exc, "message_dict", {"detail": exc.messages}))
    return drf_exception_handler(exc, context)
