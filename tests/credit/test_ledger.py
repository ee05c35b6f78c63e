"""The exposure ledger: reserve, consume, release, adjust and the limit check they share.

After every write the balances (``Exposure``) must equal the sums of the ledger entries, and a
refused write must leave neither an entry nor a changed balance.
"""

from datetime import timedelta
from decimal import Decimal
from random import Random

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.exceptions import PermissionDeniedError
from core.models import AuditEvent
from credit.choices import EntryKind, LimitKind, LimitStatus
from credit.exceptions import LimitExceeded, NothingToRelease
from credit.models import Exposure, ExposureEntry
from credit.services import (
    Escalation,
    ReleaseRequest,
    adjust,
    check_limit,
    consume,
    release,
    release_many,
    reserve,
)
from customers.models import Customer
from tests.factories import CreditLimitFactory, CustomerFactory, UserFactory

M = 1_000_000
BALANCES = (
    "client_reserved",
    "client_consumed",
    "debtor_reserved",
    "debtor_consumed",
    "group_reserved",
    "group_consumed",
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------ helpers


@pytest.fixture
def actor():
    return UserFactory(roles=["underwriter"])


def client_with_limit(amount: int = 10 * M, *, parent=None, **limit_fields) -> Customer:
    party = CustomerFactory(parent=parent)
    CreditLimitFactory(counterparty=party, kind=LimitKind.CLIENT, amount=amount, **limit_fields)
    return party


def debtor_with_limit(amount: int = 10 * M, **limit_fields) -> Customer:
    party = CustomerFactory(is_debtor=True, is_client=False)
    CreditLimitFactory(counterparty=party, kind=LimitKind.DEBTOR, amount=amount, **limit_fields)
    return party


def balances(party: Customer) -> dict[str, int]:
    row = Exposure.objects.filter(pk=party.pk).first() or Exposure()
    return {name: getattr(row, name) for name in BALANCES}


def ledger_state() -> tuple[list, list]:
    """Return every entry and every balance row, to prove a refused write changed nothing."""
    entries = list(ExposureEntry.objects.order_by("pk").values_list("pk", flat=True))
    rows = list(Exposure.objects.order_by("pk").values_list("pk", *BALANCES))
    return entries, rows


def assert_balances_match_the_ledger() -> None:
    """Every balance row equals the sums of the entries it stands for: ``client_*`` the
    entries it sold, ``debtor_*`` those it owes, ``group_*`` those its descendants sold."""

    def sums(field: str) -> dict[int, tuple[int, int]]:
        rows = (
            ExposureEntry.objects.filter(**{f"{field}__isnull": False})
            .values(field)
            .annotate(r=Sum("reserved_change"), c=Sum("consumed_change"))
            .order_by()
        )
        return {row[field]: (int(row["r"]), int(row["c"])) for row in rows}

    as_client, as_debtor = sums("counterparty"), sums("debtor")
    parents = dict(Customer.objects.filter(parent__isnull=False).values_list("pk", "parent"))
    as_group: dict[int, tuple[int, int]] = {}
    for party, (reserved, consumed) in as_client.items():
        ancestor = parents.get(party)
        while ancestor is not None:
            r, c = as_group.get(ancestor, (0, 0))
            as_group[ancestor] = (r + reserved, c + consumed)
            ancestor = parents.get(ancestor)
    rows = {row.pk: row for row in Exposure.objects.all()}
    for pk in {*rows, *as_client, *as_debtor, *as_group}:
        expected = (
            *as_client.get(pk, (0, 0)),
            *as_debtor.get(pk, (0, 0)),
            *as_group.get(pk, (0, 0)),
        )
        actual = tuple(getattr(rows.get(pk) or Exposure(), name) for name in BALANCES)
        assert actual == expected, f"party {pk}: balances {actual} != ledger {expected}"
        assert all(value >= 0 for value in actual)


@pytest.fixture(autouse=True)
def _ledger_and_balances_agree_after_each_test(db):
    yield
    assert_balances_match_the_ledger()


# ------------------------------------------------------------------------------ reserve


class TestReserve:
    def test_moves_the_client_and_debtor_balances_and_appends_one_entry(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        check = reserve(counterparty=client, amount=3 * M, reference="D-1", actor=actor,
                        debtor=debtor)  # fmt: skip
        assert check.status == "green"
        assert balances(client)["client_reserved"] == 3 * M
        assert balances(debtor)["debtor_reserved"] == 3 * M
        entry = ExposureEntry.objects.get()
        assert (entry.kind, entry.amount, entry.reserved_change, entry.consumed_change) == (
            EntryKind.RESERVE, 3 * M, 3 * M, 0,
        )  # fmt: skip
        assert (entry.counterparty, entry.debtor, entry.reference) == (client, debtor, "D-1")
        assert entry.created_by == actor

    def test_leaves_an_audit_event(self, actor):
        client = client_with_limit()
        reserve(counterparty=client, amount=M, reference="D-1", actor=actor)
        event = AuditEvent.objects.get(action="credit.reserved")
        assert event.actor == actor
        assert event.data["amount"] == M and event.data["reference"] == "D-1"

    def test_accepts_an_amount_that_fills_the_limit_exactly(self, actor):
        client = client_with_limit(10 * M)
        check = reserve(counterparty=client, amount=10 * M, reference="D-1", actor=actor)
        assert check.status == "yellow"
        assert balances(client)["client_reserved"] == 10 * M

    def test_refuses_an_amount_over_the_client_limit_and_writes_nothing(self, actor):
        client = client_with_limit(10 * M)
        reserve(counterparty=client, amount=6 * M, reference="D-1", actor=actor)
        before = ledger_state()
        with pytest.raises(LimitExceeded) as error:
            reserve(counterparty=client, amount=4 * M + 1, reference="D-2", actor=actor)
        assert error.value.check.status == "red"
        assert ledger_state() == before
        assert not AuditEvent.objects.filter(data__reference="D-2").exists()

    def test_refuses_an_amount_over_the_debtor_limit_across_two_clients(self, actor):
        first, second = client_with_limit(), client_with_limit()
        debtor = debtor_with_limit(5 * M)
        reserve(counterparty=first, amount=3 * M, reference="A-1", actor=actor, debtor=debtor)
        before = ledger_state()
        with pytest.raises(LimitExceeded) as error:
            reserve(counterparty=second, amount=3 * M, reference="B-1", actor=actor,
                    debtor=debtor)  # fmt: skip
        (red,) = [line for line in error.value.check.lines if line.status == "red"]
        assert (red.kind, red.counterparty_id, red.exposure) == (LimitKind.DEBTOR, debtor.pk, 3 * M)
        assert ledger_state() == before
        assert balances(second)["client_reserved"] == 0

    def test_refuses_an_amount_over_the_group_limit_summed_over_two_children(self, actor):
        parent = CustomerFactory()
        CreditLimitFactory(counterparty=parent, kind=LimitKind.GROUP, amount=15 * M)
        first = client_with_limit(10 * M, parent=parent)
        second = client_with_limit(10 * M, parent=parent)
        reserve(counterparty=first, amount=8 * M, reference="A-1", actor=actor)
        assert balances(parent)["group_reserved"] == 8 * M
        before = ledger_state()
        with pytest.raises(LimitExceeded) as error:
            reserve(counterparty=second, amount=8 * M, reference="B-1", actor=actor)
        (red,) = [line for line in error.value.check.lines if line.status == "red"]
        assert (red.kind, red.counterparty_id, red.after) == (LimitKind.GROUP, parent.pk, 16 * M)
        assert ledger_state() == before

    def test_counts_a_grandchild_in_every_group_above_it(self, actor):
        top = CustomerFactory()
        middle = CustomerFactory(parent=top)
        CreditLimitFactory(counterparty=top, kind=LimitKind.GROUP, amount=50 * M)
        leaf = client_with_limit(10 * M, parent=middle)
        reserve(counterparty=leaf, amount=4 * M, reference="L-1", actor=actor)
        assert balances(middle)["group_reserved"] == 4 * M
        assert balances(top)["group_reserved"] == 4 * M

    def test_refuses_a_client_without_a_limit(self, actor):
        client = CustomerFactory()
        with pytest.raises(LimitExceeded) as error:
            reserve(counterparty=client, amount=1, reference="D-1", actor=actor)
        assert error.value.check.lines[0].hard_block
        assert ledger_state() == ([], [])

    def test_refuses_a_debtor_without_a_limit(self, actor):
        client, debtor = client_with_limit(), CustomerFactory(is_debtor=True, is_client=False)
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=M, reference="D-1", actor=actor, debtor=debtor)
        assert ledger_state() == ([], [])

    def test_refuses_under_a_suspended_limit(self, actor):
        client = client_with_limit(status=LimitStatus.SUSPENDED, suspension_reason="支払遅延")
        with pytest.raises(LimitExceeded) as error:
            reserve(counterparty=client, amount=M, reference="D-1", actor=actor)
        assert "支払遅延" in str(error.value)
        assert ledger_state() == ([], [])

    def test_refuses_under_an_expired_limit(self, actor):
        today = timezone.localdate()
        client = client_with_limit(
            valid_from=today - timedelta(days=400),
            valid_until=today - timedelta(days=1),
            review_date=today - timedelta(days=100),
        )
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=M, reference="D-1", actor=actor)
        assert ledger_state() == ([], [])

    def test_refuses_under_a_limit_not_yet_valid(self, actor):
        today = timezone.localdate()
        client = client_with_limit(
            valid_from=today + timedelta(days=1),
            valid_until=today + timedelta(days=30),
            review_date=today + timedelta(days=20),
        )
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=M, reference="D-1", actor=actor)

    def test_ignores_a_superseded_limit(self, actor):
        client = client_with_limit(10 * M, status=LimitStatus.SUPERSEDED)
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=M, reference="D-1", actor=actor)

    def test_spreads_a_debtor_split_over_two_debtors(self, actor):
        client = client_with_limit(10 * M)
        one, two = debtor_with_limit(5 * M), debtor_with_limit(5 * M)
        reserve(counterparty=client, amount=7 * M, reference="D-1", actor=actor,
                debtor_split={one: 4 * M, two: 3 * M})  # fmt: skip
        assert balances(client)["client_reserved"] == 7 * M
        assert balances(one)["debtor_reserved"] == 4 * M
        assert balances(two)["debtor_reserved"] == 3 * M
        assert sorted(ExposureEntry.objects.values_list("debtor_id", "amount")) == sorted(
            [(one.pk, 4 * M), (two.pk, 3 * M)]
        )

    def test_refuses_a_split_whose_one_debtor_is_over_its_limit(self, actor):
        client = client_with_limit(10 * M)
        one, two = debtor_with_limit(5 * M), debtor_with_limit(2 * M)
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=7 * M, reference="D-1", actor=actor,
                    debtor_split={one: 4 * M, two: 3 * M})  # fmt: skip
        assert ledger_state() == ([], [])

    def test_refuses_a_split_that_does_not_add_up(self, actor):
        client, one = client_with_limit(), debtor_with_limit()
        with pytest.raises(ValueError):
            reserve(counterparty=client, amount=7 * M, reference="D-1", actor=actor,
                    debtor_split={one: 4 * M})  # fmt: skip

    @pytest.mark.parametrize("amount", [0, -1, 1.5, True])
    def test_refuses_an_amount_that_is_not_a_positive_whole_yen(self, actor, amount):
        client = client_with_limit()
        with pytest.raises(ValidationError):
            reserve(counterparty=client, amount=amount, reference="D-1", actor=actor)


