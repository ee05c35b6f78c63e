import pytest
from django.core.management import call_command

from compliance.models import KycPolicy, Watchlist


@pytest.mark.django_db(transaction=True)
class TestDefaultsSurviveAFlush:
    def test_seed_demo_runs_on_a_freshly_flushed_database(self):
        call_command("seed_demo")
        assert (
            KycPolicy.objects.count() == 3 and Watchlist.objects.filter(kind="antisocial").exists()
        )

    def test_and_again_after_the_next_flush(self):
        call_command("seed_demo")
        assert dict(KycPolicy.objects.values_list("risk", "validity_months")) == {
            "high": 12,
            "normal": 24,
            "low": 36,
        }
