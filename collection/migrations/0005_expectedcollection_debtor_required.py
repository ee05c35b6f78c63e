import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("collection", "0004_expectedcollection_debtor")]

    operations = [
        migrations.AlterField(
            model_name="expectedcollection",
            name="debtor",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.customer",
                verbose_name="debtor",
            ),
        ),
        migrations.AddIndex(
            model_name="expectedcollection",
            index=models.Index(fields=["debtor", "status"], name="collection__debtor__fe3f30_idx"),
        ),
    ]
