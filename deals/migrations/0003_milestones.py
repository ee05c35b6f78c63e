"""Deal milestones (first quoted, furthest stage reached) and each stage move's business
days, backfilled from the stage log; covering indexes for the dashboard."""

from django.conf import settings
from django.db import migrations, models

from core.bulk import update_rows
from deals.milestones import business_days_in_stage, milestone_expressions

CHUNK = 5000


def backfill(apps, schema_editor):
    """Count each logged move's business days and read every deal's milestones off its log."""
    Deal = apps.get_model("deals", "Deal")
    StageChange = apps.get_model("deals", "StageChange")
    changes = StageChange.objects.only("pk", "at", "seconds_in_stage").order_by("pk")
    batch = []
    for change in changes.iterator(chunk_size=CHUNK):
        change.business_days = business_days_in_stage(change.at, change.seconds_in_stage)
        batch.append(change)
        if len(batch) == CHUNK:
            update_rows(StageChange, batch, ["business_days"])
            batch = []
    update_rows(StageChange, batch, ["business_days"])
    Deal.objects.update(**milestone_expressions(StageChange))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_customer_customer_by_reading"),
        ("deals", "0002_dashboard_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="deal",
            name="deals_deal_stage_78b058_idx",
        ),
        migrations.AddField(
            model_name="deal",
            name="first_quoted_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="first quoted at"
            ),
        ),
        migrations.AddField(
            model_name="deal",
            name="furthest_stage",
            field=models.PositiveSmallIntegerField(
                default=0,
                editable=False,
                help_text="Position in the pipeline of the furthest stage the deal has reached.",
                verbose_name="furthest stage reached",
            ),
        ),
        migrations.AddField(
            model_name="stagechange",
            name="business_days",
            field=models.PositiveIntegerField(
                default=0, editable=False, verbose_name="business days in previous stage"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["stage", "stage_entered_at"],
                include=("face_value", "id"),
                name="deals_deal_stage_cover_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(fields=["first_quoted_at"], name="deals_deal_first_q_dfe176_idx"),
        ),
        migrations.AddIndex(
            model_name="stagechange",
            index=models.Index(
                fields=["from_stage", "at"],
                include=("to_stage", "business_days", "id"),
                name="deals_move_from_cover_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="stagechange", name="deals_stage_from_st_714134_idx"),
    ]
