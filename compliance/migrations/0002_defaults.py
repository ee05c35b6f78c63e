"""Default KYC validity by risk (high 1 year, normal 2, low 3) and the two standard lists."""

from django.db import migrations

POLICY = {"high": 12, "normal": 24, "low": 36}
LISTS = [
    ("社内反社リスト", "antisocial", "社内調査・警察照会・報道"),
    ("財務省 経済制裁対象者リスト", "sanctions", "財務省 外国為替及び外国貿易法に基づく資産凍結等の措置の対象者"),
]


def create(apps, schema_editor):
    KycPolicy = apps.get_model("compliance", "KycPolicy")
    Watchlist = apps.get_model("compliance", "Watchlist")
    for risk, months in POLICY.items():
        KycPolicy.objects.get_or_create(risk=risk, defaults={"validity_months": months})
    for name, kind, source in LISTS:
        Watchlist.objects.get_or_create(name=name, defaults={"kind": kind, "source": source})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