class TestEscalation:
    @pytest.fixture
    def client(self, actor):
        client = client_with_limit(10 * M)
        reserve(counterparty=client, amount=9 * M, reference="D-1", actor=actor)
        return client

    def test_lets_an_executive_sign_for_a_red_amount_with_conditions(self, actor, client):
        executive = UserFactory(roles=["approver"], approval_level=3)
        check = reserve(
            counterparty=client, amount=2 * M, reference="D-2", actor=actor,
            escalation=Escalation(approver=executive, conditions="連帯保証を追加"),
        )  # fmt: skip
        assert check.status == "red" and check.overridable
        assert balances(client)["client_reserved"] == 11 * M
        entry = ExposureEntry.objects.get(reference="D-2")
        assert "連帯保証を追加" in entry.note
        event = AuditEvent.objects.get(action="credit.reserved", data__reference="D-2")
        assert event.data["escalated_by"] == executive.pk

    @pytest.mark.parametrize("level", [0, 1, 2])
    def test_refuses_an_approver_below_the_executive_level(self, actor, client, level):
        approver = UserFactory(roles=["approver"], approval_level=level)
        before = ledger_state()
        with pytest.raises(PermissionDeniedError):
            reserve(
                counterparty=client, amount=2 * M, reference="D-2", actor=actor,
                escalation=Escalation(approver=approver, conditions="連帯保証を追加"),
            )  # fmt: skip
        assert ledger_state() == before

    @pytest.mark.parametrize("conditions", ["", "   "])
    def test_refuses_an_escalation_without_conditions(self, actor, client, conditions):
        executive = UserFactory(roles=["approver"], approval_level=3)
        before = ledger_state()
        with pytest.raises(ValidationError):
            reserve(
                counterparty=client, amount=2 * M, reference="D-2", actor=actor,
                escalation=Escalation(approver=executive, conditions=conditions),
            )  # fmt: skip
        assert ledger_state() == before

    def test_refuses_a_red_amount_without_an_escalation(self, actor, client):
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=2 * M, reference="D-2", actor=actor)

    def test_cannot_override_a_suspended_limit(self, actor):
        client = client_with_limit(status=LimitStatus.SUSPENDED, suspension_reason="格付低下")
        executive = UserFactory(roles=["approver"], approval_level=3)
        with pytest.raises(LimitExceeded) as error:
            reserve(
                counterparty=client, amount=M, reference="D-1", actor=actor,
                escalation=Escalation(approver=executive, conditions="担保追加"),
            )  # fmt: skip
        assert not error.value.check.overridable
        assert ledger_state() == ([], [])

    def test_cannot_override_a_missing_limit(self, actor):
        executive = UserFactory(roles=["approver"], approval_level=3)
        with pytest.raises(LimitExceeded):
            reserve(
                counterparty=CustomerFactory(), amount=M, reference="D-1", actor=actor,
                escalation=Escalation(approver=executive, conditions="担保追加"),
            )  # fmt: skip

    def test_leaves_no_trace_of_an_escalation_a_green_amount_does_not_need(self, actor):
        client = client_with_limit(10 * M)
        executive = UserFactory(roles=["approver"], approval_level=3)
        reserve(
            counterparty=client, amount=M, reference="D-1", actor=actor,
            escalation=Escalation(approver=executive, conditions="不要"),
        )  # fmt: skip
        assert "escalated" not in ExposureEntry.objects.get().note


