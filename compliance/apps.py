from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self) -> None:
        from django.urls import reverse

        from customers.panels import CustomerPanel, register_customer_panel

        register_customer_panel(
            CustomerPanel(
                name="clearance",
                permission="compliance.view_kycrecord",
                url=lambda customer: reverse("compliance:clearance", args=[customer.pk]),
            )
        )
