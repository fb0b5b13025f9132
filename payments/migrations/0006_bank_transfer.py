# Reserved for one line of work; operations are added by hand.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_provider_gateways")]

    operations = []
