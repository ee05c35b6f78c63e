"""Default KYC validity by risk (high 1 year, normal 2, low 3) and the two standard lists."""

from django.db import migrations


def create(apps, schema_editor):
    from compliance.defaults import ensure_defaults

    ensure_defaults(apps.get_model("compliance", "KycPolicy"), apps.get_model("compliance", "Watchlist"))


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
