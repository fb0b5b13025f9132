# Reserved for one line of work; operations are added by hand.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_split_payments")]

    operations = []
