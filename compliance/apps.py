from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_defaults(sender, **kwargs):
    from .defaults import ensure_defaults
    from .models import KycPolicy, Watchlist

    ensure_defaults(KycPolicy, Watchlist)


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self) -> None:
        from django.urls import reverse

        post_migrate.connect(_ensure_defaults, sender=self, dispatch_uid="compliance.defaults")

        from customers.panels import CustomerPanel, register_customer_panel

        register_customer_panel(
            CustomerPanel(
                name="clearance",
                permission="compliance.view_kycrecord",
                url=lambda customer: reverse("compliance:clearance", args=[customer.pk]),
            )
        )
