"""The sandbox gateway takes refunds, split instructions, split returns, the end of splitting and
payouts like a real provider: once per external id, within its own rules, and lists them on its
daily statement."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from orders.tests.fulfilment_factories import order_for
from payments.models import Payment, SandboxOperation
from payments.providers import get_provider, sandbox
from payments.providers.base import CallResult, ProviderRecord, Receiver
from payments.tests.helpers import deliver, press, start_payment

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _gateway_cannot_reach_us(settings):
    """The gateway's own delivery (after Pay) goes nowhere; the test delivers instead."""
    settings.SITE_URL = "http://127.0.0.1:9"


@pytest.fixture
def provider():
    return get_provider("sandbox")


def captured_payment(buyer, vendors) -> Payment:
    """The buyer pays on the hosted page (¥110.00 per shop) and the gateway's notification captures it."""
    client = Client()
    client.force_login(buyer)
    order = order_for(buyer=buyer, vendors=vendors, quantity=2, price="50.00")
    payment, charge = start_payment(client, order)
    press(client, charge, "pay")
    assert deliver(Client(), sandbox.notification_body(charge)).json() == {"status": "captured"}
    payment.refresh_from_db()
    assert payment.amount == D("110.00") * len(vendors) and payment.provider_reference == charge.provider_reference
    return payment


@pytest.fixture
def payment(buyer, shop_a, shop_b):
    return captured_payment(buyer, [shop_a, shop_b])


def balances(payment: Payment) -> sandbox.ChargeBalances:
    charge = sandbox._charge_by_reference(payment.provider_reference)
    return sandbox.charge_balances(charge)


def vendor(account: str, amount: str) -> Receiver:
    return Receiver(account=account, kind="vendor", amount=D(amount))


def test_sandbox_declares_split_refund_and_payout_with_wechat_like_freeze(provider, settings):
    settings.SANDBOX_FEE_RATE = D("0.0055")

    capabilities = get_provider("sandbox").capabilities

    assert capabilities.can_refund and capabilities.can_split and capabilities.can_payout
    assert capabilities.can_subsidize
    assert capabilities.freeze_days == 180
    assert capabilities.fee_rate == D("0.0055")
    assert sandbox.SandboxProvider.capabilities == capabilities  # the class answers the same


def test_refund_is_done_once_per_external_id(provider, payment):
    first = provider.refund(payment, external_id="RF-1", amount=D("50.00"), reason="broken cup")
    again = provider.refund(payment, external_id="RF-1", amount=D("50.00"), reason="broken cup")

    assert first.status == again.status == CallResult.SUCCEEDED
    assert first.provider_reference == again.provider_reference
    assert SandboxOperation.objects.filter(external_id="RF-1").count() == 1
    assert balances(payment).refunded == D("50.00")


def test_external_id_reused_with_another_amount_is_refused(provider, payment):
    provider.refund(payment, external_id="RF-1", amount=D("50.00"), reason="")

    conflicting = provider.refund(payment, external_id="RF-1", amount=D("60.00"), reason="")

    assert conflicting.status == CallResult.FAILED
    assert "RF-1" in conflicting.detail
    assert SandboxOperation.objects.get(external_id="RF-1").amount == D("50.00")
    assert balances(payment).refunded == D("50.00")


def test_external_id_reused_for_another_kind_of_call_is_refused(provider, payment):
    provider.refund(payment, external_id="CALL-1", amount=D("10.00"), reason="")

    payout = provider.payout(external_id="CALL-1", receiver_account="shop-a", amount=D("10.00"), currency="CNY")

    assert payout.status == CallResult.FAILED
    assert SandboxOperation.objects.filter(external_id="CALL-1").count() == 1


def test_refunds_never_exceed_the_charge_less_earlier_refunds(provider, payment):
    assert provider.refund(payment, external_id="RF-1", amount=D("200.00"), reason="").status == CallResult.SUCCEEDED

    too_much = provider.refund(payment, external_id="RF-2", amount=D("20.01"), reason="")
    the_rest = provider.refund(payment, external_id="RF-3", amount=D("20.00"), reason="")

    assert too_much.status == CallResult.FAILED and "exceeds" in too_much.detail
    assert the_rest.status == CallResult.SUCCEEDED
    assert balances(payment).refunded == D("220.00")
    # The refused instruction is remembered: its retry gets the same answer.
    assert provider.refund(payment, external_id="RF-2", amount=D("20.01"), reason="").status == CallResult.FAILED


def test_a_split_comes_out_of_the_frozen_unsplit_money(provider, payment):
    first = provider.split(
        payment, external_id="SP-1", receivers=[vendor("shop-a", "100.00"), vendor("shop-b", "50.00")]
    )

    too_much = provider.split(payment, external_id="SP-2", receivers=[vendor("shop-a", "70.01")])
    exactly_the_rest = provider.split(payment, external_id="SP-3", receivers=[vendor("shop-b", "70.00")])

    assert first.status == CallResult.SUCCEEDED
    assert too_much.status == CallResult.FAILED and "unsplit" in too_much.detail
    assert exactly_the_rest.status == CallResult.SUCCEEDED
    assert balances(payment).split == D("220.00") and balances(payment).frozen == D("0.00")


