"""The daily reconciliation: the sandbox gateway's statement against our ledger and records.

Each story runs a real day of money through the services and the sandbox gateway (pay, settle,
split, refund, payout), then doctors the PROVIDER's side (its SandboxCharge/SandboxOperation
rows are the remote gateway's own books) and checks that the run names the difference."""

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.tests.factories import make_product
from marketplace.errors import DomainError
from marketplace.models import AuditEvent
from payments import ledger
from payments.models import (
    Payout,
    ProviderCall,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
    SandboxCharge,
    SandboxOperation,
)
from payments.providers import PROVIDER_CLASSES
from payments.providers.base import PaymentProvider
from payments.services.reconciliation import (
    MismatchKind,
    reconcile_day,
    reconciliation_mismatches_resolve,
    split_amount,
)
from payments.services.settlement import split_lines, split_receivers
from payments.tasks import reconciliation_daily
from payments.tests.reconciliation_helpers import a_day_of_money

D = Decimal
pytestmark = pytest.mark.django_db


class NoStatementProvider(PaymentProvider):
    """A provider whose adapter cannot list its records (the interface's default answer)."""

    code = "no_statement"
    name = "Provider without a statement"


@pytest.fixture
def tea(shop_a):
    return make_product(vendor=shop_a, title="Longjing tea", variants=[{"sku": "LJ-1", "price": "100.00", "stock": 50}])


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def money_day(buyer, shop_a, tea):
    return a_day_of_money(buyer=buyer, shop=shop_a, variant=tea.variants.get())


def open_mismatches(run: ReconciliationRun) -> list[tuple[str, str]]:
    return sorted(run.mismatches.filter(resolved_at__isnull=True).values_list("kind", "reference"))


def operation(kind: str, external_id: str) -> SandboxOperation:
    return SandboxOperation.objects.get(kind=kind, external_id=external_id)


def test_a_clean_day_at_the_sandbox_reconciles_with_no_mismatch(money_day, today):
    assert money_day["late_refund"].status == Refund.Status.SUCCEEDED
    assert money_day["early_refund"].status == Refund.Status.SUCCEEDED
    assert money_day["payout"].status == Payout.Status.PAID
    assert ProviderCall.objects.filter(kind=ProviderCall.Kind.SPLIT_RETURN, status="succeeded").exists()

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == []
    assert run.mismatch_count == 0
    assert run.records_compared == 8  # 2 captures, 1 split, 2 split returns (shop, platform), 2 refunds, 1 payout
    assert run.finished_at is not None
    assert AuditEvent.objects.filter(action="reconciliation.run", object_id=str(run.pk)).exists()


def test_our_split_amount_is_the_total_the_split_instruction_sends(money_day):
    settlement = money_day["settlement"]

    sent = sum((receiver.amount for receiver in split_receivers(call=settlement.instruction)), D(0))

    lines = split_lines([settlement.vendor_order_id])[settlement.vendor_order_id]
    assert split_amount(settlement, lines) == sent == operation("split", settlement.instruction.external_id).amount


def test_a_capture_only_the_provider_knows_is_missing_in_ledger(money_day, today):
    SandboxCharge.objects.create(
        token=secrets.token_urlsafe(16),
        merchant_reference="PAY-NOBODY-KNOWS",
        amount=D("88.00"),
        currency="CNY",
        notify_url="http://shop.example/webhook",
        return_url="http://shop.example/return",
        status=SandboxCharge.Status.SUCCEEDED,
        completed_at=timezone.now(),
    )

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == [(MismatchKind.MISSING_IN_LEDGER, "PAY-NOBODY-KNOWS")]
    mismatch = run.mismatches.get()
    assert (mismatch.provider_amount, mismatch.ledger_amount, mismatch.currency) == (D("88.00"), None, "CNY")


def test_a_split_the_provider_did_under_an_id_we_never_sent_is_missing_in_ledger(money_day, today):
    SandboxOperation.objects.create(
        kind="split", external_id="split-999999", amount=D("12.00"), currency="CNY", status="succeeded"
    )

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == [(MismatchKind.MISSING_IN_LEDGER, "split-999999")]


