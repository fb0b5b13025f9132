# Written by hand (the sandbox gateway's operations: refunds, splits, split returns, payouts).
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("payments", "0004_split_payments")]

    operations = [
        migrations.CreateModel(
            name="SandboxOperation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("refund", "Refund"),
                            ("split", "Split"),
                            ("split_return", "Split return"),
                            ("split_finish", "Finish splitting"),
                            ("payout", "Payout"),
                        ],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                (
                    "external_id",
                    models.CharField(max_length=64, unique=True, verbose_name="merchant's idempotency key"),
                ),
                ("receiver_account", models.CharField(blank=True, max_length=128, verbose_name="receiver account")),
                (
                    "receivers",
                    models.JSONField(blank=True, default=list, help_text="For a split.", verbose_name="receivers"),
                ),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="amount")),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                ("parameters", models.JSONField(default=dict, verbose_name="request")),
                (
                    "status",
                    models.CharField(
                        choices=[("succeeded", "Succeeded"), ("failed", "Failed")],
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("failure_reason", models.CharField(blank=True, max_length=200, verbose_name="failure reason")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "charge",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="operations",
                        to="payments.sandboxcharge",
                    ),
                ),
                (
                    "split",
                    models.ForeignKey(
                        blank=True,
                        help_text="For a split return: the split it takes the money back from.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="returns",
                        to="payments.sandboxoperation",
                    ),
                ),
            ],
            options={
                "verbose_name": "sandbox operation",
                "verbose_name_plural": "sandbox operations",
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["created_at"], name="sandbox_operation_day_idx")],
            },
        ),
    ]
