"""案件: deals, receivables, the pipeline, approvals and the authority matrix."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_defaults(sender, **kwargs):
    from .defaults import ensure_defaults
    from .models import AuthorityRule, LostReason, StallThreshold

    ensure_defaults(LostReason, AuthorityRule, StallThreshold)


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = _("Deals")

    def ready(self) -> None:
        from django.urls import reverse

        from customers.panels import CustomerPanel, register_customer_panel

        post_migrate.connect(_ensure_defaults, sender=self, dispatch_uid="deals.defaults")
        register_customer_panel(
            CustomerPanel(
                name="deals",
                permission="deals.view_deal",
                url=lambda customer: reverse("deals:customer_panel", args=[customer.pk]),
            )
        )
