"""与信: ratings, credit limits, exposure ledger, advance rates and funding."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_default_policy(sender, **kwargs):
    from .services.policy import ensure_default_policy

    ensure_default_policy()


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("Credit")

    def ready(self) -> None:
        from django.urls import reverse

        from customers.merge_hooks import register_merge_hooks
        from customers.panels import CustomerPanel, register_customer_panel

        from .services.merge import rebuild_after_merge, supersede_merged_limits

        post_migrate.connect(
            _ensure_default_policy, sender=self, dispatch_uid="credit.default_policy"
        )
        register_merge_hooks("credit", before=supersede_merged_limits, after=rebuild_after_merge)
        register_customer_panel(
            CustomerPanel(
                name="credit",
                permission="credit.view_creditlimit",
                url=lambda customer: reverse("credit:panel", args=[customer.pk]),
            )
        )
