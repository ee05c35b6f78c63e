"""update_rows: each row gets its own values, nulls and dates included, others untouched."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from core.bulk import update_rows

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_other_rows_are_untouched(make_user):
    users = [make_user("sales") for _ in range(3)]
    bystander = make_user("sales")
    when = datetime(2026, 4, 30, 9, 0, tzinfo=UTC)
    for n, user in enumerate(users):
        user.first_name = f"名{n}"
        user.last_login = when if n != 1 else None
    update_rows(get_user_model(), users, ["first_name", "last_login"])
    rows = get_user_model().objects.in_bulk([u.pk for u in [*users, bystander]])
    assert [rows[u.pk].first_name for u in users] == ["名0", "名1", "名2"]
    assert [rows[u.pk].last_login for u in users] == [when, None, when]
    assert rows[bystander.pk].first_name == bystander.first_name


def test_nothing_to_update_is_fine(db):
    update_rows(get_user_model(), [], ["first_name"])
