"""Collection test fixtures: the deal desk of tests/deals, to take deals to execution."""

import pytest

from tests.deals.desk import Desk


@pytest.fixture
def desk(make_user) -> Desk:
    return Desk(make_user)
