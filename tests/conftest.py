"""Shared fixtures: users per role, the deal desk, and clear skips when PostgreSQL or Redis
are absent."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from accounts.roles import ROLE_CODES
from tests.deals.desk import Desk
from tests.factories import UserFactory


@pytest.fixture
def make_user(db):
    """Return a function creating a user holding the given roles."""

    def make(*roles: str, **fields):
        return UserFactory(roles=list(roles), **fields)

    return make


@pytest.fixture
def desk(make_user) -> Desk:
    """Return a desk of users (sales, underwriter, operations, approver) working deals."""
    return Desk(make_user)


@pytest.fixture(params=ROLE_CODES)
def role(request) -> str:
    """Parametrise a test over every role of DESIGN §1."""
    return request.param


@pytest.fixture
def role_client(client, make_user):
    """Return a function logging the test client in as a fresh user of ``role``."""

    def login(role: str, **fields):
        user = make_user(role, **fields)
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def requires_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (the CI run does)")


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL (the CI run does)")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis at {url} does not answer: {error}")
    return url