def test_a_split_retried_with_the_same_external_id_splits_once(provider, payment):
    receivers = [vendor("shop-a", "100.00"), Receiver(account="platform", kind="platform", amount=D("10.00"))]

    first = provider.split(payment, external_id="SP-1", receivers=receivers)
    retried = provider.split(payment, external_id="SP-1", receivers=receivers)

    assert first == retried and first.status == CallResult.SUCCEEDED
    assert balances(payment).split == D("110.00")


def test_a_split_has_at_most_fifty_receivers(provider, payment):
    receivers = [vendor(f"shop-{n}", "1.00") for n in range(51)]

    result = provider.split(payment, external_id="SP-1", receivers=receivers)

    assert result.status == CallResult.FAILED
    assert balances(payment).split == D("0")


def test_a_refund_after_a_split_needs_the_shares_returned_first(provider, payment):
    provider.split(payment, external_id="SP-1", receivers=[vendor("shop-a", "200.00")])

    refused = provider.refund(payment, external_id="RF-1", amount=D("100.00"), reason="")
    returned = provider.split_return(
        payment, external_id="SR-1", split_external_id="SP-1", receiver=vendor("shop-a", "80.00")
    )
    refunded = provider.refund(payment, external_id="RF-2", amount=D("100.00"), reason="")

    assert refused.status == CallResult.FAILED and "return the split first" in refused.detail
    assert returned.status == CallResult.SUCCEEDED
    assert refunded.status == CallResult.SUCCEEDED  # 20.00 never split + 80.00 returned
    assert balances(payment).held == D("0.00")


def test_a_split_return_never_exceeds_what_that_receiver_got(provider, payment):
    provider.split(payment, external_id="SP-1", receivers=[vendor("shop-a", "120.00"), vendor("shop-b", "30.00")])

    more_than_b_got = provider.split_return(
        payment, external_id="SR-1", split_external_id="SP-1", receiver=vendor("shop-b", "30.01")
    )
    all_b_got = provider.split_return(
        payment, external_id="SR-2", split_external_id="SP-1", receiver=vendor("shop-b", "30.00")
    )
    once_more = provider.split_return(
        payment, external_id="SR-3", split_external_id="SP-1", receiver=vendor("shop-b", "0.01")
    )
    never_a_receiver = provider.split_return(
        payment, external_id="SR-4", split_external_id="SP-1", receiver=vendor("shop-c", "1.00")
    )
    unknown_split = provider.split_return(
        payment, external_id="SR-5", split_external_id="SP-404", receiver=vendor("shop-a", "1.00")
    )

    assert more_than_b_got.status == CallResult.FAILED
    assert all_b_got.status == CallResult.SUCCEEDED
    assert once_more.status == never_a_receiver.status == unknown_split.status == CallResult.FAILED
    assert balances(payment).returned == D("30.00")


def test_a_split_return_only_takes_back_from_a_split_of_the_same_payment(provider, payment, buyer, shop_a):
    other_payment = captured_payment(buyer, [shop_a])
    provider.split(other_payment, external_id="SP-OTHER", receivers=[vendor("shop-a", "50.00")])

    result = provider.split_return(
        payment, external_id="SR-1", split_external_id="SP-OTHER", receiver=vendor("shop-a", "10.00")
    )

    assert result.status == CallResult.FAILED
    assert balances(other_payment).returned == D("0")


def test_finishing_the_split_releases_the_rest_and_ends_splitting(provider, payment):
    provider.split(payment, external_id="SP-1", receivers=[vendor("shop-a", "200.00")])

    finished = provider.split_finish(payment, external_id="FIN-1")
    split_after = provider.split(payment, external_id="SP-2", receivers=[vendor("shop-b", "1.00")])
    finished_again = provider.split_finish(payment, external_id="FIN-1")
    finished_twice = provider.split_finish(payment, external_id="FIN-2")

    assert finished.status == CallResult.SUCCEEDED
    assert SandboxOperation.objects.get(external_id="FIN-1").amount == D("20.00")  # released to the merchant
    assert split_after.status == CallResult.FAILED and "finished" in split_after.detail
    assert finished_again == finished
    assert finished_twice.status == CallResult.FAILED
    # Refunds still come out of what the merchant holds.
    assert provider.refund(payment, external_id="RF-1", amount=D("20.00"), reason="").status == CallResult.SUCCEEDED