# ------------------------------------------------------------------------------ consume


class TestConsume:
    def test_moves_the_reservation_to_outstanding(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor, debtor=debtor)
        consume(counterparty=client, amount=5 * M, reference="D-1", actor=actor, debtor=debtor)
        assert balances(client)["client_reserved"] == 0
        assert balances(client)["client_consumed"] == 5 * M
        assert balances(debtor)["debtor_reserved"] == 0
        assert balances(debtor)["debtor_consumed"] == 5 * M
        entry = ExposureEntry.objects.get(kind=EntryKind.CONSUME)
        assert (entry.reserved_change, entry.consumed_change) == (-5 * M, 5 * M)
        assert AuditEvent.objects.filter(action="credit.consumed").count() == 1

    def test_releases_the_reserved_rest_that_was_not_executed(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor, debtor=debtor)
        consume(counterparty=client, amount=4 * M, reference="D-1", actor=actor, debtor=debtor)
        assert balances(client)["client_reserved"] == 0
        assert balances(client)["client_consumed"] == 4 * M
        assert balances(debtor)["debtor_reserved"] == 0
        rest = ExposureEntry.objects.get(kind=EntryKind.RELEASE)
        assert (rest.amount, rest.reserved_change, rest.debtor) == (M, -M, debtor)

    def test_keeps_the_rest_reserved_when_asked_to(self, actor):
        client = client_with_limit()
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor)
        consume(counterparty=client, amount=4 * M, reference="D-1", actor=actor,
                release_rest=False)  # fmt: skip
        assert (balances(client)["client_reserved"], balances(client)["client_consumed"]) == (
            M,
            4 * M,
        )

    def test_releases_a_debtor_of_the_split_that_was_not_executed(self, actor):
        client = client_with_limit()
        one, two = debtor_with_limit(), debtor_with_limit()
        reserve(counterparty=client, amount=6 * M, reference="D-1", actor=actor,
                debtor_split={one: 3 * M, two: 3 * M})  # fmt: skip
        consume(counterparty=client, amount=3 * M, reference="D-1", actor=actor, debtor=one)
        assert balances(one)["debtor_consumed"] == 3 * M
        assert balances(two)["debtor_reserved"] == 0
        assert balances(client)["client_reserved"] == 0

    def test_checks_what_exceeds_the_reservation_against_the_limits(self, actor):
        client = client_with_limit(10 * M)
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor)
        reserve(counterparty=client, amount=4 * M, reference="D-2", actor=actor)
        before = ledger_state()
        with pytest.raises(LimitExceeded):
            # 2M beyond D-1's reservation on top of 9M already held: 11M.
            consume(counterparty=client, amount=7 * M, reference="D-1", actor=actor)
        assert ledger_state() == before

    def test_accepts_an_excess_that_still_fits_under_the_limit(self, actor):
        client = client_with_limit(10 * M)
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor)
        consume(counterparty=client, amount=6 * M, reference="D-1", actor=actor)
        assert balances(client)["client_reserved"] == 0
        assert balances(client)["client_consumed"] == 6 * M

    def test_checks_an_execution_without_any_reservation_like_a_new_one(self, actor):
        client = client_with_limit(10 * M)
        with pytest.raises(LimitExceeded):
            consume(counterparty=client, amount=11 * M, reference="D-9", actor=actor)
        consume(counterparty=client, amount=10 * M, reference="D-9", actor=actor)
        assert balances(client)["client_consumed"] == 10 * M

    def test_executes_a_reservation_after_the_limit_was_suspended(self, actor):
        client = client_with_limit(10 * M)
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor)
        client.credit_limits.update(status=LimitStatus.SUSPENDED, suspension_reason="遅延")
        consume(counterparty=client, amount=5 * M, reference="D-1", actor=actor)
        assert balances(client)["client_consumed"] == 5 * M


