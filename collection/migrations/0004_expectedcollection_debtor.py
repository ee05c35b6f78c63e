"""Keep the receivable's debtor on each expected collection (filled from the receivables);
the field becomes required in the next migration, after the rows are filled."""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
UPDATE collection_expectedcollection
SET debtor_id = (SELECT r.debtor_id FROM deals_receivable r
                 WHERE r.id = collection_expectedcollection.receivable_id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0003_csvmapping"),
        ("customers", "0002_customer_customer_by_reading"),
        ("deals", "0002_dashboard_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="expectedcollection",
            name="debtor",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.customer",
                verbose_name="debtor",
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
