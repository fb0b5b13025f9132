# Reserved for one line of work; operations are added by hand.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_coupons")]

    operations = [
        migrations.AddField(
            model_name="returnrequest",
            name="refund_approved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