# ------------------------------------------------------------------------------ release


class TestRelease:
    def test_releases_everything_open_under_the_reference(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor, debtor=debtor)
        consume(counterparty=client, amount=3 * M, reference="D-1", actor=actor, debtor=debtor,
                release_rest=False)  # fmt: skip
        assert release(counterparty=client, reference="D-1", actor=actor) == 5 * M
        assert all(value == 0 for value in balances(client).values())
        assert all(value == 0 for value in balances(debtor).values())
        assert AuditEvent.objects.get(action="credit.released").data["amount"] == 5 * M

    def test_releases_a_part_from_the_reservation_first(self, actor):
        client = client_with_limit()
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=actor)
        consume(counterparty=client, amount=3 * M, reference="D-1", actor=actor,
                release_rest=False)  # fmt: skip
        assert release(counterparty=client, reference="D-1", actor=actor, amount=3 * M) == 3 * M
        # 2M reserved went first, then 1M of the 3M outstanding.
        assert balances(client)["client_reserved"] == 0
        assert balances(client)["client_consumed"] == 2 * M

    def test_releases_every_debtor_reservation_before_any_outstanding(self, actor):
        client = client_with_limit()
        one, two = debtor_with_limit(), debtor_with_limit()
        reserve(counterparty=client, amount=6 * M, reference="D-1", actor=actor,
                debtor_split={one: 3 * M, two: 3 * M})  # fmt: skip
        consume(counterparty=client, amount=3 * M, reference="D-1", actor=actor, debtor=one,
                release_rest=False)  # fmt: skip
        release(counterparty=client, reference="D-1", actor=actor, amount=3 * M)
        assert balances(client)["client_reserved"] == 0
        assert balances(client)["client_consumed"] == 3 * M
        assert balances(two)["debtor_reserved"] == 0
        assert balances(one)["debtor_consumed"] == 3 * M

    def test_releases_only_the_named_debtor(self, actor):
        client = client_with_limit()
        one, two = debtor_with_limit(), debtor_with_limit()
        reserve(counterparty=client, amount=6 * M, reference="D-1", actor=actor,
                debtor_split={one: 2 * M, two: 4 * M})  # fmt: skip
        assert release(counterparty=client, reference="D-1", actor=actor, debtor=two) == 4 * M
        assert balances(one)["debtor_reserved"] == 2 * M
        assert balances(two)["debtor_reserved"] == 0
        assert balances(client)["client_reserved"] == 2 * M

    def test_refuses_a_reference_with_nothing_open(self, actor):
        client = client_with_limit()
        with pytest.raises(NothingToRelease):
            release(counterparty=client, reference="D-404", actor=actor)
        reserve(counterparty=client, amount=M, reference="D-1", actor=actor)
        release(counterparty=client, reference="D-1", actor=actor)
        with pytest.raises(NothingToRelease):
            release(counterparty=client, reference="D-1", actor=actor)

    def test_refuses_more_than_is_open(self, actor):
        client = client_with_limit()
        reserve(counterparty=client, amount=M, reference="D-1", actor=actor)
        before = ledger_state()
        with pytest.raises(ValidationError):
            release(counterparty=client, reference="D-1", actor=actor, amount=M + 1)
        assert ledger_state() == before

    def test_does_not_touch_another_reference(self, actor):
        client = client_with_limit()
        reserve(counterparty=client, amount=M, reference="D-1", actor=actor)
        reserve(counterparty=client, amount=2 * M, reference="D-2", actor=actor)
        release(counterparty=client, reference="D-1", actor=actor)
        assert balances(client)["client_reserved"] == 2 * M

    def test_frees_headroom_in_the_group(self, actor):
        parent = CustomerFactory()
        CreditLimitFactory(counterparty=parent, kind=LimitKind.GROUP, amount=10 * M)
        child = client_with_limit(10 * M, parent=parent)
        reserve(counterparty=child, amount=10 * M, reference="D-1", actor=actor)
        release(counterparty=child, reference="D-1", actor=actor)
        assert balances(parent)["group_reserved"] == 0
        reserve(counterparty=child, amount=10 * M, reference="D-2", actor=actor)


