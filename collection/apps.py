"""回収: statements, expected collections, reconciliation, overdue, repurchase, dunning."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionConfig(AppConfig):
    name = "collection"
    verbose_name = _("Collection")

    def ready(self) -> None:
        from deals.models import Deal
        from deals.signals import deal_moved

        from .services.expectations import on_deal_moved

        deal_moved.connect(on_deal_moved, sender=Deal, dispatch_uid="collection.expectations")
