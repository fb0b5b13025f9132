from django.db import migrations

import marketplace.money


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_reconciliation")]

    operations = [
        migrations.AddField(
            model_name="settlement",
            name="promotion",
            field=marketplace.money.MoneyField(
                "platform-funded discount",
                default=0,
                help_text=(
                    "Platform coupons on this shop order: the buyer did not pay them, so the platform's commission "
                    "pays them to the shop in the split, and what the commission cannot cover is a subsidy the "
                    "platform owes the shop outside the split."
                ),
            ),
        ),
    ]