def test_a_payout_missing_from_the_providers_statement_is_missing_at_provider(money_day, today):
    payout = money_day["payout"]
    operation("payout", payout.reference).delete()

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == [(MismatchKind.MISSING_AT_PROVIDER, payout.reference)]
    assert run.mismatches.get().ledger_amount == D("50.00")


def test_a_capture_the_provider_booked_for_another_amount_is_an_amount_mismatch(money_day, today):
    payment = money_day["open_payment"]
    SandboxCharge.objects.filter(merchant_reference=payment.reference).update(amount=payment.amount - D("0.01"))

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == [(MismatchKind.AMOUNT, payment.reference)]
    mismatch = run.mismatches.get()
    assert (mismatch.ledger_amount, mismatch.provider_amount) == (payment.amount, payment.amount - D("0.01"))


def test_a_split_whose_receivers_got_another_total_is_an_amount_mismatch(money_day, today):
    split = money_day["settlement"].instruction
    SandboxOperation.objects.filter(external_id=split.external_id).update(amount=D("1.00"))

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == [(MismatchKind.AMOUNT, split.external_id)]


def test_a_refund_the_provider_booked_in_another_currency_is_a_currency_mismatch(money_day, today):
    refund = money_day["early_refund"]
    SandboxOperation.objects.filter(external_id=refund.reference).update(currency="USD")

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == [(MismatchKind.CURRENCY, refund.reference)]
    assert run.mismatches.get().currency == "USD"


def test_a_ledger_entry_moving_clearing_without_any_payment_is_a_clearing_balance_mismatch(money_day, today):
    clearing = ledger.provider_clearing("sandbox", "CNY")
    before = ledger.account_balance(account=clearing)
    ledger.ledger_post(
        idempotency_key="stray:manual-fix",
        kind="manual",
        postings=[(clearing, D("5.00")), (ledger.platform_account(ledger.PROMOTIONS, "CNY"), D("-5.00"))],
    )

    run = reconcile_day(provider="sandbox", day=today)

    assert open_mismatches(run) == [(MismatchKind.CLEARING_BALANCE, "provider:sandbox:clearing")]
    mismatch = run.mismatches.get()
    assert (mismatch.ledger_amount, mismatch.provider_amount) == (before + D("5.00"), before)


def test_the_clearing_check_reads_the_ledger_as_of_the_end_of_the_day(money_day, today):
    """Money captured today is not yet in yesterday's clearing, on either side."""
    run = reconcile_day(provider="sandbox", day=today - timedelta(days=1))

    assert open_mismatches(run) == []
    assert run.records_compared == 0


def test_a_provider_without_a_statement_is_reported_once_and_still_self_checked(monkeypatch, today):
    monkeypatch.setitem(PROVIDER_CLASSES, "no_statement", f"{__name__}.NoStatementProvider")

    run = reconcile_day(provider="no_statement", day=today)
    run = reconcile_day(provider="no_statement", day=today)

    assert open_mismatches(run) == [(MismatchKind.NO_STATEMENT, "no_statement")]
    assert "no statement" in run.mismatches.get().detail


def test_reconciling_an_unknown_provider_is_refused():
    with pytest.raises(DomainError):
        reconcile_day(provider="carrier-pigeon", day=timezone.localdate())


