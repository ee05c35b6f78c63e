import pytest

from core.models import AuditEvent
from customers.choices import CustomerStatus
from customers.exceptions import MergeError
from customers.models import (
    BankAccount,
    ContactLog,
    Customer,
    DuplicateCandidate,
    KeyPerson,
    TransferName,
)
from customers.services import customer_merge, customer_merge_undo
from tests.factories import (
    BankAccountFactory,
    ContactLogFactory,
    CustomerFactory,
    KeyPersonFactory,
    TransferNameFactory,
)


@pytest.fixture
def steward(make_user):
    return make_user("compliance")


@pytest.fixture
def pair(db):
    survivor = CustomerFactory(
        name="株式会社山田商事", phone="", corporate_number=None, invoice_number=None
    )
    merged = CustomerFactory(name="山田商事(株)", phone="03-1111-2222")
    child = CustomerFactory(parent=merged)
    records = {
        "contact": ContactLogFactory(customer=merged),
        "account": BankAccountFactory(customer=merged),
        "person": KeyPersonFactory(customer=merged),
        "transfer": TransferNameFactory(customer=merged, name="ヤマダシヨウジ(カ"),
        "child": child,
    }
    first, second = sorted([survivor, merged], key=lambda c: c.pk)
    DuplicateCandidate.objects.create(
        first=first, second=second, score="0.9500", reasons=["名称が類似"]
    )
    return survivor, merged, records


@pytest.mark.django_db
class TestMerge:
    def test_moves_every_relation_to_the_survivor(self, pair, steward):
        survivor, merged, records = pair
        customer_merge(survivor=survivor, merged=merged, actor=steward)
        assert ContactLog.objects.get(pk=records["contact"].pk).customer_id == survivor.pk
        assert BankAccount.objects.get(pk=records["account"].pk).customer_id == survivor.pk
        assert KeyPerson.objects.get(pk=records["person"].pk).customer_id == survivor.pk
        assert TransferName.objects.get(pk=records["transfer"].pk).customer_id == survivor.pk
        assert Customer.objects.get(pk=records["child"].pk).parent_id == survivor.pk

    def test_keeps_the_merged_record_marked_and_pointing_to_the_survivor(self, pair, steward):
        survivor, merged, _ = pair
        customer_merge(survivor=survivor, merged=merged, actor=steward)
        merged.refresh_from_db()
        assert merged.status == CustomerStatus.MERGED and merged.merged_into == survivor

    def test_takes_chosen_fields_from_the_merged_record_including_unique_keys(self, pair, steward):
        survivor, merged, _ = pair
        number = merged.corporate_number
        customer_merge(
            survivor=survivor, merged=merged, actor=steward,
            take_from_merged=["phone", "corporate_number", "invoice_number"],
        )  # fmt: skip
        survivor.refresh_from_db()
        merged.refresh_from_db()
        assert survivor.phone == "03-1111-2222" and survivor.corporate_number == number
        assert merged.corporate_number is None

    def test_records_an_audit_event_and_closes_the_candidate(self, pair, steward):
        survivor, merged, _ = pair
        customer_merge(survivor=survivor, merged=merged, actor=steward)
        event = AuditEvent.objects.get(action="customer.merged")
        assert event.data["merged_id"] == merged.pk and event.actor == steward
        assert event.data["moved"]["customers.contactlog.customer"] == 1
        assert DuplicateCandidate.objects.get().status == DuplicateCandidate.Status.MERGED

    def test_refuses_to_merge_a_record_twice_or_into_itself(self, pair, steward):
        survivor, merged, _ = pair
        with pytest.raises(MergeError):
            customer_merge(survivor=survivor, merged=survivor, actor=steward)
        customer_merge(survivor=survivor, merged=merged, actor=steward)
        with pytest.raises(MergeError):
            customer_merge(survivor=survivor, merged=merged, actor=steward)


@pytest.mark.django_db
class TestMergeUndo:
    def test_puts_everything_back(self, pair, steward):
        survivor, merged, records = pair
        number = merged.corporate_number
        merge = customer_merge(
            survivor=survivor,
            merged=merged,
            actor=steward,
            take_from_merged=["phone", "corporate_number"],
        )
        customer_merge_undo(merge=merge, actor=steward)
        survivor.refresh_from_db()
        merged.refresh_from_db()
        assert merged.status == CustomerStatus.ACTIVE and merged.merged_into is None
        assert merged.corporate_number == number and survivor.corporate_number is None
        assert survivor.phone == ""
        assert ContactLog.objects.get(pk=records["contact"].pk).customer_id == merged.pk
        assert Customer.objects.get(pk=records["child"].pk).parent_id == merged.pk
        assert AuditEvent.objects.filter(action="customer.merge_undone").exists()

    def test_is_refused_once_something_new_was_attached(self, pair, steward):
        survivor, merged, _ = pair
        merge = customer_merge(survivor=survivor, merged=merged, actor=steward)
        ContactLogFactory(customer=survivor)
        with pytest.raises(MergeError):
            customer_merge_undo(merge=merge, actor=steward)
        merged.refresh_from_db()
        assert merged.status == CustomerStatus.MERGED
