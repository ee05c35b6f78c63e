"""Credit-limit lifecycle (maker-checker within authority), suspension triggers, ratings and
advance-rate policy versions. Every write leaves an audit event."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.choices import AlertKind
from core.exceptions import InvalidStateError, PermissionDeniedError
from core.models import Alert, AuditEvent
from credit.calculations import DEFAULT_POLICY, RecommendedLimit, advance_rate
from credit.choices import LimitKind, LimitStatus, PolicyStatus
from credit.exceptions import LimitExceeded
from credit.models import AdvanceRatePolicy, CreditLimit, Exposure, Rating
from credit.services import (
    ensure_default_policy,
    limit_approve,
    limit_propose,
    limit_reinstate,
    limit_reject,
    limit_suspend,
    limits_expire,
    payment_delay_report,
    policy_activate,
    policy_draft_from,
    rating_record,
    required_level_for,
    reserve,
    suspend_limits_of,
)
from credit.signals import rating_downgraded
from tests.factories import CreditLimitFactory, CustomerFactory, RatingFactory, UserFactory

M = 1_000_000

pytestmark = pytest.mark.django_db


def days(n: int):
    """Return the date ``n`` days from today in Tokyo (the services' today)."""
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def underwriter():
    return UserFactory(roles=["underwriter"])


def approver(level: int = 3):
    """An approver (holds ``credit.approve_creditlimit``) of the given authority."""
    return UserFactory(roles=["approver"], approval_level=level)


def propose(party, actor, *, amount: int = 5 * M, kind: str = LimitKind.CLIENT, **fields):
    values = {
        "valid_from": days(0),
        "valid_until": days(365),
        "review_date": days(180),
        "rationale": "月商法で算定。",
    }
    return limit_propose(
        counterparty=party, kind=kind, amount=amount, actor=actor, **(values | fields)
    )


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


# ------------------------------------------------------------------------------ propose


class TestLimitPropose:
    def test_records_a_proposal_that_binds_nothing_yet(self, underwriter):
        client = CustomerFactory()
        limit = propose(client, underwriter, amount=5 * M)
        assert (limit.status, limit.proposed_by, limit.decided_by) == (
            LimitStatus.PROPOSED, underwriter, None,
        )  # fmt: skip
        with pytest.raises(LimitExceeded):
            reserve(counterparty=client, amount=M, reference="D-1", actor=underwriter)
        event = AuditEvent.objects.get(action="credit.limit_proposed")
        assert event.data == {
            "limit_id": limit.pk, "kind": "client", "amount": 5 * M, "required_level": 1,
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("amount", "level"),
        [(10 * M, 1), (10 * M + 1, 2), (50 * M, 2), (50 * M + 1, 3), (500 * M, 3)],
    )
    def test_asks_for_the_authority_the_amount_needs(self, underwriter, amount, level):
        assert propose(CustomerFactory(), underwriter, amount=amount).required_level == level
        assert required_level_for(amount) == level

    def test_reads_the_authority_bands_from_the_settings(self, underwriter, settings):
        settings.CREDIT_LIMIT_AUTHORITY = ((1 * M, 1), (None, 3))
        assert propose(CustomerFactory(), underwriter, amount=2 * M).required_level == 3

    def test_keeps_the_recommendation_it_was_based_on(self, underwriter):
        recommendation = RecommendedLimit(
            amount=6_300_000, bound_by="rating", coefficient=Decimal("0.7"), candidates={}
        )
        limit = propose(CustomerFactory(), underwriter, recommendation=recommendation)
        assert (limit.recommended_amount, limit.recommended_by_method) == (6_300_000, "rating")

    def test_refuses_a_client_limit_for_a_customer_not_marked_as_client(self, underwriter):
        debtor = CustomerFactory(is_debtor=True, is_client=False)
        with pytest.raises(ValidationError):
            propose(debtor, underwriter, kind=LimitKind.CLIENT)
        assert not CreditLimit.objects.exists()

    def test_refuses_a_debtor_limit_for_a_customer_not_marked_as_debtor(self, underwriter):
        with pytest.raises(ValidationError):
            propose(CustomerFactory(), underwriter, kind=LimitKind.DEBTOR)
        propose(CustomerFactory(is_debtor=True, is_client=False), underwriter,
                kind=LimitKind.DEBTOR)  # fmt: skip

    def test_refuses_a_group_limit_for_a_customer_without_group_companies(self, underwriter):
        lonely = CustomerFactory()
        with pytest.raises(ValidationError):
            propose(lonely, underwriter, kind=LimitKind.GROUP)
        parent = CustomerFactory(is_client=False)
        CustomerFactory(parent=parent)
        assert propose(parent, underwriter, kind=LimitKind.GROUP).kind == LimitKind.GROUP

    def test_refuses_a_review_date_after_the_validity(self, underwriter):
        with pytest.raises(ValidationError):
            propose(CustomerFactory(), underwriter, valid_until=days(30), review_date=days(31))

    def test_refuses_a_validity_that_ends_before_it_starts(self, underwriter):
        with pytest.raises(ValidationError):
            propose(CustomerFactory(), underwriter, valid_until=days(-1), review_date=days(-2))

    def test_refuses_a_negative_amount(self, underwriter):
        with pytest.raises(ValidationError):
            propose(CustomerFactory(), underwriter, amount=-1)


# ------------------------------------------------------------------------ approve, reject


class TestLimitApprove:
    def test_activates_the_limit_and_records_who_decided(self, underwriter):
        client = CustomerFactory()
        limit = propose(client, underwriter, amount=5 * M)
        checker = approver(level=1)
        limit = limit_approve(limit=limit, actor=checker, comment="決算書確認済み")
        limit.refresh_from_db()
        assert (limit.status, limit.decided_by, limit.decision_comment) == (
            LimitStatus.ACTIVE, checker, "決算書確認済み",
        )  # fmt: skip
        assert limit.decided_at is not None
        event = AuditEvent.objects.get(action="credit.limit_approved")
        assert event.actor == checker and event.data["limit_id"] == limit.pk
        reserve(counterparty=client, amount=5 * M, reference="D-1", actor=underwriter)

    def test_supersedes_the_previous_live_limit_of_the_same_kind_only(self, underwriter):
        party = CustomerFactory(is_client=True, is_debtor=True)
        old_client = CreditLimitFactory(counterparty=party, kind=LimitKind.CLIENT)
        debtor_limit = CreditLimitFactory(counterparty=party, kind=LimitKind.DEBTOR)
        new = limit_approve(limit=propose(party, underwriter, amount=8 * M), actor=approver())
        old_client.refresh_from_db()
        debtor_limit.refresh_from_db()
        assert old_client.status == LimitStatus.SUPERSEDED
        assert debtor_limit.status == LimitStatus.ACTIVE
        assert new.status == LimitStatus.ACTIVE
        event = AuditEvent.objects.get(action="credit.limit_approved")
        assert event.data["superseded"] == [old_client.pk]

    def test_supersedes_a_suspended_limit_too(self, underwriter):
        party = CustomerFactory()
        suspended = CreditLimitFactory(counterparty=party, status=LimitStatus.SUSPENDED)
        limit_approve(limit=propose(party, underwriter), actor=approver())
        suspended.refresh_from_db()
        assert suspended.status == LimitStatus.SUPERSEDED
        assert CreditLimit.objects.filter(counterparty=party, status="active").count() == 1

    def test_refuses_the_proposer_even_with_full_authority(self):
        maker = approver(level=3)
        limit = propose(CustomerFactory(), maker)
        with pytest.raises(PermissionDeniedError):
            limit_approve(limit=limit, actor=maker)
        limit.refresh_from_db()
        assert limit.status == LimitStatus.PROPOSED
        assert "credit.limit_approved" not in actions()

    def test_refuses_a_user_without_the_approve_permission(self, underwriter):
        limit = propose(CustomerFactory(), underwriter)
        colleague = UserFactory(roles=["underwriter"], approval_level=3)
        assert not colleague.has_perm("credit.approve_creditlimit")
        with pytest.raises(PermissionDeniedError):
            limit_approve(limit=limit, actor=colleague)

    @pytest.mark.parametrize(
        ("amount", "level"), [(10 * M + 1, 1), (50 * M, 1), (50 * M + 1, 2), (80 * M, 2)]
    )
    def test_refuses_an_approver_below_the_required_level(self, underwriter, amount, level):
        limit = propose(CustomerFactory(), underwriter, amount=amount)
        with pytest.raises(PermissionDeniedError):
            limit_approve(limit=limit, actor=approver(level=level))
        limit.refresh_from_db()
        assert limit.status == LimitStatus.PROPOSED

    @pytest.mark.parametrize(("amount", "level"), [(10 * M, 1), (50 * M, 2), (80 * M, 3)])
    def test_accepts_an_approver_of_exactly_the_required_level(self, underwriter, amount, level):
        limit = propose(CustomerFactory(), underwriter, amount=amount)
        assert limit_approve(limit=limit, actor=approver(level=level)).status == "active"

    @pytest.mark.parametrize("status", [LimitStatus.ACTIVE, LimitStatus.REJECTED])
    def test_refuses_a_limit_that_is_not_a_proposal(self, status):
        limit = CreditLimitFactory(status=status)
        with pytest.raises(InvalidStateError):
            limit_approve(limit=limit, actor=approver())

    def test_is_backed_by_a_database_rule_that_maker_and_checker_differ(self):
        user = approver()
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditLimitFactory(proposed_by=user, decided_by=user)


class TestLimitReject:
    def test_records_the_rejection_with_its_reason(self, underwriter):
        limit = propose(CustomerFactory(), underwriter)
        checker = approver(level=1)
        limit = limit_reject(limit=limit, actor=checker, comment="財務内容が不十分")
        assert (limit.status, limit.decided_by, limit.decision_comment) == (
            LimitStatus.REJECTED, checker, "財務内容が不十分",
        )  # fmt: skip
        event = AuditEvent.objects.get(action="credit.limit_rejected")
        assert event.data["comment"] == "財務内容が不十分"

    @pytest.mark.parametrize("comment", ["", "  "])
    def test_needs_a_comment(self, underwriter, comment):
        limit = propose(CustomerFactory(), underwriter)
        with pytest.raises(ValidationError):
            limit_reject(limit=limit, actor=approver(), comment=comment)
        limit.refresh_from_db()
        assert limit.status == LimitStatus.PROPOSED

    def test_refuses_the_proposer(self):
        maker = approver(level=3)
        limit = propose(CustomerFactory(), maker)
        with pytest.raises(PermissionDeniedError):
            limit_reject(limit=limit, actor=maker, comment="取り下げ")

    def test_refuses_a_user_without_the_approve_permission(self, underwriter):
        limit = propose(CustomerFactory(), underwriter)
        with pytest.raises(PermissionDeniedError):
            limit_reject(limit=limit, actor=UserFactory(roles=["sales"], approval_level=3),
                         comment="否決")  # fmt: skip

    def test_refuses_an_approver_below_the_required_level(self, underwriter):
        limit = propose(CustomerFactory(), underwriter, amount=60 * M)
        with pytest.raises(PermissionDeniedError):
            limit_reject(limit=limit, actor=approver(level=2), comment="否決")

    def test_refuses_a_limit_already_decided(self, underwriter):
        limit = limit_approve(limit=propose(CustomerFactory(), underwriter), actor=approver())
        with pytest.raises(InvalidStateError):
            limit_reject(limit=limit, actor=approver(), comment="否決")


# --------------------------------------------------------------------- suspension triggers


def suspension_alerts():
    return Alert.objects.filter(kind=AlertKind.CREDIT_LIMIT_SUSPENDED)


class TestPaymentDelayReport:
    def test_suspends_every_active_limit_of_the_party_beyond_fifteen_days(self, underwriter):
        party = CustomerFactory(is_client=True, is_debtor=True)
        client_limit = CreditLimitFactory(counterparty=party, kind=LimitKind.CLIENT)
        debtor_limit = CreditLimitFactory(counterparty=party, kind=LimitKind.DEBTOR)
        other = CreditLimitFactory()
        suspended = payment_delay_report(counterparty=party, days=16, actor=underwriter)
        assert {limit.pk for limit in suspended} == {client_limit.pk, debtor_limit.pk}
        for limit in (client_limit, debtor_limit):
            limit.refresh_from_db()
            assert limit.status == LimitStatus.SUSPENDED
            assert "16" in limit.suspension_reason and limit.suspended_at is not None
        other.refresh_from_db()
        assert other.status == LimitStatus.ACTIVE
        assert Exposure.objects.get(pk=party.pk).worst_delay_days == 16
        assert actions().count("credit.limit_suspended") == 2

    def test_raises_one_alert_on_the_party(self, underwriter):
        limit = CreditLimitFactory()
        payment_delay_report(counterparty=limit.counterparty, days=16, actor=underwriter)
        alert = suspension_alerts().get()
        assert alert.subject == limit.counterparty
        assert alert.assigned_role.name == "underwriter"
        # Reported again the next day: already suspended, nothing raised twice.
        payment_delay_report(counterparty=limit.counterparty, days=17, actor=underwriter)
        assert suspension_alerts().count() == 1

    def test_leaves_limits_alone_at_exactly_fifteen_days(self, underwriter):
        limit = CreditLimitFactory()
        assert payment_delay_report(counterparty=limit.counterparty, days=15) == []
        limit.refresh_from_db()
        assert limit.status == LimitStatus.ACTIVE
        assert not suspension_alerts().exists()
        assert Exposure.objects.get(pk=limit.counterparty_id).worst_delay_days == 15

    def test_follows_the_configured_number_of_days(self, settings):
        settings.CREDIT_SUSPEND_DELAY_DAYS = 30
        limit = CreditLimitFactory()
        assert payment_delay_report(counterparty=limit.counterparty, days=30) == []
        assert len(payment_delay_report(counterparty=limit.counterparty, days=31)) == 1

    def test_blocks_new_reservations_once_suspended(self, underwriter):
        limit = CreditLimitFactory()
        payment_delay_report(counterparty=limit.counterparty, days=20, actor_label="job:overdue")
        with pytest.raises(LimitExceeded):
            reserve(counterparty=limit.counterparty, amount=1, reference="D-1", actor=underwriter)

    def test_refuses_negative_days(self):
        with pytest.raises(ValueError):
            payment_delay_report(counterparty=CustomerFactory(), days=-1)


class TestLimitSuspend:
    def test_records_the_reason_and_alerts_the_underwriters(self, underwriter):
        limit = limit_suspend(
            limit=CreditLimitFactory(), reason="登記事項の変更", actor=underwriter
        )
        assert (limit.status, limit.suspension_reason) == (LimitStatus.SUSPENDED, "登記事項の変更")
        alert = suspension_alerts().get()
        assert alert.message == "登記事項の変更"
        event = AuditEvent.objects.get(action="credit.limit_suspended")
        assert event.actor == underwriter and event.data["limit_id"] == limit.pk

    def test_leaves_a_limit_that_is_not_active_unchanged(self):
        limit = limit_suspend(limit=CreditLimitFactory(status=LimitStatus.EXPIRED), reason="x")
        assert limit.status == LimitStatus.EXPIRED
        assert not suspension_alerts().exists()

    def test_suspends_only_the_active_limits_of_the_party(self):
        party = CustomerFactory()
        active = CreditLimitFactory(counterparty=party)
        CreditLimitFactory(counterparty=party, status=LimitStatus.SUPERSEDED)
        assert [limit.pk for limit in suspend_limits_of(party, reason="審査")] == [active.pk]


class TestLimitReinstate:
    @pytest.fixture
    def suspended(self):
        return limit_suspend(limit=CreditLimitFactory(amount=30 * M, required_level=2),
                             reason="支払遅延")  # fmt: skip

    def test_lifts_the_suspension_with_enough_authority(self, suspended):
        checker = approver(level=2)
        limit = limit_reinstate(limit=suspended, actor=checker, comment="延滞解消を確認")
        assert (limit.status, limit.suspended_at) == (LimitStatus.ACTIVE, None)
        event = AuditEvent.objects.get(action="credit.limit_reinstated")
        assert event.actor == checker and event.data["comment"] == "延滞解消を確認"

    def test_refuses_an_approver_below_the_limits_level(self, suspended):
        with pytest.raises(PermissionDeniedError):
            limit_reinstate(limit=suspended, actor=approver(level=1), comment="解消")
        suspended.refresh_from_db()
        assert suspended.status == LimitStatus.SUSPENDED

    def test_refuses_a_user_without_the_approve_permission(self, suspended):
        with pytest.raises(PermissionDeniedError):
            limit_reinstate(limit=suspended, actor=UserFactory(roles=["underwriter"],
                            approval_level=3), comment="解消")  # fmt: skip

    def test_needs_a_comment(self, suspended):
        with pytest.raises(ValidationError):
            limit_reinstate(limit=suspended, actor=approver(), comment=" ")

    def test_refuses_a_limit_that_is_not_suspended(self):
        with pytest.raises(InvalidStateError):
            limit_reinstate(limit=CreditLimitFactory(), actor=approver(), comment="解消")


class TestLimitsExpire:
    def test_marks_live_limits_past_their_validity_as_expired(self):
        today = timezone.localdate()
        yesterday = today - timedelta(days=1)
        past = {
            "valid_from": today - timedelta(days=400),
            "review_date": today - timedelta(days=100),
        }
        lapsed = CreditLimitFactory(valid_until=yesterday, **past)
        lapsed_suspended = CreditLimitFactory(
            valid_until=yesterday, status=LimitStatus.SUSPENDED, **past
        )
        last_day = CreditLimitFactory(valid_until=today, **past)
        proposal = CreditLimitFactory(
            valid_until=yesterday, status=LimitStatus.PROPOSED, decided_by=None, **past
        )
        assert limits_expire(today=today) == 2
        statuses = dict(CreditLimit.objects.values_list("pk", "status"))
        assert statuses[lapsed.pk] == statuses[lapsed_suspended.pk] == LimitStatus.EXPIRED
        assert statuses[last_day.pk] == LimitStatus.ACTIVE
        assert statuses[proposal.pk] == LimitStatus.PROPOSED
        event = AuditEvent.objects.get(action="credit.limits_expired")
        assert sorted(event.data["limit_ids"]) == sorted([lapsed.pk, lapsed_suspended.pk])

    def test_does_nothing_and_logs_nothing_when_nothing_lapsed(self):
        CreditLimitFactory()
        assert limits_expire(today=timezone.localdate()) == 0
        assert "credit.limits_expired" not in actions()


# -------------------------------------------------------------------------------- ratings


@pytest.fixture
def downgrades():
    """Record every ``rating_downgraded`` signal as it is sent."""
    received = []

    def receiver(sender, rating, previous, actor, **kwargs):
        received.append((sender, rating.grade, previous, actor))

    rating_downgraded.connect(receiver, weak=False, dispatch_uid="test-downgrades")
    yield received
    rating_downgraded.disconnect(dispatch_uid="test-downgrades")


def rate(party, grade, actor, **fields):
    return rating_record(counterparty=party, grade=grade, rationale="決算書を確認。",
                         actor=actor, **fields)  # fmt: skip


class TestRatingRecord:
    def test_keeps_the_previous_grade_in_the_history(self, underwriter):
        party = CustomerFactory()
        first = rate(party, "A", underwriter, internal_score=85)
        second = rate(party, "B", underwriter)
        third = rate(party, "A", underwriter)
        assert first.previous_grade == ""
        assert (second.previous_grade, third.previous_grade) == ("A", "B")
        assert list(party.ratings.values_list("grade", "previous_grade")) == [
            ("A", "B"), ("B", "A"), ("A", ""),
        ]  # fmt: skip
        assert actions().count("credit.rated") == 3

    def test_follows_a_grade_recorded_by_the_factory(self, underwriter):
        party = CustomerFactory()
        RatingFactory(counterparty=party, grade="C")
        assert rate(party, "E", underwriter).previous_grade == "C"

    @pytest.mark.parametrize("grade", ["D", "E"])
    def test_suspends_the_partys_limits_on_a_downgrade_to_d_or_e(self, underwriter, grade):
        party = CustomerFactory()
        limit = CreditLimitFactory(counterparty=party)
        rate(party, "B", underwriter)
        rate(party, grade, underwriter)
        limit.refresh_from_db()
        assert limit.status == LimitStatus.SUSPENDED
        assert "B" in limit.suspension_reason and grade in limit.suspension_reason
        assert suspension_alerts().count() == 1

    def test_keeps_the_limits_on_a_downgrade_to_c(self, underwriter):
        party = CustomerFactory()
        limit = CreditLimitFactory(counterparty=party)
        rate(party, "B", underwriter)
        rate(party, "C", underwriter)
        limit.refresh_from_db()
        assert limit.status == LimitStatus.ACTIVE

    def test_does_not_suspend_a_first_rating_of_d(self, underwriter):
        # A first grade is no downgrade; the rating coefficient already grants D nothing new.
        party = CustomerFactory()
        limit = CreditLimitFactory(counterparty=party)
        rate(party, "D", underwriter)
        limit.refresh_from_db()
        assert limit.status == LimitStatus.ACTIVE

    def test_refuses_an_unknown_grade(self, underwriter):
        with pytest.raises(ValidationError):
            rate(CustomerFactory(), "F", underwriter)
        assert not Rating.objects.exists()


class TestRatingDowngradedSignal:
    def test_fires_after_commit_on_a_downgrade(
        self, underwriter, downgrades, django_capture_on_commit_callbacks
    ):
        party = CustomerFactory()
        rate(party, "A", underwriter)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            rate(party, "C", underwriter)
        assert len(callbacks) == 1
        assert downgrades == [(Rating, "C", "A", underwriter)]

    def test_waits_for_the_commit(
        self, underwriter, downgrades, django_capture_on_commit_callbacks
    ):
        party = CustomerFactory()
        rate(party, "B", underwriter)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            rate(party, "E", underwriter)
            assert downgrades == []
        assert downgrades == []  # not committed yet
        callbacks[0]()
        assert downgrades == [(Rating, "E", "B", underwriter)]

    @pytest.mark.parametrize(("before", "after"), [(None, "D"), ("C", "A"), ("B", "B")])
    def test_stays_silent_without_a_downgrade(
        self, underwriter, downgrades, django_capture_on_commit_callbacks, before, after
    ):
        party = CustomerFactory()
        if before:
            rate(party, before, underwriter)
        with django_capture_on_commit_callbacks(execute=True):
            rate(party, after, underwriter)
        assert downgrades == []


# ------------------------------------------------------------------------ policy versions


def active_policy() -> AdvanceRatePolicy:
    return AdvanceRatePolicy.objects.get(status=PolicyStatus.ACTIVE)


class TestPolicyVersions:
    def test_ships_an_active_version_one_equal_to_the_default_table(self):
        ensure_default_policy()
        policy = active_policy()
        assert policy.version == 1
        assert policy.as_policy() == DEFAULT_POLICY
        assert policy.as_policy().problems() == []

    def test_creates_the_default_version_when_none_is_active(self):
        AdvanceRatePolicy.objects.all().delete()
        ensure_default_policy()
        ensure_default_policy()
        assert AdvanceRatePolicy.objects.count() == 1
        assert active_policy().as_policy() == DEFAULT_POLICY

    def test_drafts_a_copy_that_binds_nothing_until_activated(self, make_user):
        admin = make_user("admin")
        ensure_default_policy()
        current = active_policy()
        draft = policy_draft_from(policy=current, actor=admin, note="A格を優遇")
        assert (draft.version, draft.status, draft.created_by) == (
            current.version + 1, PolicyStatus.DRAFT, admin,
        )  # fmt: skip
        assert draft.as_policy().rating == current.as_policy().rating
        assert active_policy() == current
        assert AuditEvent.objects.get(action="credit.policy_drafted").data == {
            "from_version": current.version
        }

    def test_activating_a_draft_retires_the_previous_version(self, make_user):
        admin = make_user("admin")
        ensure_default_policy()
        first = active_policy()
        draft = policy_draft_from(policy=first, actor=admin)
        draft.rating_a = Decimal("0.0400")
        draft.save()
        activated = policy_activate(policy=draft, actor=admin)
        first.refresh_from_db()
        assert (activated.status, first.status) == (PolicyStatus.ACTIVE, PolicyStatus.RETIRED)
        assert activated.activated_at is not None
        assert active_policy().pk == draft.pk
        assert AuditEvent.objects.get(action="credit.policy_activated").data == {
            "version": draft.version, "retired": [first.version],
        }  # fmt: skip
        rate_under = {
            "scheme": "two_party", "registered": True, "debtor_rating": "A",
            "client_size": "small", "prior_deals": 0,
        }  # fmt: skip
        assert advance_rate(**rate_under, policy=active_policy().as_policy()) == Decimal("0.7600")
        assert advance_rate(**rate_under, policy=first.as_policy()) == Decimal("0.7500")

    def test_refuses_to_activate_a_table_that_rewards_a_worse_rating(self, make_user):
        admin = make_user("admin")
        ensure_default_policy()
        first = active_policy()
        draft = policy_draft_from(policy=first, actor=admin)
        draft.rating_a = Decimal("0.0100")  # below B's 0.0200
        draft.save()
        with pytest.raises(ValidationError):
            policy_activate(policy=draft, actor=admin)
        draft.refresh_from_db()
        assert draft.status == PolicyStatus.DRAFT
        assert active_policy() == first
        assert "credit.policy_activated" not in actions()

    def test_refuses_to_activate_a_version_twice(self, make_user):
        admin = make_user("admin")
        ensure_default_policy()
        with pytest.raises(InvalidStateError):
            policy_activate(policy=active_policy(), actor=admin)


class TestCustomerMerge:
    def test_a_merge_keeps_one_live_limit_and_balances_equal_to_the_ledger(self, make_user):
        from credit.models import Exposure
        from credit.services import reserve
        from customers.services import customer_merge

        actor = make_user("underwriter")
        survivor, merged = CustomerFactory(), CustomerFactory()
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        for party in (survivor, merged):
            CreditLimitFactory(counterparty=party, amount=10_000_000)
        CreditLimitFactory(counterparty=debtor, kind="debtor", amount=50_000_000)
        reserve(counterparty=survivor, amount=1_000_000, reference="S", actor=actor,
                debtor=debtor)  # fmt: skip
        reserve(counterparty=merged, amount=2_000_000, reference="M", actor=actor,
                debtor=debtor)  # fmt: skip
        customer_merge(survivor=survivor, merged=merged, actor=actor)
        assert CreditLimit.objects.filter(counterparty=survivor, status="active").count() == 1
        assert Exposure.objects.get(pk=survivor.pk).client_total == 3_000_000
        assert Exposure.objects.get(pk=merged.pk).client_total == 0
        assert Exposure.objects.get(pk=debtor.pk).debtor_total == 3_000_000