def test_running_a_day_again_refreshes_open_mismatches_and_keeps_resolved_ones(money_day, today, admin_user):
    payment, refund = money_day["open_payment"], money_day["early_refund"]
    SandboxCharge.objects.filter(merchant_reference=payment.reference).update(amount=D("1.00"))
    SandboxOperation.objects.filter(external_id=refund.reference).update(currency="USD")
    first = reconcile_day(provider="sandbox", day=today)
    amount_mismatch = first.mismatches.get(kind=MismatchKind.AMOUNT)
    reconciliation_mismatches_resolve(
        mismatch_ids=[amount_mismatch.pk], actor=admin_user, note="Provider corrected its statement by hand"
    )

    again = reconcile_day(provider="sandbox", day=today)
    assert again.pk == first.pk
    assert ReconciliationRun.objects.filter(provider="sandbox", day=today).count() == 1
    assert open_mismatches(again) == [(MismatchKind.CURRENCY, refund.reference)]  # still there, not doubled
    # the resolved one is kept, and finding it again does not open it again
    assert list(again.mismatches.filter(resolved_at__isnull=False).values_list("pk", flat=True)) == [amount_mismatch.pk]

    SandboxOperation.objects.filter(external_id=refund.reference).update(currency="CNY")  # the provider fixed it
    fixed = reconcile_day(provider="sandbox", day=today)
    assert open_mismatches(fixed) == []
    assert fixed.mismatch_count == 0
    assert fixed.mismatches.count() == 1  # the resolved one, with its note
    assert fixed.mismatches.get().resolution == "Provider corrected its statement by hand"


def test_resolving_a_mismatch_needs_a_note_and_is_audited(money_day, today, admin_user):
    SandboxOperation.objects.filter(external_id=money_day["early_refund"].reference).update(currency="USD")
    run = reconcile_day(provider="sandbox", day=today)
    mismatch = run.mismatches.get()

    with pytest.raises(DomainError):
        reconciliation_mismatches_resolve(mismatch_ids=[mismatch.pk], actor=admin_user, note="  ")
    assert reconciliation_mismatches_resolve(mismatch_ids=[mismatch.pk], actor=admin_user, note="USD by mistake") == 1

    mismatch.refresh_from_db()
    run.refresh_from_db()
    assert (mismatch.resolved_by, mismatch.resolution) == (admin_user, "USD by mistake")
    assert run.mismatch_count == 0
    assert AuditEvent.objects.filter(
        action="reconciliation.mismatch_resolved", object_id=str(mismatch.pk), actor=admin_user
    ).exists()


def test_reconcile_command_exits_0_on_a_clean_day(money_day, today, capsys):
    call_command("reconcile", "--day", today.isoformat(), "--provider", "sandbox")

    assert "sandbox" in capsys.readouterr().out
    assert ReconciliationRun.objects.get(day=today).mismatch_count == 0


def test_reconcile_command_exits_1_and_prints_each_mismatch(money_day, today, capsys):
    payout = money_day["payout"]
    operation("payout", payout.reference).delete()

    with pytest.raises(CommandError) as failure:
        call_command("reconcile", "--day", today.isoformat(), "--provider", "sandbox")

    assert failure.value.returncode == 1
    assert f"missing_at_provider {payout.reference}" in capsys.readouterr().out


def test_reconcile_command_exits_2_when_it_cannot_reconcile(today):
    with pytest.raises(CommandError) as unknown:
        call_command("reconcile", "--day", today.isoformat(), "--provider", "carrier-pigeon")
    with pytest.raises(CommandError) as bad_day:
        call_command("reconcile", "--day", "yesterday")

    assert unknown.value.returncode == bad_day.value.returncode == 2
    assert not ReconciliationRun.objects.exists()


def test_reconcile_command_defaults_to_yesterday_for_every_enabled_provider(settings):
    settings.PAYMENT_PROVIDERS = ["sandbox"]

    call_command("reconcile")

    run = ReconciliationRun.objects.get()
    assert (run.provider, run.day) == ("sandbox", timezone.localdate() - timedelta(days=1))


def test_the_daily_job_reconciles_yesterday_once_per_enabled_provider_and_is_scheduled(settings):
    settings.PAYMENT_PROVIDERS = ["sandbox"]

    reconciliation_daily.delay()
    reconciliation_daily.delay()  # run twice: still one run per provider and day

    run = ReconciliationRun.objects.get()
    assert (run.provider, run.day) == ("sandbox", timezone.localdate() - timedelta(days=1))
    assert ReconciliationMismatch.objects.count() == 0
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "payments.tasks.reconciliation_daily" in scheduled
