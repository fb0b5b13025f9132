"""The money of one order, from capture to payout: splits, settlement, refunds and claw-backs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.tests.factories import make_category, make_product
from marketplace.models import AuditEvent
from orders.models import OrderLine, VendorOrder
from payments import ledger
from payments.invariants import ledger_problems
from payments.models import (
    CommissionRule,
    JournalEntry,
    LineSplit,
    Payout,
    ProviderCall,
    Refund,
    SandboxOperation,
    Settlement,
)
from payments.services.calls import calls_send_due
from payments.services.commission import commission_rates_for
from payments.services.payouts import PayoutRefused, available_money, payout_request
from payments.services.refunds import RefundRefused, refund_create
from payments.services.settlement import settle_due
from payments.tests.money_helpers import balance, complete, ledger_snapshot, owed_to, paid_order, pay
from payments.tests.order_builders import LineSpec, one_shop_order

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(shop_a):
    return make_product(vendor=shop_a, title="Longjing tea", variants=[{"sku": "LJ-1", "price": "33.33", "stock": 50}])


@pytest.fixture
def cups(shop_b):
    return make_product(vendor=shop_b, title="Tea cups", variants=[{"sku": "CUP-1", "price": "19.99", "stock": 50}])


def _rule(scope, rate, **target):
    return CommissionRule.objects.create(
        scope=scope, rate=D(rate), valid_from=timezone.now() - timedelta(days=1), **target
    )


def test_capture_splits_every_line_exactly_into_shop_commission_and_fee(buyer, shop_a, shop_b, tea, cups, settings):
    settings.SANDBOX_FEE_RATE = D("0.0060")
    _rule("platform", "0.0800")
    order, payment = paid_order(
        buyer=buyer, items={shop_a: [(tea.variants.get(), 3)], shop_b: [(cups.variants.get(), 1)]}, shipping="10.00"
    )
    splits = list(LineSplit.objects.filter(payment=payment).order_by("vendor_order_id", "id"))
    assert len(splits) == 4  # two lines and two shipping parts
    for split in splits:
        assert split.vendor_amount + split.commission + split.referral + split.fee + split.tax == split.paid
    tea_split = splits[0]
    assert tea_split.paid == D("99.99")
    assert tea_split.commission_rate == D("0.0800")
    assert tea_split.commission == D("8.00")  # 99.99 × 8% = 7.9992 -> 8.00 half-up
    assert sum(s.paid for s in splits) == payment.amount == order.grand_total
    fee_total = sum(s.fee for s in splits)
    from payments.services.split import fee_for

    assert fee_total == fee_for(payment=payment)
    # The ledger: clearing holds what the buyer paid; the shop's pending share is what its splits say.
    assert balance("provider", "sandbox", ledger.CLEARING) == payment.amount
    shop_a_share = sum(s.vendor_amount for s in splits if s.vendor_id == shop_a.pk)
    assert owed_to("vendor", shop_a.pk, ledger.PENDING) == shop_a_share
    assert owed_to("platform", "", ledger.COMMISSION_PENDING) == sum(s.commission for s in splits)
    assert JournalEntry.objects.filter(kind="capture").count() == 2  # one per shop order


def test_shop_rule_beats_category_rule_which_beats_the_platform_default(shop_a, shop_b):
    tea_root = make_category("Tea")
    green = make_category("Green tea", parent=tea_root)
    green_tea = make_product(vendor=shop_a, category=green, title="Green")
    other = make_product(vendor=shop_b, category=green, title="Other shop's green")
    _rule("platform", "0.0500")
    _rule("category", "0.0300", category=tea_root)  # the ancestor's rule covers the subcategory
    _rule("shop", "0.0200", vendor=shop_a)
    rates = commission_rates_for(lines=[(shop_a.pk, green_tea.pk), (shop_b.pk, other.pk)], at=timezone.now())
    assert rates[(shop_a.pk, green_tea.pk)] == D("0.0200")
    assert rates[(shop_b.pk, other.pk)] == D("0.0300")


def test_the_rate_in_force_when_paid_is_frozen_on_the_line(buyer, shop_a, tea):
    rule = _rule("shop", "0.1000", vendor=shop_a)
    order, payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]})
    CommissionRule.objects.filter(pk=rule.pk).update(rate=D("0.2500"))  # a later change
    split = LineSplit.objects.get(order_line__vendor_order__order=order)
    assert split.commission_rate == D("0.1000")


def test_expired_rules_do_not_apply(shop_a, tea):
    CommissionRule.objects.create(
        scope="shop",
        vendor=shop_a,
        rate=D("0.3000"),
        valid_from=timezone.now() - timedelta(days=10),
        valid_until=timezone.now() - timedelta(days=1),
    )
    rates = commission_rates_for(lines=[(shop_a.pk, tea.pk)], at=timezone.now())
    assert rates[(shop_a.pk, tea.pk)] == D("0.0500")  # settings.COMMISSION_DEFAULT_RATE


def test_settlement_moves_pending_to_available_once_after_the_return_window(buyer, shop_a, tea):
    order, payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 2)]})
    vendor_order = complete(order.vendor_orders.get())
    pending = owed_to("vendor", shop_a.pk, ledger.PENDING)
    assert pending > 0

    assert settle_due().settled == 0  # delivered just now: the window is still open
    VendorOrder.objects.filter(pk=vendor_order.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    assert settle_due().settled == 1
    assert settle_due().settled == 0  # idempotent

    settlement = Settlement.objects.get(vendor_order=vendor_order)
    assert settlement.vendor_amount == pending
    assert owed_to("vendor", shop_a.pk, ledger.PENDING) == 0
    assert owed_to("vendor", shop_a.pk, ledger.AVAILABLE) == pending
    assert owed_to("platform", "", ledger.COMMISSION_PENDING) == 0
    assert owed_to("platform", "", ledger.COMMISSION) == settlement.commission
    assert settlement.instruction.kind == ProviderCall.Kind.SPLIT
    assert settlement.instruction.external_id == f"split-{vendor_order.pk}"
    assert settlement.entry.idempotency_key == f"settle:vo:{vendor_order.pk}"


def test_a_batch_settles_each_shop_with_one_entry_summing_its_shop_orders(buyer, shop_a, shop_b, tea, cups):
    """One entry per shop and batch; each shop order keeps its own settlement and split call."""
    for items in ({shop_a: [(tea.variants.get(), 1)], shop_b: [(cups.variants.get(), 2)]},) * 2 + (
        {shop_a: [(tea.variants.get(), 3)]},
    ):
        order, _payment = paid_order(buyer=buyer, items=items)
        for vendor_order in order.vendor_orders.all():
            complete(vendor_order, delivered_days_ago=8)

    assert settle_due(batch_size=4).settled == 5  # two batches: 4 shop orders, then 1

    settlements = list(Settlement.objects.order_by("vendor_order_id"))
    assert len({s.instruction_id for s in settlements}) == 5
    assert [s.instruction.external_id for s in settlements] == [f"split-{s.vendor_order_id}" for s in settlements]
    entries = JournalEntry.objects.filter(kind="settlement")
    assert entries.count() == 3  # shop A and shop B in the first batch, shop A again in the second
    for entry in entries:
        covered = [s for s in settlements if s.entry_id == entry.pk]
        assert {s.vendor_id for s in covered} == {entry.reference["vendor"]}
        assert entry.idempotency_key == f"settle:vo:{covered[0].vendor_order_id}"
        vendor_pending = entry.postings.get(account__owner_type="vendor", account__purpose=ledger.PENDING)
        commission = entry.postings.get(account__purpose=ledger.COMMISSION)
        assert vendor_pending.amount == sum(s.vendor_amount for s in covered)
        assert commission.amount == -sum(s.commission for s in covered)
    assert owed_to("vendor", shop_a.pk, ledger.AVAILABLE) == sum(
        s.vendor_amount for s in settlements if s.vendor_id == shop_a.pk
    )
    assert ledger_problems() == []


def test_ledger_check_names_a_settlement_whose_unconstrained_references_are_wrong(buyer, shop_a, shop_b, tea, cups):
    """Settlement.vendor, .payment and .instruction have no database foreign key: ledger_check
    is what catches them going wrong."""
    first, _ = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]})
    second, other_payment = paid_order(buyer=buyer, items={shop_b: [(cups.variants.get(), 1)]})
    for order in (first, second):
        complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    assert ledger_problems() == []
    settlement = Settlement.objects.get(vendor_order__order=first)
    other = Settlement.objects.get(vendor_order__order=second)

    Settlement.objects.filter(pk=settlement.pk).update(vendor=shop_b)
    assert any(f"settlement of shop order {settlement.vendor_order_id} names shop" in p for p in ledger_problems())
    Settlement.objects.filter(pk=settlement.pk).update(vendor=shop_a, payment=other_payment)
    assert any("did not pay for it" in p for p in ledger_problems())
    Settlement.objects.filter(pk=settlement.pk).update(
        payment=settlement.payment, instruction_id=other.instruction_id + 1000
    )
    assert any("its instruction is not its payment's split call (missing" in p for p in ledger_problems())
    Settlement.objects.filter(pk=settlement.pk).update(instruction_id=settlement.instruction_id)
    assert ledger_problems() == []


def test_a_platform_coupon_its_commission_cannot_cover_is_paid_in_by_the_platform_before_the_split(
    buyer, shop_a, tea, settings
):
    settings.SANDBOX_FEE_RATE = D("0")
    # 100.00 with a 60.00 platform coupon: the buyer pays 40.00, the shop's share is 95.00; the
    # 5.00 commission pays 5.00 of the coupon, the platform's subsidy the other 55.00.
    order = one_shop_order(
        buyer=buyer,
        vendor=shop_a,
        lines=[LineSpec(variant=tea.variants.get(), unit_price=D("100.00"), quantity=1, platform_discount=D("60.00"))],
    )
    payment = pay(order)
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=8)
    clearing = balance("provider", "sandbox", ledger.CLEARING)

    settle_due()

    settlement = Settlement.objects.get(vendor_order=vendor_order)
    subsidy = ProviderCall.objects.get(external_id=f"subsidy-{vendor_order.pk}")
    assert settlement.subsidy == D("55.00") and settlement.vendor_amount == D("95.00")
    assert (subsidy.kind, subsidy.payment, subsidy.payload) == (
        ProviderCall.Kind.SUBSIDY,
        payment,
        {"amount": "55.00", "currency": "CNY"},
    )
    assert settlement.instruction.after == subsidy  # the split waits for the subsidy
    for _ in range(5):
        calls_send_due()
    settlement.instruction.refresh_from_db()
    assert settlement.instruction.status == ProviderCall.Status.SUCCEEDED
    routed = SandboxOperation.objects.get(external_id=settlement.instruction.external_id)
    assert [receiver["amount"] for receiver in routed.receivers] == ["95.00"]  # the shop's whole share
    entry = JournalEntry.objects.get(idempotency_key=f"subsidy:subsidy-{vendor_order.pk}")
    assert sorted((p.account.code, p.amount) for p in entry.postings.select_related("account")) == [
        ("platform:funding", D("-55.00")),
        ("provider:sandbox:clearing", D("55.00")),
    ]
    assert balance("provider", "sandbox", ledger.CLEARING) - clearing == D("55.00")  # the provider holds it
    assert ledger_problems() == []


def test_an_open_return_holds_settlement_back(buyer, shop_a, tea):
    from orders.models import ReturnRequest

    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]})
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=8)
    ReturnRequest.objects.create(
        vendor_order=vendor_order, buyer=buyer, number="R1", kind="refund_only", reason="damaged"
    )
    assert settle_due().settled == 0
    ReturnRequest.objects.filter(number="R1").update(status="closed")
    assert settle_due().settled == 1


def test_settle_command_with_until_settles_what_is_due_by_then(buyer, shop_a, tea, capsys):
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]})
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=5)
    call_command("settle", "--until", (timezone.now() - timedelta(days=1)).date().isoformat())
    assert not Settlement.objects.filter(vendor_order=vendor_order).exists()
    call_command("settle")
    assert "Settled 0" in capsys.readouterr().out
    VendorOrder.objects.filter(pk=vendor_order.pk).update(delivered_at=timezone.now() - timedelta(days=9))
    call_command("settle")
    assert "Settled 1" in capsys.readouterr().out


def test_partial_refunds_before_settlement_reverse_every_share_and_a_full_refund_leaves_zero(buyer, shop_a, tea):
    order, payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 3)]}, shipping="0.00")
    line = OrderLine.objects.get(vendor_order__order=order)
    vendor_order = line.vendor_order
    split = line.split
    first = refund_create(vendor_order=vendor_order, actor=buyer, reason="one broken", lines=[(line, D("33.33"))])
    assert first.amount == D("33.33")
    assert not first.after_settlement
    reversed_commission = first.lines.get().commission
    assert reversed_commission == (split.commission * D(1) / D(3)).quantize(D("0.01"))
    refund_create(vendor_order=vendor_order, actor=buyer, reason="rest", lines=[(line, D("66.66"))])
    assert owed_to("vendor", shop_a.pk, ledger.PENDING) == 0
    assert owed_to("platform", "", ledger.COMMISSION_PENDING) == 0
    assert balance("provider", "sandbox", ledger.FEES) == 0
    with pytest.raises(RefundRefused):
        refund_create(vendor_order=vendor_order, actor=buyer, reason="again", lines=[(line, D("0.01"))])


def test_refund_after_settlement_claws_back_and_the_debt_is_netted_at_the_next_settlement(buyer, shop_a, tea):
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    share = owed_to("vendor", shop_a.pk, ledger.AVAILABLE)
    payout = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None)
    assert payout.amount == share
    assert available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY") == 0

    line = OrderLine.objects.get(vendor_order=vendor_order)
    refund = refund_create(vendor_order=vendor_order, actor=None, reason="late claim", lines=[(line, D("33.33"))])
    assert refund.after_settlement
    # The shop's share was already paid out: it now owes it (negative available), not dropped.
    assert available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY") == -share
    assert owed_to("platform", "", ledger.COMMISSION) == 0  # the commission went back too

    second_order, _ = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 2)]}, shipping="0.00")
    second = complete(second_order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    settlement = Settlement.objects.get(vendor_order=second)
    assert settlement.netted == share
    assert available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY") == settlement.vendor_amount - share


def test_payouts_never_exceed_the_available_balance(buyer, shop_a, tea):
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]})
    complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    available = available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY")
    with pytest.raises(PayoutRefused):
        payout_request(
            owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None, amount=available + D("0.01")
        )
    payout = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None, amount=D("10.00"))
    assert payout.amount == D("10.00")
    assert AuditEvent.objects.filter(action="payout.requested", object_id=str(payout.pk)).exists()
    assert Payout.objects.count() == 1


def test_two_settlement_runs_produce_the_ledger_of_one(buyer, shop_a, shop_b, tea, cups):
    for _ in range(3):
        order, _payment = paid_order(
            buyer=buyer, items={shop_a: [(tea.variants.get(), 1)], shop_b: [(cups.variants.get(), 2)]}
        )
        for vendor_order in order.vendor_orders.all():
            complete(vendor_order, delivered_days_ago=8)
    settle_due(batch_size=2)
    first = ledger_snapshot()
    settle_due(batch_size=2)
    assert ledger_snapshot() == first
    assert Settlement.objects.count() == 6
    assert Refund.objects.count() == 0


def test_ledger_check_holds_after_captures_refunds_settlements_and_payouts(buyer, shop_a, shop_b, tea, cups, capsys):
    order, _payment = paid_order(
        buyer=buyer, items={shop_a: [(tea.variants.get(), 3)], shop_b: [(cups.variants.get(), 1)]}
    )
    tea_order = order.vendor_orders.get(vendor=shop_a)
    line = OrderLine.objects.get(vendor_order=tea_order)
    refund_create(vendor_order=tea_order, actor=buyer, reason="one", lines=[(line, D("33.33"))])
    for vendor_order in order.vendor_orders.all():
        complete(vendor_order, delivered_days_ago=8)
    settle_due()
    refund_create(vendor_order=tea_order, actor=None, reason="late", lines=[(line, D("33.33"))])
    payout_request(owner_type="vendor", owner_key=shop_b.pk, currency="CNY", actor=None)
    call_command("ledger_check")
    assert capsys.readouterr().out.startswith("OK:")


def test_money_frozen_near_the_provider_deadline_is_settled_early_and_stuck_orders_reported(
    buyer, shop_a, shop_b, tea, cups, admin_user
):
    from marketplace.models import Notification
    from payments.models import Payment
    from payments.services.settlement import frozen_money_watch

    order, payment = paid_order(
        buyer=buyer, items={shop_a: [(tea.variants.get(), 1)], shop_b: [(cups.variants.get(), 1)]}
    )
    assert payment.freeze_deadline is not None  # the sandbox freezes like WeChat Pay
    complete(order.vendor_orders.get(vendor=shop_a))  # delivered today: window still open
    assert frozen_money_watch() == {"settled": 0, "stuck": 0}  # the deadline is months away

    Payment.objects.filter(pk=payment.pk).update(freeze_deadline=timezone.now() + timedelta(days=3))
    result = frozen_money_watch()
    assert result == {"settled": 1, "stuck": 1}
    assert Settlement.objects.filter(vendor_order__vendor=shop_a).exists()
    assert Notification.objects.filter(user=admin_user, kind="payments.frozen_money").exists()


def test_a_full_refund_after_the_split_returns_every_receivers_share_first_then_refunds(
    buyer, shop_a, tea, django_capture_on_commit_callbacks
):
    order, payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 3)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    split_call = Settlement.objects.get(vendor_order=vendor_order).instruction
    split_call.refresh_from_db()
    assert split_call.status == ProviderCall.Status.SUCCEEDED  # the sandbox split it

    line = OrderLine.objects.get(vendor_order=vendor_order)
    with django_capture_on_commit_callbacks(execute=True):  # the calls go out after commit
        refund = refund_create(vendor_order=vendor_order, actor=None, reason="all broken", lines=[(line, D("99.99"))])
    refund.refresh_from_db()
    returns = ProviderCall.objects.filter(
        kind=ProviderCall.Kind.SPLIT_RETURN, external_id__startswith=refund.reference
    ).order_by("pk")
    assert sorted(call.payload["owner_type"] for call in returns) == ["platform", "vendor"]
    assert [(c.status, c.last_error) for c in returns] == [(ProviderCall.Status.SUCCEEDED, "")] * 2
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.call.after_id == returns.order_by("pk").last().pk  # the refund waited for the returns
    assert owed_to("vendor", shop_a.pk, ledger.AVAILABLE) == 0
    assert owed_to("platform", "", ledger.COMMISSION) == 0
    assert balance("provider", "sandbox", ledger.CLEARING) == 0


def test_only_the_last_shop_order_of_a_payment_to_settle_carries_the_finish_flag(buyer, shop_a, shop_b, tea, cups):
    order, payment = paid_order(
        buyer=buyer, items={shop_a: [(tea.variants.get(), 1)], shop_b: [(cups.variants.get(), 1)]}
    )
    first, second = order.vendor_orders.order_by("pk")
    complete(first, delivered_days_ago=8)
    complete(second)  # still inside its window
    settle_due()
    assert Settlement.objects.get(vendor_order=first).instruction.payload == {}  # another shop order is unsettled
    VendorOrder.objects.filter(pk=second.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    settle_due()
    assert Settlement.objects.get(vendor_order=second).instruction.payload == {"finish": True}
    finish = ProviderCall.objects.get(kind=ProviderCall.Kind.SPLIT_FINISH, payment=payment)
    assert finish.external_id == f"finish-{payment.reference}"


def test_in_one_batch_the_highest_shop_order_of_a_payment_carries_the_finish_flag_unless_one_is_held_back(
    buyer, shop_a, shop_b, tea, cups
):
    from orders.models import ReturnRequest

    both, _ = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)], shop_b: [(cups.variants.get(), 1)]})
    held, _ = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)], shop_b: [(cups.variants.get(), 1)]})
    for vendor_order in [*both.vendor_orders.all(), *held.vendor_orders.all()]:
        complete(vendor_order, delivered_days_ago=8)
    held_first, held_second = held.vendor_orders.order_by("pk")
    ReturnRequest.objects.create(vendor_order=held_second, buyer=buyer, number="R9", kind="refund_only", reason="x")

    assert settle_due().settled == 3

    first, second = both.vendor_orders.order_by("pk")
    assert Settlement.objects.get(vendor_order=first).instruction.payload == {}
    assert Settlement.objects.get(vendor_order=second).instruction.payload == {"finish": True}
    assert Settlement.objects.get(vendor_order=held_first).instruction.payload == {}  # its sibling has a return
    assert not Settlement.objects.filter(vendor_order=held_second).exists()
