from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


def _sync_schedule(sender, **kwargs):
    from .schedule import sync_beat_schedule

    sync_beat_schedule()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Every app's nightly checks register themselves from <app>/nightly.py.
        autodiscover_modules("nightly")
        post_migrate.connect(_sync_schedule, sender=self, dispatch_uid="core.sync_beat_schedule")
