"""Property tests of the money (PAYMENTS.md section 5): every invariant holds after every step.

Hypothesis draws a world (provider fee rate 0–2% borne by the shop or by the platform;
commission rules for the platform, categories and shops at 0–30%, with expired and future
decoys) and then random steps against it:
- pay a new random order through the sandbox: CNY or JPY, 1–3 shops, 1–4 lines each (unit
  price, quantity 1–5), shipping 0–30, shop and platform discounts per line, a referrer (or
  none, or the buyer themself) with a referral rate 0–30% (above the platform maximum too);
- refund random quantities or amounts of random lines and shipping, again and again down to
  the last minor unit (and ask for more than is left: refused, nothing written);
- complete a shop order delivered 8 days ago (due) or 2 days ago (not due);
- settle (in small batches, sometimes twice), send the due provider calls, request payouts
  (refused when nothing is available), replay the sandbox's notification of a payment.
After every step `ledger_problems()` is empty and the explicit checks of `_explicit_checks`
hold; each capture is also checked line by line against the rules written in split.py.

Each example runs inside a savepoint rolled back at its end, so each starts from a clean
ledger. Deterministic in CI (derandomize); `MONEY_PROPERTIES_EXPLORE=<n>` runs n random
examples of up to 30 steps instead, to hunt for new counter-examples locally.

The bugs these properties found are at the end of the module, each as its smallest story,
kept as regression tests (all fixed).
"""

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.tests.factories import make_category, make_product
from marketplace.money import exponent, quantize, round_half_up
from marketplace.tests.factories import UserFactory
from orders.models import OrderLine, VendorOrder
from payments import ledger
from payments.invariants import ledger_problems
from payments.models import (
    CommissionRule,
    JournalEntry,
    LedgerAccount,
    LineSplit,
    Payment,
    Payout,
    Posting,
    ProviderCall,
    Refund,
    RefundLine,
    SandboxCharge,
    SandboxOperation,
    Settlement,
    WebhookEvent,
)
from payments.services.calls import calls_send_due
from payments.services.payouts import PayoutRefused, available_money, payout_request
from payments.services.refunds import RefundRefused, line_refund_amount, refund_create
from payments.services.settlement import settle_due, split_lines, split_parts
from payments.tests.helpers import body_for, deliver
from payments.tests.money_helpers import complete, ledger_snapshot, paid_order, pay
from payments.tests.order_builders import LineSpec, ShopSpec, discounted_order, one_shop_order
from vendors.tests.factories import VendorFactory

D = Decimal
ZERO = D(0)
CURRENCIES = ["CNY", "JPY"]
PARTS = ("platform_discount", "commission", "referral", "fee", "tax", "vendor_amount")
CATEGORIES = ("root", "child", "other")  # child is under root; other is a second root
DUE, NOT_DUE = 8, 2  # days since delivery; the return window is settings.RETURN_WINDOW_DAYS (7)

