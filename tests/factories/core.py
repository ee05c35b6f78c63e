import factory

from core.choices import AlertKind, AlertSeverity
from core.models import Alert


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    kind = AlertKind.OTHER
    severity = AlertSeverity.WARNING
    title = factory.Faker("sentence", locale="ja_JP", nb_words=4)
    dedup_key = factory.Sequence(lambda n: f"test-alert:{n}")
