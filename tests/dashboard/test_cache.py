"""The dashboard's figures come from the cache until something is written (an audit event),
then are computed again — a manager never sees figures older than the last write."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.audit import audit_log
from dashboard.assumptions import default_assumptions
from dashboard.selectors import cached_dashboard_data
from deals.models import Deal

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def real_cache():
    with override_settings(CACHES=LOCMEM):
        cache.clear()
        yield
        cache.clear()


def _load(world, assumptions=None):
    with CaptureQueriesContext(connection) as queries:
        data = cached_dashboard_data(world.filters, assumptions or default_assumptions(),
                                     today=world.today)  # fmt: skip
    return data, len(queries)


def test_a_second_load_reads_the_cache_and_a_write_recomputes(dashboard_world, real_cache):
    first, computed = _load(dashboard_world)
    again, cached = _load(dashboard_world)
    assert cached == 1 < computed  # only the data version is read
    assert again.figure("executed_amount").value == first.figure("executed_amount").value
    deal = Deal.objects.filter(executed_on__isnull=False, executed_on__gte=dashboard_world.today
                               .replace(day=1)).first()  # fmt: skip
    Deal.objects.filter(pk=deal.pk).update(executed_amount=(deal.executed_amount or 0) + 1_000)
    audit_log(actor=None, actor_label="test", action="deal.updated", subject=deal)
    after, recomputed = _load(dashboard_world)
    assert recomputed == computed
    assert after.figure("executed_amount").value == first.figure("executed_amount").value + 1_000


def test_other_filters_or_assumptions_are_other_entries(dashboard_world, real_cache):
    _load(dashboard_world)
    edited = default_assumptions()
    edited = type(edited)(pd_by_rating=edited.pd_by_rating, lgd=edited.lgd * 2,
                          stage_probability=edited.stage_probability)  # fmt: skip
    data, count = _load(dashboard_world, edited)
    assert count > 1
    assert data.expected_loss.total == 2 * 92_250