_EXPLORE = int(os.environ.get("MONEY_PROPERTIES_EXPLORE", "0"))
MAX_STEPS = 30 if _EXPLORE else 25
MONEY_SETTINGS = settings(
    max_examples=_EXPLORE or 12,
    derandomize=not _EXPLORE,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def unit(currency: str) -> Decimal:
    return D(1).scaleb(-exponent(currency))


def minor(units: int, currency: str) -> Decimal:
    """An amount from a count of minor units (fen, yen)."""
    return quantize(D(units).scaleb(-exponent(currency)), currency)


def to_units(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(exponent(currency)))


def rates(max_basis_points: int) -> st.SearchStrategy[Decimal]:
    """Rates with 4 decimals, 0 to max/10000."""
    return st.integers(0, max_basis_points).map(lambda n: D(n).scaleb(-4).quantize(D("0.0001")))


@dataclass
class Cast:
    """Who and what every example uses (written once per test, outside the examples' savepoints)."""

    buyer: object
    referrers: list
    shops: list
    variants: dict  # (shop index, category key) -> ProductVariant
    categories: dict  # category key -> Category


def _cast() -> Cast:
    root = make_category("Tea ware")
    categories = {"root": root, "child": make_category("Teapots", parent=root), "other": make_category("Snacks")}
    shops = [VendorFactory(name=f"Shop {index}", slug=f"prop-shop-{index}") for index in range(3)]
    variants = {
        (index, key): make_product(vendor=shop, category=categories[key], title=f"{key} {index}").variants.get()
        for index, shop in enumerate(shops)
        for key in CATEGORIES
    }
    return Cast(
        buyer=UserFactory(email="prop.buyer@example.com"),
        referrers=[UserFactory(email="prop.referrer1@example.com"), UserFactory(email="prop.referrer2@example.com")],
        shops=shops,
        variants=variants,
        categories=categories,
    )


@dataclass(frozen=True)
class World:
    """What holds for a whole example: the provider's fee and who bears it, the commission rules."""

    fee_rate: Decimal
    fee_borne_by: str
    platform_rate: Decimal | None
    category_rates: dict[str, Decimal | None]
    shop_rates: list[Decimal | None]
    decoys: bool


worlds = st.builds(
    World,
    fee_rate=rates(200),
    fee_borne_by=st.sampled_from(["vendor", "platform"]),
    platform_rate=st.none() | rates(3000),
    category_rates=st.fixed_dictionaries({key: st.none() | rates(3000) for key in CATEGORIES}),
    shop_rates=st.lists(st.none() | rates(3000), min_size=3, max_size=3),
    decoys=st.booleans(),
)


class MoneyStory:
    """One example: the steps (each draws its own inputs from `data`), the checks run after every
    step, and what the story expects: what was paid, refunded, completed and settled."""

    def __init__(self, cast: Cast, world: World):
        self.cast = cast
        self.payments: list[Payment] = []
        self.refunded: dict[int, Decimal] = defaultdict(Decimal)  # split id -> refunded so far
        self.refunded_quantity: dict[int, int] = defaultdict(int)
        self.delivered_days_ago: dict[int, int] = {}  # completed shop order id -> days
        self.settled: set[int] = set()
        self.platform_rate, self.category_rates, self.shop_rates = (
            world.platform_rate,
            world.category_rates,
            world.shop_rates,
        )
        now = timezone.now()
        since = now - timedelta(days=1)
        if world.platform_rate is not None:
            CommissionRule.objects.create(scope="platform", rate=world.platform_rate, valid_from=since)
        for key, rate in world.category_rates.items():
            if rate is not None:
                CommissionRule.objects.create(
                    scope="category", category=cast.categories[key], rate=rate, valid_from=since
                )
        for shop, rate in zip(cast.shops, world.shop_rates, strict=True):
            if rate is not None:
                CommissionRule.objects.create(scope="shop", vendor=shop, rate=rate, valid_from=since)
        if world.decoys:  # rules that are not in force when the orders are paid must never apply
            for shop in cast.shops:
                CommissionRule.objects.create(
                    scope="shop", vendor=shop, rate=D("0.9000"), valid_from=now - timedelta(days=30),
                    valid_until=now - timedelta(days=2),
                )  # fmt: skip
            CommissionRule.objects.create(scope="platform", rate=D("0.8000"), valid_from=now + timedelta(days=1))

    def enabled_steps(self) -> list[str]:
        """The steps that can run now, the more productive ones listed twice (drawn twice as often)."""
        steps = ["pay_a_new_order", "request_a_payout"]
        if self.payments:
            steps += ["refund_more_than_is_left", "replay_a_payment_notification"]
        if self._refundable_splits():
            steps += ["refund_part_of_a_shop_order"] * 2
        if self._partly_refunded_splits():
            steps += ["refund_more_of_a_partly_refunded_line"]
        if self._uncompleted():
            steps += ["complete_a_shop_order"] * 2
        if set(self.delivered_days_ago) - self.settled:
            steps += ["settle"] * 2
        if self._calls_due():
            steps += ["send_due_provider_calls"]
        return steps

    def expected_rate(self, shop_index: int, category_key: str) -> Decimal:
        """The most specific rule in force: the shop's, else the nearest category's, else the platform's."""
        if self.shop_rates[shop_index] is not None:
            return self.shop_rates[shop_index]
        for key in {"root": ["root"], "child": ["child", "root"], "other": ["other"]}[category_key]:
            if self.category_rates[key] is not None:
                return self.category_rates[key]
        return self.platform_rate if self.platform_rate is not None else django_settings.COMMISSION_DEFAULT_RATE

    # --- steps ----------------------------------------------------------------------------

    def pay_a_new_order(self, data):
        currency = data.draw(st.sampled_from(CURRENCIES), label="currency")
        shop_indexes = data.draw(st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True), label="shops")
        carts = [(index, self._draw_cart(data, index, currency)) for index in shop_indexes]
        specs = [spec for _index, (spec, _keys) in carts]
        if all(
            spec.shipping == 0
            and all(line.line_total(currency) == line.shop_discount + line.platform_discount for line in spec.lines)
            for spec in specs
        ):
            # A zero order is never sent to a provider: the first shop charges one minor unit of shipping.
            specs[0] = ShopSpec(vendor=specs[0].vendor, shipping=unit(currency), lines=specs[0].lines)
        order = discounted_order(buyer=self.cast.buyer, shops=specs, currency=currency)
        payment = pay(order)
        self.payments.append(payment)
        self._check_capture(payment=payment, carts=[(index, keys) for index, (_spec, keys) in carts], specs=specs)

    def _draw_cart(self, data, shop_index: int, currency: str) -> tuple[ShopSpec, list[str]]:
        max_price = 999_999 if currency == "CNY" else 9_999
        shipping = minor(
            data.draw(st.just(0) | st.integers(0, 30 * 10 ** exponent(currency)), label="shipping"), currency
        )
        lines, keys = [], []
        for _ in range(data.draw(st.integers(1, 4), label="lines")):
            key = data.draw(st.sampled_from(CATEGORIES), label="category")
            unit_price = minor(data.draw(st.integers(1, max_price), label="unit price"), currency)
            quantity = data.draw(st.integers(1, 5), label="quantity")
            total = to_units(unit_price * quantity, currency)
            # Discounts: none, any part of the line, or all of what is left of it (boundaries matter).
            shop_discount = data.draw(st.sampled_from([0, total]) | st.integers(0, total), label="shop discount")
            left = total - shop_discount
            platform_discount = data.draw(st.sampled_from([0, left]) | st.integers(0, left), label="platform discount")
            who = data.draw(st.sampled_from([None, 0, 1, "buyer"]), label="referrer")
            referrer = self.cast.buyer if who == "buyer" else None if who is None else self.cast.referrers[who]
            lines.append(
                LineSpec(
                    variant=self.cast.variants[(shop_index, key)],
                    unit_price=unit_price,
                    quantity=quantity,
                    shop_discount=minor(shop_discount, currency),
                    platform_discount=minor(platform_discount, currency),
                    referrer=referrer,
                    referral_rate=data.draw(rates(3000), label="referral rate") if referrer else ZERO,
                )
            )
            keys.append(key)
        return ShopSpec(vendor=self.cast.shops[shop_index], shipping=shipping, lines=lines), keys

    def refund_part_of_a_shop_order(self, data):
        by_vendor_order = defaultdict(list)
        for split in self._refundable_splits():
            by_vendor_order[split.vendor_order_id].append(split)
        vendor_order_id = data.draw(st.sampled_from(sorted(by_vendor_order)), label="shop order")
        candidates = by_vendor_order[vendor_order_id]
        chosen = data.draw(
            st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique_by=lambda split: split.pk),
            label="splits",
        )
        currency = chosen[0].currency
        lines, quantities, shipping = [], {}, ZERO
        wanted: dict[int, tuple[Decimal, int]] = {}
        for split in chosen:
            left = split.paid - self.refunded[split.pk]
            line = split.order_line
            already = self.refunded_quantity[split.pk]
            if line is not None and already < line.quantity and data.draw(st.booleans(), label="by quantity"):
                quantity = data.draw(st.integers(1, line.quantity - already), label="quantity")
                amount = line_refund_amount(order_line=line, quantity=quantity, already_quantity=already)
            else:
                quantity, amount = (
                    0,
                    minor(data.draw(st.integers(1, to_units(left, currency)), label="amount"), currency),
                )
            wanted[split.pk] = (amount, quantity)
            if line is None:
                shipping = amount
            else:
                lines.append((line, amount))
                quantities[line.pk] = quantity
        vendor_order = VendorOrder.objects.get(pk=vendor_order_id)
        total = sum((amount for amount, _quantity in wanted.values()), ZERO)
        too_much = any(wanted[split.pk][0] > split.paid - self.refunded[split.pk] for split in chosen)
        if too_much or total == 0:
            self._assert_refused_and_nothing_written(vendor_order, lines, shipping, quantities)
            return
        refund = refund_create(
            vendor_order=vendor_order,
            actor=None,
            reason="property",
            lines=lines,
            shipping=shipping,
            quantities=quantities,
        )
        assert refund.amount == total
        assert refund.after_settlement == (vendor_order_id in self.settled)
        for split_id, (amount, quantity) in wanted.items():
            self.refunded[split_id] += amount
            if amount:
                self.refunded_quantity[split_id] += quantity

    def refund_more_of_a_partly_refunded_line(self, data):
        """Partial refunds of one line one after the other, down to the last minor unit, are
        where cumulative rounding goes wrong (invariant 8)."""
        split = data.draw(st.sampled_from(self._partly_refunded_splits()), label="split")
        left = split.paid - self.refunded[split.pk]
        amount = (
            left
            if data.draw(st.booleans(), label="the rest")
            else minor(data.draw(st.integers(1, to_units(left, split.currency)), label="amount"), split.currency)
        )
        line = split.order_line
        refund_create(
            vendor_order=split.vendor_order,
            actor=None,
            reason="property",
            lines=[] if line is None else [(line, amount)],
            shipping=amount if line is None else ZERO,
        )
        self.refunded[split.pk] += amount

    def refund_more_than_is_left(self, data):
        split = data.draw(st.sampled_from(list(LineSplit.objects.select_related("order_line").order_by("pk"))))
        extra = minor(data.draw(st.integers(1, 100_000), label="extra"), split.currency)
        amount = split.paid - self.refunded[split.pk] + extra
        lines = [] if split.order_line is None else [(split.order_line, amount)]
        shipping = amount if split.order_line is None else ZERO
        self._assert_refused_and_nothing_written(split.vendor_order, lines, shipping, {})

    def _assert_refused_and_nothing_written(self, vendor_order, lines, shipping, quantities):
        before = self._state()
        with pytest.raises(RefundRefused):
            refund_create(
                vendor_order=vendor_order,
                actor=None,
                reason="too much",
                lines=lines,
                shipping=shipping,
                quantities=quantities,
            )
        assert self._state() == before

    def complete_a_shop_order(self, data):
        vendor_order = data.draw(st.sampled_from(self._uncompleted()), label="shop order")
        days = data.draw(st.sampled_from([DUE, NOT_DUE]), label="delivered days ago")
        complete(vendor_order, delivered_days_ago=days)
        self.delivered_days_ago[vendor_order.pk] = days

    def settle(self, data):
        batch_size = data.draw(st.sampled_from([None, 1, 2]), label="batch size")
        twice = data.draw(st.booleans(), label="twice")
        due = {pk for pk, days in self.delivered_days_ago.items() if days == DUE} - self.settled
        result = settle_due(batch_size=batch_size)
        assert result.settled == len(due)
        self.settled |= due
        assert set(Settlement.objects.values_list("vendor_order_id", flat=True)) == self.settled
        if twice:
            # The settlement run also sweeps the provider calls; let the outbox finish first so
            # that only the second settlement could change the ledger.
            self._drain_calls()
            once = self._state()
            assert settle_due(batch_size=batch_size).settled == 0
            self._drain_calls()
            assert self._state() == once

    def send_due_provider_calls(self, data):
        self._drain_calls()

    def request_a_payout(self, data):
        parties = [("vendor", shop.pk) for shop in self.cast.shops] + [
            ("referrer", user.pk) for user in [*self.cast.referrers, self.cast.buyer]
        ]
        with_money = [
            (row["account__owner_type"], int(row["account__owner_key"]), row["account__currency"])
            for row in Posting.objects.filter(account__purpose=ledger.AVAILABLE)
            .values("account__owner_type", "account__owner_key", "account__currency")
            .annotate(total=Sum("amount"))
            .filter(total__lt=0)
            .order_by("account__owner_type", "account__owner_key", "account__currency")
        ]
        if with_money and data.draw(st.booleans(), label="a party with money available"):
            owner_type, owner_key, currency = data.draw(st.sampled_from(with_money), label="party")
        else:
            owner_type, owner_key = data.draw(st.sampled_from(parties), label="party")
            currency = data.draw(st.sampled_from(CURRENCIES), label="payout currency")
        available = available_money(owner_type=owner_type, owner_key=owner_key, currency=currency)
        if available <= 0 or data.draw(st.booleans(), label="ask too much"):
            amount = None if available <= 0 else available + minor(data.draw(st.integers(1, 1000)), currency)
            before = self._state()
            with pytest.raises(PayoutRefused):
                payout_request(owner_type=owner_type, owner_key=owner_key, currency=currency, actor=None, amount=amount)
            assert self._state() == before
            return
        everything = data.draw(st.booleans(), label="everything")
        amount = None if everything else minor(data.draw(st.integers(1, to_units(available, currency))), currency)
        payout = payout_request(
            owner_type=owner_type, owner_key=owner_key, currency=currency, actor=None, amount=amount
        )
        assert payout.amount == (available if everything else amount)
        assert (
            available_money(owner_type=owner_type, owner_key=owner_key, currency=currency) == available - payout.amount
        )

    def replay_a_payment_notification(self, data):
        payment = data.draw(st.sampled_from(self.payments), label="payment")
        charge = SandboxCharge.objects.get(merchant_reference=payment.reference)
        before = self._state()
        response = deliver(Client(), body_for(charge))
        assert response.status_code == 200, response.content
        assert self._state() == before

    # --- after every step -----------------------------------------------------------------

    def check(self):
        assert ledger_problems() == []
        self._explicit_checks()

    def _explicit_checks(self):
        splits = list(LineSplit.objects.order_by("pk"))
        reversed_parts = {
            row["split_id"]: row
            for row in RefundLine.objects.values("split_id").annotate(
                paid=Sum("paid"), **{part: Sum(part) for part in PARTS}
            )
        }
        captured = {payment.pk: payment.amount for payment in self.payments}
        split_totals: dict[int, Decimal] = defaultdict(Decimal)
        for split in splits:
            # Every line split's parts add up to what was paid plus the platform's discount, exactly.
            assert (
                split.vendor_amount + split.commission + split.referral + split.fee + split.tax
                == split.paid + split.platform_discount
            ), split.pk
            split_totals[split.payment_id] += split.paid
            refunded = reversed_parts.get(split.pk, {}).get("paid") or ZERO
            # Refunds of a line never exceed what was paid for it, and are what we asked for.
            assert refunded <= split.paid
            assert refunded == self.refunded[split.pk]
            if refunded:
                for part in PARTS[:-1]:  # each reversal is the cumulative half-up share of the part
                    expected = round_half_up(getattr(split, part) * refunded / split.paid, split.currency)
                    assert reversed_parts[split.pk][part] == expected, (split.pk, part)
            if refunded == split.paid and refunded:
                for part in PARTS:  # a fully refunded line leaves zero for every party
                    assert getattr(split, part) - reversed_parts[split.pk][part] == 0, (split.pk, part)
        # The sum of the splits of a payment is what the provider captured.
        assert dict(split_totals) == captured

        # After settlement, a shop order leaves nothing pending for anybody: its capture and its
        # refunds before settlement, with the settlement entry it shares with the shop's other
        # shop orders of the batch (and theirs), add up to zero on every pending account.
        pending = Q(account__purpose=ledger.PENDING) | Q(account__purpose=ledger.COMMISSION_PENDING)
        by_entry: dict[int | None, list[int]] = defaultdict(list)
        for vendor_order_id, entry_id in Settlement.objects.filter(vendor_order_id__in=self.settled).values_list(
            "vendor_order_id", "entry_id"
        ):
            by_entry[entry_id].append(vendor_order_id)
        groups = [(entry_id, vos) for entry_id, vos in by_entry.items() if entry_id is not None]
        groups += [(None, [vendor_order_id]) for vendor_order_id in by_entry.get(None, [])]
        for entry_id, vendor_order_ids in groups:
            rows = (
                Posting.objects.filter(pending)
                .filter(Q(entry__reference__vendor_order__in=vendor_order_ids) | Q(entry_id=entry_id))
                .values("account_id")
                .annotate(total=Sum("amount"))
                .exclude(total=0)
            )
            assert list(rows) == [], vendor_order_ids
        # Settlement only after completion and the return window.
        window = timedelta(days=django_settings.RETURN_WINDOW_DAYS)
        for settlement in Settlement.objects.select_related("vendor_order"):
            assert settlement.vendor_order.status == VendorOrder.Status.COMPLETED
            assert settlement.vendor_order.delivered_at <= settlement.settled_at - window

        # No balance has more decimals than its currency.
        for row in Posting.objects.values("account_id", "account__currency").annotate(total=Sum("amount")):
            assert row["total"] == quantize(row["total"], row["account__currency"]), row
        for split in splits:
            for part in ("paid", *PARTS):
                assert getattr(split, part) == quantize(getattr(split, part), split.currency)

        # The sandbox, which enforces WeChat Pay's profit-sharing rules, accepts every instruction
        # the ledger derives: no split asks for money the charge does not hold, no split return
        # asks a receiver for more than it got, no refund finds the money split out.
        refused = list(
            ProviderCall.objects.filter(
                status__in=[ProviderCall.Status.FAILED, ProviderCall.Status.NOT_SUPPORTED]
            ).values_list("kind", "external_id", "last_error")
        )
        assert refused == []

        # The provider's own records agree with ours: the refunds it made and the payouts it sent
        # are exactly the ones the ledger confirmed, for the same amounts (invariants 7 and 11).
        done = SandboxOperation.objects.filter(status=SandboxOperation.Status.SUCCEEDED)
        assert sorted(done.filter(kind=SandboxOperation.Kind.REFUND).values_list("external_id", "amount")) == sorted(
            Refund.objects.filter(status=Refund.Status.SUCCEEDED).values_list("reference", "amount")
        )
        assert sorted(done.filter(kind=SandboxOperation.Kind.PAYOUT).values_list("external_id", "amount")) == sorted(
            Payout.objects.filter(status=Payout.Status.PAID).values_list("reference", "amount")
        )

    def _check_capture(self, *, payment: Payment, carts: list[tuple[int, list[str]]], specs: list[ShopSpec]):
        """The capture's splits, line by line, against the rules of split.py."""
        currency = payment.currency
        order = payment.order
        assert payment.amount == order.grand_total
        fee_rate = django_settings.SANDBOX_FEE_RATE
        platform_bears = django_settings.PROVIDER_FEE_BORNE_BY == "platform"
        splits = list(LineSplit.objects.filter(payment=payment).order_by("pk"))
        total_paid = sum((split.paid for split in splits), ZERO)
        fee_total = min(round_half_up(payment.amount * fee_rate, currency), total_paid)
        assert sum((split.fee for split in splits), ZERO) == fee_total
        for split in splits:  # the fee is shared by the largest-remainder rule: within one minor unit
            assert split.fee >= 0
            if total_paid:
                assert abs(split.fee - fee_total * split.paid / total_paid) < unit(currency)
            assert split.fee_bearer == ("platform" if platform_bears else "vendor")
        by_line = {split.order_line_id: split for split in splits}
        vendor_orders = list(order.vendor_orders.order_by("pk"))
        assert len(splits) == sum(len(spec.lines) + (spec.shipping > 0) for spec in specs)
        for vendor_order, (shop_index, keys), spec in zip(vendor_orders, carts, specs, strict=True):
            assert vendor_order.vendor_id == spec.vendor.pk
            order_lines = list(OrderLine.objects.filter(vendor_order=vendor_order).order_by("pk"))
            for order_line, key, line in zip(order_lines, keys, spec.lines, strict=True):
                split = by_line[order_line.pk]
                base = line.line_total(currency) - line.shop_discount
                referred = line.referrer is not None and line.referrer != self.cast.buyer
                referral_rate = min(line.referral_rate, django_settings.REFERRAL_RATE_MAX) if referred else ZERO
                commission = round_half_up(base * self.expected_rate(shop_index, key), currency)
                referral = round_half_up(base * referral_rate, currency)
                assert split.commission_rate == self.expected_rate(shop_index, key)
                assert split.paid == base - line.platform_discount
                assert split.platform_discount == line.platform_discount
                assert split.referral == referral
                assert split.referrer_id == (line.referrer.pk if referral > 0 else None)
                assert split.commission == commission - (split.fee if platform_bears else ZERO)
            if spec.shipping > 0:
                shipping = next(s for s in splits if s.vendor_order_id == vendor_order.pk and s.order_line_id is None)
                assert shipping.paid == spec.shipping
                assert shipping.referral == 0
                assert shipping.commission == (-shipping.fee if platform_bears else ZERO)
        # The buyer never earns a referral on their own purchase.
        assert not LedgerAccount.objects.filter(owner_type=ledger.REFERRER, owner_key=str(self.cast.buyer.pk)).exists()

    # --- helpers --------------------------------------------------------------------------

    def _refundable_splits(self) -> list[LineSplit]:
        return [
            split
            for split in LineSplit.objects.select_related("order_line").order_by("pk")
            if split.paid - self.refunded[split.pk] > 0
        ]

    def _partly_refunded_splits(self) -> list[LineSplit]:
        partly = [pk for pk, refunded in self.refunded.items() if refunded > 0]
        return [
            split
            for split in LineSplit.objects.filter(pk__in=partly)
            .select_related("order_line", "vendor_order")
            .order_by("pk")
            if split.paid - self.refunded[split.pk] > 0
        ]

    def _uncompleted(self) -> list[VendorOrder]:
        return list(
            VendorOrder.objects.filter(order__payments__status=Payment.Status.CAPTURED)
            .exclude(pk__in=list(self.delivered_days_ago))
            .order_by("pk")
        )

    def _calls_due(self) -> bool:
        return ProviderCall.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()), status=ProviderCall.Status.PENDING
        ).exists()

    def _drain_calls(self) -> None:
        for _ in range(10):
            if not calls_send_due():
                return
        raise AssertionError("the provider calls keep coming")

    def _state(self) -> tuple:
        """The ledger and the counts of every state table a step could write to."""
        counts = {
            model.__name__: model.objects.count()
            for model in (JournalEntry, LineSplit, Refund, RefundLine, Payout, ProviderCall, Settlement, WebhookEvent)
        }
        statuses = {
            model.__name__: sorted(model.objects.values_list("status").annotate(n=Count("id")))
            for model in (Payment, Refund, Payout, ProviderCall)
        }
        return ledger_snapshot(), counts, statuses


