"""Deal test fixtures."""

import pytest

from .desk import Desk


@pytest.fixture
def desk(make_user) -> Desk:
    """Return a desk of users (sales, underwriter, operations, approver) working deals."""
    return Desk(make_user)