def test_a_platform_subsidy_adds_to_what_can_be_split_until_splitting_is_finished(provider, payment):
    """The platform's 补差: its own money joins the charge's unsplit money, once per external id."""
    refused = provider.split(payment, external_id="SP-1", receivers=[vendor("shop-a", "230.00")])
    subsidy = provider.subsidy(payment, external_id="SUB-1", amount=D("10.00"))
    again = provider.subsidy(payment, external_id="SUB-1", amount=D("10.00"))
    other_amount = provider.subsidy(payment, external_id="SUB-1", amount=D("11.00"))
    split = provider.split(payment, external_id="SP-2", receivers=[vendor("shop-a", "230.00")])

    assert refused.status == CallResult.FAILED and "exceeds the unsplit 220.00" in refused.detail
    assert subsidy.status == CallResult.SUCCEEDED and again == subsidy
    assert other_amount.status == CallResult.FAILED
    assert split.status == CallResult.SUCCEEDED
    assert balances(payment).subsidized == D("10.00") and balances(payment).held == D("0.00")
    assert provider.split_finish(payment, external_id="FIN-1").status == CallResult.SUCCEEDED
    late = provider.subsidy(payment, external_id="SUB-2", amount=D("1.00"))
    assert late.status == CallResult.FAILED and "finished" in late.detail
    assert provider.subsidy(payment, external_id="SUB-3", amount=D("0.001")).status == CallResult.FAILED


def test_nothing_can_be_split_or_refunded_from_a_charge_that_was_not_paid(provider, buyer, shop_a):
    client = Client()
    client.force_login(buyer)
    unpaid, _charge = start_payment(client, order_for(buyer=buyer, vendors=[shop_a]))
    unpaid.refresh_from_db()

    split = provider.split(unpaid, external_id="SP-1", receivers=[vendor("shop-a", "1.00")])
    refund = provider.refund(unpaid, external_id="RF-1", amount=D("1.00"), reason="")

    assert split.status == refund.status == CallResult.FAILED
    assert "no captured charge" in split.detail


def test_payouts_succeed_at_once_unless_the_account_refuses(provider):
    paid = provider.payout(external_id="PO-1", receiver_account="shop-a", amount=D("99.50"), currency="CNY")
    refused = provider.payout(
        external_id="PO-2", receiver_account="fail-closed-account", amount=D("5.00"), currency="CNY"
    )
    refused_again = provider.payout(
        external_id="PO-2", receiver_account="fail-closed-account", amount=D("5.00"), currency="CNY"
    )

    assert paid.status == CallResult.SUCCEEDED and paid.provider_reference.startswith("sbx_payout_")
    assert refused.status == refused_again.status == CallResult.FAILED
    assert SandboxOperation.objects.filter(external_id="PO-2").count() == 1


def test_amounts_finer_than_the_currency_are_refused_not_rounded(provider, payment):
    result = provider.refund(payment, external_id="RF-1", amount=D("1.005"), reason="")

    assert result.status == CallResult.FAILED
    assert balances(payment).refunded == D("0")


def test_records_list_the_days_captures_and_succeeded_operations(provider, payment):
    provider.split(payment, external_id="SP-1", receivers=[vendor("shop-a", "150.00"), vendor("shop-b", "50.00")])
    provider.split_return(payment, external_id="SR-1", split_external_id="SP-1", receiver=vendor("shop-a", "30.00"))
    provider.refund(payment, external_id="RF-1", amount=D("50.00"), reason="")
    provider.refund(payment, external_id="RF-2", amount=D("500.00"), reason="")  # refused: not on the statement
    provider.split_finish(payment, external_id="FIN-1")  # releases money: not a movement to reconcile
    provider.payout(external_id="PO-1", receiver_account="shop-a", amount=D("10.00"), currency="CNY")

    today = timezone.localdate()
    records = provider.records(day=today)

    assert sorted((r.kind, r.reference, r.amount) for r in records) == [
        ("capture", payment.reference, D("220.00")),
        ("payout", "PO-1", D("10.00")),
        ("refund", "RF-1", D("50.00")),
        ("split", "SP-1", D("200.00")),
        ("split_return", "SR-1", D("30.00")),
    ]
    assert all(isinstance(r, ProviderRecord) and r.currency == "CNY" and r.provider_reference for r in records)
    capture = next(r for r in records if r.kind == "capture")
    assert capture.provider_reference == payment.provider_reference
    assert provider.records(day=today - timedelta(days=1)) == []


@pytest.mark.django_db(transaction=True)
def test_two_refunds_at_once_cannot_both_spend_the_same_money(provider, buyer, shop_a, shop_b):
    payment = captured_payment(buyer, [shop_a, shop_b])
    barrier = threading.Barrier(2)
    results = {}

    def refund(external_id: str) -> None:
        try:
            barrier.wait()
            results[external_id] = provider.refund(payment, external_id=external_id, amount=D("150.00"), reason="")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refund, args=(external_id,)) for external_id in ("RF-A", "RF-B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(result.status for result in results.values()) == [CallResult.FAILED, CallResult.SUCCEEDED]
    assert balances(payment).refunded == D("150.00")


@pytest.mark.django_db(transaction=True)
def test_the_same_split_delivered_twice_at_once_is_recorded_once(provider, buyer, shop_a, shop_b):
    payment = captured_payment(buyer, [shop_a, shop_b])
    barrier = threading.Barrier(2)
    results = []

    def split() -> None:
        try:
            barrier.wait()
            results.append(provider.split(payment, external_id="SP-1", receivers=[vendor("shop-a", "100.00")]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=split) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [result.status for result in results] == [CallResult.SUCCEEDED, CallResult.SUCCEEDED]
    assert results[0].provider_reference == results[1].provider_reference
    assert balances(payment).split == D("100.00")