@pytest.mark.slow
@pytest.mark.django_db
def test_every_money_invariant_holds_after_every_step_of_random_orders_refunds_settlements_and_payouts():
    cast = _cast()

    @MONEY_SETTINGS
    @given(world=worlds, data=st.data())
    def story(world: World, data):
        fees = override_settings(SANDBOX_FEE_RATE=world.fee_rate, PROVIDER_FEE_BORNE_BY=world.fee_borne_by)
        with fees, transaction.atomic():
            try:
                money = MoneyStory(cast, world)
                money.check()
                for _ in range(MAX_STEPS):
                    if data.draw(st.integers(0, 31), label="stop here if 0") == 0:
                        break  # (shrinks towards shorter stories)
                    step = data.draw(st.sampled_from(money.enabled_steps()), label="step")
                    getattr(money, step)(data)
                    money.check()
            finally:  # every example starts from a clean database
                transaction.set_rollback(True)

    story()


# --- What the properties found, each as its smallest story, kept as regression tests ----------


def _send_all_calls() -> None:
    for _ in range(10):
        if not calls_send_due():
            return


@pytest.fixture
def teapot(shop_a):
    return make_product(vendor=shop_a, title="Teapot", variants=[{"sku": "TP-100", "price": "100.00", "stock": 50}])


