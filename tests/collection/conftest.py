"""Collection test fixtures."""

from datetime import date

import pytest
from django.utils import timezone


@pytest.fixture
def today() -> date:
    return timezone.localdate()