# ------------------------------------------------------------------------------- adjust


class TestAdjust:
    def test_corrects_outstanding_exposure_with_a_note(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        entry = adjust(counterparty=client, amount=2 * M, reference="移行", actor=actor,
                       note="旧システムからの移行残高", debtor=debtor)  # fmt: skip
        assert (entry.kind, entry.consumed_change, entry.reserved_change) == (
            EntryKind.ADJUST, 2 * M, 0,
        )  # fmt: skip
        assert balances(client)["client_consumed"] == 2 * M
        assert balances(debtor)["debtor_consumed"] == 2 * M
        adjust(counterparty=client, amount=-M, reference="移行", actor=actor, note="二重計上の訂正",
               debtor=debtor)  # fmt: skip
        assert balances(client)["client_consumed"] == M
        event = AuditEvent.objects.filter(action="credit.adjusted").first()
        assert event.data["note"] == "二重計上の訂正"

    @pytest.mark.parametrize("note", ["", "  "])
    def test_needs_a_note(self, actor, note):
        client = client_with_limit()
        with pytest.raises(ValidationError):
            adjust(counterparty=client, amount=M, reference="X", actor=actor, note=note)
        assert ledger_state() == ([], [])

    @pytest.mark.parametrize("amount", [0, 1.0, False])
    def test_needs_a_non_zero_whole_amount(self, actor, amount):
        with pytest.raises(ValidationError):
            adjust(counterparty=client_with_limit(), amount=amount, reference="X", actor=actor,
                   note="訂正")  # fmt: skip

    def test_never_drives_a_balance_negative(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        adjust(counterparty=client, amount=M, reference="X", actor=actor, note="移行")
        before = ledger_state()
        with pytest.raises(ValidationError):
            adjust(counterparty=client, amount=-M - 1, reference="X", actor=actor, note="訂正")
        with pytest.raises(ValidationError):
            # The client has 1M outstanding, the debtor none.
            adjust(counterparty=client, amount=-M, reference="X", actor=actor, note="訂正",
                   debtor=debtor)  # fmt: skip
        assert ledger_state() == before

    def test_never_drives_a_group_balance_negative(self, actor):
        parent = CustomerFactory()
        child = client_with_limit(parent=parent)
        before = ledger_state()
        with pytest.raises(ValidationError):
            adjust(counterparty=child, amount=-1, reference="X", actor=actor, note="訂正")
        assert ledger_state() == before


class TestLedgerInvariant:
    def test_check_notices_a_balance_that_drifted_from_the_ledger(self, actor):
        parent = CustomerFactory()
        child = client_with_limit(parent=parent)
        reserve(counterparty=child, amount=M, reference="D-1", actor=actor)
        assert_balances_match_the_ledger()
        for party, field in ((child, "client_reserved"), (parent, "group_reserved")):
            Exposure.objects.filter(pk=party.pk).update(**{field: M + 1})
            with pytest.raises(AssertionError):
                assert_balances_match_the_ledger()
            Exposure.objects.filter(pk=party.pk).update(**{field: M})

    def test_keeps_balances_equal_to_the_entries_through_a_mixed_history(self, actor):
        parent = CustomerFactory()
        CreditLimitFactory(counterparty=parent, kind=LimitKind.GROUP, amount=60 * M)
        clients = [client_with_limit(30 * M, parent=parent), client_with_limit(30 * M)]
        debtors = [debtor_with_limit(25 * M) for _ in range(3)]
        rng = Random(20240501)
        open_refs: list[tuple[Customer, str]] = []
        for step in range(60):
            client = rng.choice(clients)
            action = rng.choice(["reserve", "reserve", "consume", "release", "adjust"])
            try:
                if action == "reserve" or not open_refs:
                    reference = f"R-{step}"
                    picked = rng.sample(debtors, rng.randint(1, 2))
                    split = {d: rng.randint(1, 4) * 250_000 for d in picked}
                    reserve(counterparty=client, amount=sum(split.values()), reference=reference,
                            actor=actor, debtor_split=split)  # fmt: skip
                    open_refs.append((client, reference))
                elif action == "consume":
                    client, reference = rng.choice(open_refs)
                    debtor = rng.choice(debtors)
                    consume(counterparty=client, amount=rng.randint(1, 8) * 125_000,
                            reference=reference, actor=actor, debtor=debtor,
                            release_rest=rng.random() < 0.5)  # fmt: skip
                elif action == "release":
                    client, reference = rng.choice(open_refs)
                    amount = rng.choice([None, 100_000, 700_000])
                    release(counterparty=client, reference=reference, actor=actor,
                            amount=amount)  # fmt: skip
                else:
                    adjust(counterparty=client, amount=rng.choice([100_000, -100_000]),
                           reference=f"A-{step}", actor=actor, note="訂正",
                           debtor=rng.choice([None, *debtors]))  # fmt: skip
            except (LimitExceeded, NothingToRelease, ValidationError):
                pass
            assert_balances_match_the_ledger()
        assert ExposureEntry.objects.count() > 30


# -------------------------------------------------------------------- append-only entries


class TestExposureEntry:
    @pytest.fixture
    def entry(self, actor):
        client = client_with_limit()
        reserve(counterparty=client, amount=M, reference="D-1", actor=actor)
        return ExposureEntry.objects.get()

    def test_cannot_be_changed(self, entry):
        entry.amount = 1
        with pytest.raises(ValidationError):
            entry.save()
        entry.refresh_from_db()
        assert entry.amount == M

    def test_cannot_be_deleted(self, entry):
        with pytest.raises(ValidationError):
            entry.delete()
        assert ExposureEntry.objects.filter(pk=entry.pk).exists()


# --------------------------------------------------------------------------- check_limit


class TestCheckLimit:
    def test_reports_each_line_its_status_and_the_smallest_headroom(self, actor):
        client, debtor = client_with_limit(10 * M), debtor_with_limit(5 * M)
        reserve(counterparty=client, amount=2 * M, reference="D-1", actor=actor, debtor=debtor)
        check = check_limit(client, M, debtor)
        by_kind = {line.kind: line for line in check.lines}
        assert set(by_kind) == {LimitKind.CLIENT, LimitKind.DEBTOR}
        assert (by_kind[LimitKind.CLIENT].exposure, by_kind[LimitKind.CLIENT].after) == (
            2 * M, 3 * M,
        )  # fmt: skip
        assert by_kind[LimitKind.CLIENT].headroom == 8 * M
        assert by_kind[LimitKind.DEBTOR].headroom == 3 * M
        assert check.headroom == 3 * M
        assert (check.status, check.allowed, check.required_level) == ("green", True, 1)
        assert check.as_dict()["lines"][1]["after"] == 3 * M

    @pytest.mark.parametrize(
        ("amount", "status", "level"),
        [(7_999_999, "green", 1), (8 * M, "yellow", 2), (10 * M, "yellow", 2),
         (10 * M + 1, "red", 3)],
    )  # fmt: skip
    def test_asks_for_a_higher_approver_as_the_light_worsens(self, amount, status, level):
        client = client_with_limit(10 * M)
        check = check_limit(client, amount)
        assert (check.status, check.required_level) == (status, level)
        assert check.allowed == (status != "red")

    def test_writes_nothing(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        check_limit(client, 20 * M, debtor)
        assert ledger_state() == ([], [])

    def test_explains_a_missing_limit_and_offers_no_override(self):
        check = check_limit(CustomerFactory(), M)
        assert check.status == "red" and not check.overridable
        assert check.headroom == 0
        assert check.blocked_reasons

    def test_shows_the_group_line_of_each_parent(self, actor):
        parent = CustomerFactory()
        CreditLimitFactory(counterparty=parent, kind=LimitKind.GROUP, amount=20 * M)
        sibling = client_with_limit(parent=parent)
        client = client_with_limit(parent=parent)
        reserve(counterparty=sibling, amount=9 * M, reference="S-1", actor=actor)
        check = check_limit(client, 8 * M)
        group = next(line for line in check.lines if line.kind == LimitKind.GROUP)
        assert (group.counterparty_id, group.exposure, group.after) == (parent.pk, 9 * M, 17 * M)
        assert group.status == "yellow"
        assert check.headroom == 10 * M  # the client's own limit is still empty

    def test_runs_a_constant_number_of_queries_however_long_the_ledger(self, actor):
        parent = CustomerFactory()
        CreditLimitFactory(counterparty=parent, kind=LimitKind.GROUP, amount=900 * M)
        client = client_with_limit(900 * M, parent=parent)
        debtor = debtor_with_limit(900 * M, max_share=Decimal("0.9000"))
        # A book the debtor is a small share of, so the share line (one more query) is green.
        adjust(counterparty=client_with_limit(), amount=900 * M, reference="移行", actor=actor,
               note="移行残高")  # fmt: skip

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                check_limit(client, M, debtor)
            return len(captured.captured_queries)

        for n in range(5):
            reserve(counterparty=client, amount=M, reference=f"D-{n}", actor=actor, debtor=debtor)
        after_five = queries()
        for n in range(5, 50):
            reserve(counterparty=client, amount=M, reference=f"D-{n}", actor=actor, debtor=debtor)
        assert ExposureEntry.objects.filter(kind=EntryKind.RESERVE).count() == 50
        assert queries() == after_five
        assert after_five <= 6

    def test_caps_a_party_at_its_share_of_the_whole_book(self, actor):
        other = client_with_limit(100 * M)
        reserve(counterparty=other, amount=90 * M, reference="O-1", actor=actor)
        client = client_with_limit(50 * M, max_share=Decimal("0.1000"))
        # At most 10 % of the book: 10M beside the other 90M.
        at_cap = check_limit(client, 10 * M)
        share = next(line for line in at_cap.lines if line.kind == "share")
        assert (share.limit, share.status) == (10 * M, "yellow")
        over = check_limit(client, 10 * M + 1)
        assert over.status == "red" and over.overridable
        assert next(line for line in over.lines if line.kind == "share").status == "red"
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=10 * M + 1, reference="C-1", actor=actor)
        reserve(counterparty=client, amount=10 * M, reference="C-1", actor=actor)

    def test_caps_a_debtor_at_its_share_of_the_whole_book(self, actor):
        big, small = client_with_limit(100 * M), client_with_limit(100 * M)
        spread = debtor_with_limit(100 * M)
        capped = debtor_with_limit(100 * M, max_share=Decimal("0.2000"))
        reserve(counterparty=big, amount=80 * M, reference="B-1", actor=actor, debtor=spread)
        reserve(counterparty=small, amount=20 * M, reference="S-1", actor=actor, debtor=capped)
        # The capped debtor already owes 20M of a 100M book: exactly 20 %.
        share = next(line for line in check_limit(small, 0, capped).lines if line.kind == "share")
        assert (share.limit, share.exposure, share.status) == (20 * M, 20 * M, "yellow")
        check = check_limit(small, M, capped)
        assert next(line for line in check.lines if line.kind == "share").status == "red"
        with pytest.raises(LimitExceeded):
            reserve(counterparty=small, amount=M, reference="S-2", actor=actor, debtor=capped)

    def test_caps_a_group_at_its_share_of_the_whole_book(self, actor):
        other = client_with_limit(100 * M)
        reserve(counterparty=other, amount=60 * M, reference="O-1", actor=actor)
        parent = CustomerFactory()
        CreditLimitFactory(counterparty=parent, kind=LimitKind.GROUP, amount=100 * M,
                           max_share=Decimal("0.2000"))  # fmt: skip
        first = client_with_limit(100 * M, parent=parent)
        second = client_with_limit(100 * M, parent=parent)
        reserve(counterparty=first, amount=15 * M, reference="F-1", actor=actor)
        # The group holds 15M of a 75M book: exactly 20 %, so the sister company gets nothing.
        share = next(line for line in check_limit(second, M).lines if line.kind == "share")
        assert (share.counterparty_id, share.limit, share.exposure) == (parent.pk, 15 * M, 15 * M)
        assert share.status == "red"
        with pytest.raises(LimitExceeded):
            reserve(counterparty=second, amount=M, reference="S-1", actor=actor)

    def test_applies_a_share_cap_only_to_the_role_the_amount_touches(self, actor):
        # The party sells its own invoices under a 10 % cap and also owes invoices others sell.
        both = CustomerFactory(is_client=True, is_debtor=True)
        CreditLimitFactory(counterparty=both, kind=LimitKind.CLIENT, amount=50 * M,
                           max_share=Decimal("0.1000"))  # fmt: skip
        CreditLimitFactory(counterparty=both, kind=LimitKind.DEBTOR, amount=50 * M)
        seller = client_with_limit(50 * M)
        check = check_limit(seller, 5 * M, both)
        assert check.status == "green", check.blocked_reasons
        reserve(counterparty=seller, amount=5 * M, reference="S-1", actor=actor, debtor=both)
        assert balances(both)["debtor_reserved"] == 5 * M


class TestReleaseMany:
    """A reconciliation run's releases, set-wise: the same rule as ``release``."""

    def test_many_references_at_once_with_group_parents_and_debtors(self, actor):
        parent = CustomerFactory()
        client, other = client_with_limit(parent=parent), client_with_limit()
        one, two = debtor_with_limit(), debtor_with_limit()
        consume(counterparty=client, amount=4 * M, reference="D-1", actor=actor,
                debtor_split={one: 1 * M, two: 3 * M})  # fmt: skip
        consume(counterparty=other, amount=2 * M, reference="D-2", actor=actor, debtor=one)
        released = release_many(
            [ReleaseRequest(client.pk, "D-1", one.pk, 1 * M),
             ReleaseRequest(client.pk, "D-1", two.pk, 1 * M),
             ReleaseRequest(other.pk, "D-2", one.pk, None)],
            actor=actor, note="collected",
        )  # fmt: skip
        assert released == 4 * M
        assert balances(client)["client_consumed"] == 2 * M
        assert balances(parent)["group_consumed"] == 2 * M
        assert balances(one)["debtor_consumed"] == 0
        assert balances(two)["debtor_consumed"] == 2 * M
        events = AuditEvent.objects.filter(action="credit.released").order_by("pk")
        assert [(e.data["reference"], e.data["amount"]) for e in events] == [
            ("D-1", 2 * M), ("D-2", 2 * M)
        ]  # fmt: skip

    def test_a_request_for_more_than_is_open_releases_what_is_left(self, actor):
        client, debtor = client_with_limit(), debtor_with_limit()
        consume(counterparty=client, amount=3 * M, reference="D-1", actor=actor, debtor=debtor)
        requests = [ReleaseRequest(client.pk, "D-1", debtor.pk, 2 * M)] * 2
        assert release_many(requests, actor=actor, note="collected") == 3 * M
        assert all(value == 0 for value in balances(client).values())
        assert release_many(requests, actor=actor, note="again") == 0

    def test_reserved_goes_before_outstanding_as_in_release(self, actor):
        client = client_with_limit()
        reserve(counterparty=client, amount=2 * M, reference="D-1", actor=actor)
        consume(counterparty=client, amount=1 * M, reference="D-1", actor=actor,
                release_rest=False)  # fmt: skip
        release_many([ReleaseRequest(client.pk, "D-1", None, 1_500_000)], actor=actor, note="x")
        assert balances(client)["client_reserved"] == 0
        assert balances(client)["client_consumed"] == 1 * M - 500_000