@pytest.mark.django_db
def test_a_split_instruction_never_asks_the_provider_for_more_than_the_charge_holds(buyer, shop_a, teapot, settings):
    """Bug 1 (fixed): the split paid the shop its share including the platform's coupon out of the
    buyer's payment, asking the provider for 100.00 of a 90.00 charge, which it refused. The
    platform now pays the part of its coupon the commission cannot cover into the charge first."""
    settings.SANDBOX_FEE_RATE = D("0")
    # 100.00 with a 10.00 platform coupon: the buyer pays 90.00; the shop's share is 95.00
    # (100.00 less 5% commission). The commission (5.00) pays half the coupon, the platform's
    # subsidy of 5.00 the other half: the split routes 95.00 of the 95.00 the charge then holds.
    order = one_shop_order(
        buyer=buyer,
        vendor=shop_a,
        lines=[
            LineSpec(variant=teapot.variants.get(), unit_price=D("100.00"), quantity=1, platform_discount=D("10.00"))
        ],
    )
    pay(order)
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=DUE)
    settle_due()
    _send_all_calls()
    split = ProviderCall.objects.get(external_id=f"split-{vendor_order.pk}")
    assert (split.status, split.last_error) == (ProviderCall.Status.SUCCEEDED, "")
    assert split.after.kind == ProviderCall.Kind.SUBSIDY
    assert SandboxOperation.objects.get(external_id=split.after.external_id).amount == D("5.00")
    operation = SandboxOperation.objects.get(external_id=split.external_id)
    assert operation.amount == D("95.00")
    assert [receiver["amount"] for receiver in operation.receivers] == ["95.00"]
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_refund_after_the_split_gets_the_whole_amount_back_from_the_receivers(buyer, shop_a, teapot, settings):
    """Bug 2 (fixed): the platform's commission was not returned from the split, so the provider
    did not hold the money to refund the buyer and refused."""
    settings.SANDBOX_FEE_RATE = D("0")
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(teapot.variants.get(), 1)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=DUE)
    settle_due()  # the split: shop 95.00, platform 5.00
    line = OrderLine.objects.get(vendor_order=vendor_order)
    refund = refund_create(vendor_order=vendor_order, actor=None, reason="broken", lines=[(line, D("50.00"))])
    _send_all_calls()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED, refund.call.last_error
    assert sorted(
        SandboxOperation.objects.filter(kind=SandboxOperation.Kind.SPLIT_RETURN).values_list("amount", flat=True)
    ) == [D("2.50"), D("47.50")]
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_refund_after_netting_asks_the_shop_back_no_more_than_the_split_paid_it(buyer, shop_a, teapot, settings):
    """Bug 3 (fixed): after a debt was netted from a split, a refund of that order asked the shop to
    return its whole share, more than the split paid it; the provider refused (invariant 21) and
    the refund waiting for the return failed with it."""
    settings.SANDBOX_FEE_RATE = D("0")
    first, _payment = paid_order(buyer=buyer, items={shop_a: [(teapot.variants.get(), 1)]}, shipping="0.00")
    first_order = complete(first.vendor_orders.get(), delivered_days_ago=DUE)
    settle_due()
    payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None)  # 95.00 paid out
    first_line = OrderLine.objects.get(vendor_order=first_order)
    refund_create(vendor_order=first_order, actor=None, reason="late", lines=[(first_line, D("40.00"))])
    # The shop now owes 38.00; the next settlement nets it: the split pays the shop 57.00 of its 95.00.
    second, _payment = paid_order(buyer=buyer, items={shop_a: [(teapot.variants.get(), 1)]}, shipping="0.00")
    second_order = complete(second.vendor_orders.get(), delivered_days_ago=DUE)
    settle_due()
    assert Settlement.objects.get(vendor_order=second_order).netted == D("38.00")
    second_line = OrderLine.objects.get(vendor_order=second_order)
    refund_create(vendor_order=second_order, actor=None, reason="broken", lines=[(second_line, D("100.00"))])
    _send_all_calls()
    returns = ProviderCall.objects.filter(
        kind=ProviderCall.Kind.SPLIT_RETURN, payload__split_external_id=f"split-{second_order.pk}"
    )
    assert returns and all((call.status, call.last_error) == (ProviderCall.Status.SUCCEEDED, "") for call in returns)
    assert Refund.objects.get(vendor_order=second_order).status == Refund.Status.SUCCEEDED
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_referral_on_a_line_a_platform_coupon_paid_for_is_never_split_out_of_money_not_paid(
    buyer, other_buyer, shop_a, teapot, settings
):
    """Bug 5 (fixed): the referral is on the price before the platform's coupon; the split sent it
    in full while the shop's part, below its subsidy, was left out, asking for more than was paid.
    Now the platform pays the subsidy into the charge before the split."""
    settings.SANDBOX_FEE_RATE = D("0")
    # 100.00 less an 85.00 platform coupon: the buyer pays 15.00. Commission 5% = 5.00 and the
    # referral 20% = 20.00 are both on 100.00; the shop's share is 75.00. The commission pays 5.00
    # of the coupon, the platform's subsidy the other 80.00: the charge then holds 95.00, which
    # the split routes whole, shop 75.00 and referrer 20.00.
    order = one_shop_order(
        buyer=buyer,
        vendor=shop_a,
        lines=[
            LineSpec(
                variant=teapot.variants.get(),
                unit_price=D("100.00"),
                quantity=1,
                platform_discount=D("85.00"),
                referrer=other_buyer,
                referral_rate=D("0.2000"),
            )
        ],
    )
    pay(order)
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=DUE)
    settle_due()
    _send_all_calls()
    split = ProviderCall.objects.get(external_id=f"split-{vendor_order.pk}")
    assert (split.status, split.last_error) == (ProviderCall.Status.SUCCEEDED, "")
    assert SandboxOperation.objects.get(external_id=f"subsidy-{vendor_order.pk}").amount == D("80.00")
    operation = SandboxOperation.objects.get(external_id=split.external_id)
    assert sorted(receiver["amount"] for receiver in operation.receivers) == ["20.00", "75.00"]
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_split_never_takes_the_money_of_another_shop_order_of_the_payment(
    buyer, other_buyer, shop_a, shop_b, teapot, settings
):
    """Bug 5, its quiet form (fixed): with another shop's money at the provider, the split of the
    coupon-paid line succeeded by taking it, and the refund of that other shop order was refused."""
    settings.SANDBOX_FEE_RATE = D("0")
    cups = make_product(vendor=shop_b, title="Cups", variants=[{"sku": "CUP-100", "price": "100.00", "stock": 50}])
    # Shop A: 100.00 paid by a platform coupon in full, referral 20% = 20.00. Shop B: 100.00 paid.
    order = discounted_order(
        buyer=buyer,
        shops=[
            ShopSpec(
                vendor=shop_a,
                shipping=ZERO,
                lines=[
                    LineSpec(
                        variant=teapot.variants.get(),
                        unit_price=D("100.00"),
                        quantity=1,
                        platform_discount=D("100.00"),
                        referrer=other_buyer,
                        referral_rate=D("0.2000"),
                    )
                ],
            ),
            ShopSpec(
                vendor=shop_b,
                shipping=ZERO,
                lines=[LineSpec(variant=cups.variants.get(), unit_price=D("100.00"), quantity=1)],
            ),
        ],
    )
    pay(order)
    settle_due()
    complete(order.vendor_orders.get(vendor=shop_a), delivered_days_ago=DUE)
    settle_due()
    _send_all_calls()  # shop A's split sends the referrer 20.00 of shop B's money
    cups_order = order.vendor_orders.get(vendor=shop_b)
    line = OrderLine.objects.get(vendor_order=cups_order)
    refund = refund_create(vendor_order=cups_order, actor=None, reason="broken", lines=[(line, D("100.00"))])
    _send_all_calls()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED, refund.call.last_error
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_shop_order_its_own_coupon_pays_for_entirely_does_not_stop_the_capture(buyer, shop_a, shop_b, teapot):
    """Bug 4 (fixed): a shop order worth nothing to anybody made the capture post an entry without
    postings; the ledger refused it and with it the whole capture (the notification got a 400)."""
    cups = make_product(vendor=shop_b, title="Cups", variants=[{"sku": "CUP-20", "price": "20.00", "stock": 50}])
    order = discounted_order(
        buyer=buyer,
        shops=[
            ShopSpec(
                vendor=shop_a,
                shipping=ZERO,
                lines=[LineSpec(variant=teapot.variants.get(), unit_price=D("100.00"), quantity=1)],
            ),
            ShopSpec(  # a 20.00 shop coupon on the 20.00 cups, free shipping
                vendor=shop_b,
                shipping=ZERO,
                lines=[
                    LineSpec(variant=cups.variants.get(), unit_price=D("20.00"), quantity=1, shop_discount=D("20.00"))
                ],
            ),
        ],
    )
    payment = pay(order)
    assert payment.status == Payment.Status.CAPTURED
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_settlement_with_nothing_left_to_split_sends_no_empty_split(buyer, shop_a, teapot, settings):
    """Bug 6 (fixed): a settlement whose parts were all used up still sent a split instruction
    without receivers; the provider refused it and the payment's splitting was never finished."""
    settings.SANDBOX_FEE_RATE = D("0")
    # 100.00 paid by a platform coupon in full, shipping 1.00: the buyer pays 1.00, refunded before
    # settlement. The shop is owed 95.00, all of it the platform's subsidy: nothing to split.
    order = discounted_order(
        buyer=buyer,
        shops=[
            ShopSpec(
                vendor=shop_a,
                shipping=D("1.00"),
                lines=[
                    LineSpec(
                        variant=teapot.variants.get(), unit_price=D("100.00"), quantity=1, platform_discount=D("100.00")
                    )
                ],
            )
        ],
    )
    pay(order)
    vendor_order = order.vendor_orders.get()
    refund_create(vendor_order=vendor_order, actor=None, reason="shipping", lines=[], shipping=D("1.00"))
    complete(vendor_order, delivered_days_ago=DUE)
    settle_due()
    _send_all_calls()
    assert (
        list(ProviderCall.objects.filter(status=ProviderCall.Status.FAILED).values_list("external_id", "last_error"))
        == []
    )
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_refund_after_the_split_is_paid_in_full_when_a_coupon_line_had_a_referral(
    buyer, other_buyer, shop_a, teapot, settings
):
    """Bug 7: the split paid the referral on a line a platform coupon paid for out of the shop's
    other lines; a refund of those lines after the split got back from the shop only what it
    received, and the provider refused it. Each line's money now goes to that line's parties."""
    settings.SANDBOX_FEE_RATE = D("0")
    # Line 1: 100.00 paid by a platform coupon in full, referral 20% = 20.00, commission 5.00
    # (which pays 5.00 of the coupon): the platform's subsidy of 95.00 pays the shop's 75.00 and
    # the referrer's 20.00. Line 2: 100.00 paid, commission 5.00: shop 95.00, platform 5.00.
    order = one_shop_order(
        buyer=buyer,
        vendor=shop_a,
        lines=[
            LineSpec(
                variant=teapot.variants.get(),
                unit_price=D("100.00"),
                quantity=1,
                platform_discount=D("100.00"),
                referrer=other_buyer,
                referral_rate=D("0.2000"),
            ),
            LineSpec(variant=teapot.variants.get(), unit_price=D("100.00"), quantity=1),
        ],
    )
    pay(order)
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=DUE)
    settle_due()
    _send_all_calls()
    settlement = Settlement.objects.get(vendor_order=vendor_order)
    parts = split_parts(settlement=settlement, lines=split_lines([vendor_order.pk])[vendor_order.pk])
    assert settlement.subsidy == D("95.00")
    assert parts == [
        ("vendor", str(shop_a.pk), D("170.00")),
        ("referrer", str(other_buyer.pk), D("20.00")),
        ("platform", "", D("5.00")),
    ]
    # Where the provider takes no subsidy, only line 2's money is split, to line 2's parties; the
    # platform owes line 1's shares outside the split.
    unsubsidized = Settlement(vendor_id=shop_a.pk, netted=ZERO, subsidy=ZERO)
    assert split_parts(settlement=unsubsidized, lines=split_lines([vendor_order.pk])[vendor_order.pk]) == [
        ("vendor", str(shop_a.pk), D("95.00")),
        ("platform", "", D("5.00")),
    ]
    paid_line = OrderLine.objects.filter(vendor_order=vendor_order, platform_discount=0).get()
    refund = refund_create(vendor_order=vendor_order, actor=None, reason="broken", lines=[(paid_line, D("100.00"))])
    _send_all_calls()
    refund.refresh_from_db()
    # Before the fix: failed, "refund 100.00 exceeds the 80.00 not split out: return the split first".
    assert refund.status == Refund.Status.SUCCEEDED, refund.call.last_error
