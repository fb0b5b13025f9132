"""What Tea House sees of its money: per order and line what it earns and why, its balances, and
statements whose closing balance is the opening plus every movement, equal to the ledger."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.tests.factories import make_product
from marketplace.money import format_money
from orders.models import OrderLine, ReturnRequest, VendorOrder
from payments import ledger
from payments.models import CommissionRule, LineSplit, Payout, ReceiverAccount
from payments.selectors import STATEMENT_CSV_HEADER, vendor_statement
from payments.services.calls import call_send
from payments.services.payouts import payout_request
from payments.services.refunds import refund_create
from payments.services.settlement import settle_due
from payments.tests.money_helpers import complete, owed_to, paid_order

D = Decimal
pytestmark = pytest.mark.django_db

MONEY_PAGES = {
    "earnings": "/dashboard/earnings/",
    "statement": "/dashboard/earnings/statement/",
    "statement_csv": "/dashboard/earnings/statement/csv/",
    "payouts": "/dashboard/earnings/payouts/",
}


class _Cells(HTMLParser):
    """The cells of every <tr data-testid=...>: {testid: [{cell testid or index: text}]}."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, list[dict]] = {}
        self._row: dict | None = None
        self._cell: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("data-testid"):
            self._row = {"_testid": attrs["data-testid"], "_kind": attrs.get("data-kind", ""), "_n": 0}
            self._row["_status"] = attrs.get("data-status", "")
        elif tag in ("td", "th") and self._row is not None:
            self._cell = attrs.get("data-testid") or str(self._row["_n"])
            self._row["_n"] += 1
            self._row[self._cell] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        elif tag == "tr" and self._row is not None:
            row = {
                key: " ".join(value.split()) if isinstance(value, str) else value for key, value in self._row.items()
            }
            self.rows.setdefault(row["_testid"], []).append(row)
            self._row = None

    def handle_data(self, data):
        if self._row is not None and self._cell is not None:
            self._row[self._cell] += data


def rows(response, testid: str) -> list[dict]:
    parser = _Cells()
    parser.feed(response.content.decode())
    return parser.rows.get(testid, [])


@pytest.fixture
def tea(shop_a):
    return make_product(vendor=shop_a, title="Longjing tea", variants=[{"sku": "LJ-1", "price": "33.33", "stock": 50}])


@pytest.fixture
def teapot(shop_a):
    return make_product(vendor=shop_a, title="Yixing teapot", variants=[{"sku": "YX-1", "price": "120.00", "stock": 9}])


@pytest.fixture
def eight_percent():
    return CommissionRule.objects.create(
        scope="platform", rate=D("0.0800"), valid_from=timezone.now() - timedelta(days=1)
    )


@pytest.fixture
def api():
    return APIClient()


def _tea_order(buyer, shop_a, tea, teapot, *, tea_units: int = 3):
    order, _payment = paid_order(
        buyer=buyer, items={shop_a: [(tea.variants.get(), tea_units), (teapot.variants.get(), 1)]}, shipping="10.00"
    )
    return order.vendor_orders.get()


# --- Per order and per line ----------------------------------------------------------------


def test_owner_sees_each_lines_split_and_why_on_the_order_page(
    client, buyer, shop_a, owner_a, tea, teapot, eight_percent, settings
):
    settings.SANDBOX_FEE_RATE = D("0.0060")
    vendor_order = _tea_order(buyer, shop_a, tea, teapot)
    client.force_login(owner_a)
    response = client.get(f"/dashboard/orders/{vendor_order.number}/")
    assert response.status_code == 200
    shown = rows(response, "earnings-line")
    splits = list(LineSplit.objects.filter(vendor_order=vendor_order).order_by("order_line_id", "id"))
    splits = [s for s in splits if s.order_line_id] + [s for s in splits if not s.order_line_id]  # shipping last
    assert len(shown) == len(splits) == 3
    for row, split in zip(shown, splits, strict=True):
        assert row["paid"] == format_money(split.paid)
        assert row["commission"] == format_money(split.commission)
        assert row["fee"] == format_money(split.fee)
        assert row["share"] == format_money(split.vendor_amount)
        assert row["refunded"] == "—"
    tea_row, teapot_row, shipping_row = shown
    assert tea_row["0"].startswith("Longjing tea") and tea_row["rate"] == "8%"
    assert tea_row["commission"] == "¥8.00"  # 99.99 × 8% = 7.9992, half-up
    assert splits[0].fee > 0
    assert shipping_row["0"] == "Shipping" and shipping_row["rate"] == "—"
    total = rows(response, "earnings-total")[0]
    assert total["6"] == format_money(sum(s.vendor_amount for s in splits))


def test_order_page_shows_what_refunds_took_back_from_each_line(
    client, buyer, shop_a, owner_a, tea, teapot, eight_percent
):
    vendor_order = _tea_order(buyer, shop_a, tea, teapot)
    tea_line = OrderLine.objects.get(vendor_order=vendor_order, sku="LJ-1")
    refund = refund_create(
        vendor_order=vendor_order, actor=buyer, reason="one tin broken", lines=[(tea_line, D("33.33"))]
    )
    reversed_share = refund.lines.get().vendor_amount
    client.force_login(owner_a)
    response = client.get(f"/dashboard/orders/{vendor_order.number}/")
    tea_row, teapot_row, _shipping = rows(response, "earnings-line")
    assert tea_row["refunded"] == f"¥33.33 (your share −{format_money(reversed_share)})"
    assert teapot_row["refunded"] == "—"
    net = sum(s.vendor_amount for s in LineSplit.objects.filter(vendor_order=vendor_order)) - reversed_share
    assert f'data-testid="net-share">{format_money(net)}<' in response.content.decode()


def test_fulfilment_staff_see_the_order_but_not_its_money(client, buyer, shop_a, staff_a, manager_a, tea, teapot):
    vendor_order = _tea_order(buyer, shop_a, tea, teapot)
    client.force_login(staff_a)
    response = client.get(f"/dashboard/orders/{vendor_order.number}/")
    assert response.status_code == 200
    assert 'data-testid="order-earnings"' not in response.content.decode()
    assert "/dashboard/earnings/" not in response.content.decode()  # no nav link either
    client.force_login(manager_a)
    assert 'data-testid="order-earnings"' in client.get(f"/dashboard/orders/{vendor_order.number}/").content.decode()


@pytest.mark.parametrize("who, expected", [("owner_a", 200), ("manager_a", 200), ("staff_a", 404), ("buyer", 404)])
@pytest.mark.parametrize("page", list(MONEY_PAGES))
def test_money_pages_are_for_owners_and_managers(client, request, who, expected, page, owner_a, manager_a, staff_a):
    client.force_login(request.getfixturevalue(who))
    assert client.get(MONEY_PAGES[page]).status_code == expected


def test_money_api_refuses_fulfilment_staff(api, staff_a, buyer, shop_a, tea, teapot):
    vendor_order = _tea_order(buyer, shop_a, tea, teapot)
    api.force_authenticate(staff_a)
    for url in (
        "/api/v1/vendor/earnings/",
        f"/api/v1/vendor/orders/{vendor_order.number}/earnings/",
        "/api/v1/vendor/statements/?from=2025-01-01&to=2025-01-31",
        "/api/v1/vendor/statements.csv?from=2025-01-01&to=2025-01-31",
        "/api/v1/vendor/payouts/",
    ):
        response = api.get(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"


def test_api_gives_the_same_per_line_numbers_as_the_split(api, owner_a, buyer, shop_a, tea, teapot, eight_percent):
    vendor_order = _tea_order(buyer, shop_a, tea, teapot)
    api.force_authenticate(owner_a)
    body = api.get(f"/api/v1/vendor/orders/{vendor_order.number}/earnings/").json()
    assert body["number"] == vendor_order.number and body["currency"] == "CNY"
    by_line = {line["line_id"]: line for line in body["lines"]}
    for split in LineSplit.objects.filter(vendor_order=vendor_order):
        line = by_line[split.order_line_id]
        assert line["is_shipping"] is (split.order_line_id is None)
        assert D(line["commission_rate"]) == split.commission_rate
        for part in ("paid", "commission", "referral", "fee", "vendor_amount"):
            assert D(line["split"][part]) == getattr(split, part), part
            assert D(line["refunded"][part]) == 0
    assert body["lines"][-1]["is_shipping"] and body["lines"][-1]["product_title"] is None
    assert D(body["net"]["vendor_amount"]) == owed_to("vendor", shop_a.pk, ledger.PENDING)


def test_settlement_state_pending_until_the_window_ends_then_held_by_a_return_then_settled(
    api, owner_a, buyer, shop_a, tea, teapot, settings
):
    vendor_order = _tea_order(buyer, shop_a, tea, teapot)
    api.force_authenticate(owner_a)
    url = f"/api/v1/vendor/orders/{vendor_order.number}/earnings/"
    assert api.get(url).json()["settlement_state"] == "awaiting_delivery"

    vendor_order = complete(vendor_order)
    body = api.get(url).json()
    assert body["settlement_state"] == "in_return_window"
    window_end = vendor_order.delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS)
    assert body["settles_after"] == timezone.localtime(window_end).isoformat()
    assert timezone.localtime(window_end).strftime("%Y-%m-%d") in body["settlement_state_text"]

    VendorOrder.objects.filter(pk=vendor_order.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    ReturnRequest.objects.create(
        vendor_order=vendor_order, buyer=buyer, number="R-HELD", kind="refund_only", reason="x"
    )
    assert api.get(url).json()["settlement_state"] == "held"
    assert settle_due().settled == 0

    ReturnRequest.objects.filter(number="R-HELD").update(status="closed")
    assert api.get(url).json()["settlement_state"] == "due"
    settle_due()
    body = api.get(url).json()
    assert body["settlement_state"] == "settled" and body["settled_at"]
    assert D(body["netted"]) == 0


def test_another_shops_order_earnings_are_not_found(api, owner_b, buyer, shop_a, tea, teapot):
    vendor_order = _tea_order(buyer, shop_a, tea, teapot)
    api.force_authenticate(owner_b)
    response = api.get(f"/api/v1/vendor/orders/{vendor_order.number}/earnings/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    forged = api.get(f"/api/v1/vendor/orders/{vendor_order.number}/earnings/", HTTP_X_VENDOR=str(shop_a.pk))
    assert forged.status_code == 403


# --- Balances ----------------------------------------------------------------------------------


def test_balances_show_pending_available_and_in_payout(client, api, owner_a, buyer, shop_a, tea, teapot):
    first = complete(_tea_order(buyer, shop_a, tea, teapot), delivered_days_ago=8)
    settle_due()
    _tea_order(buyer, shop_a, tea, teapot, tea_units=1)  # pending, inside its window
    payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=owner_a, amount=D("50.00"))

    api.force_authenticate(owner_a)
    balance = api.get("/api/v1/vendor/earnings/").json()["balances"][0]
    assert balance["currency"] == "CNY"
    assert D(balance["pending"]) == owed_to("vendor", shop_a.pk, ledger.PENDING) > 0
    assert D(balance["available"]) == first.settlement.vendor_amount - D("50.00")
    assert D(balance["in_payout"]) == D("50.00")
    assert D(balance["owed_by_shop"]) == 0

    client.force_login(owner_a)
    page = client.get("/dashboard/earnings/")
    row = rows(page, "balance-CNY")[0]
    assert row["available"] == format_money(first.settlement.vendor_amount - D("50.00"))
    assert row["in-payout"] == "¥50.00"
    assert [r["1"] for r in rows(page, "settlement-row")] == [first.number]


def test_a_negative_balance_is_shown_as_owed_with_the_reason(client, owner_a, buyer, shop_a, tea):
    order, _ = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    payout = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=owner_a)
    line = OrderLine.objects.get(vendor_order=vendor_order)
    refund_create(vendor_order=vendor_order, actor=None, reason="late claim", lines=[(line, D("33.33"))])

    client.force_login(owner_a)
    page = client.get("/dashboard/earnings/")
    body = page.content.decode()
    assert f"You owe {format_money(payout.amount)}" in rows(page, "balance-CNY")[0]["available"]
    assert 'data-testid="owed-explanation"' in body
    assert "deducted from your next settlements" in body


# --- Statements --------------------------------------------------------------------------------


def _money_story(buyer, shop_a, owner_a, tea, teapot):
    """Today: two orders paid, the first settled, a payout that fails and one that is paid, a
    refund clawed back after settlement. Ten days on: the second order settles."""
    first = complete(_tea_order(buyer, shop_a, tea, teapot), delivered_days_ago=8)
    second = complete(_tea_order(buyer, shop_a, tea, teapot, tea_units=1))
    settle_due()
    ReceiverAccount.objects.update_or_create(
        owner_type="vendor", owner_key=str(shop_a.pk), provider="sandbox", defaults={"account": "fail-1"}
    )
    failed = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=owner_a, amount=D("40.00"))
    call_send(call_id=failed.call_id)
    ReceiverAccount.objects.filter(owner_key=str(shop_a.pk)).update(account="sbx-tea-house")
    paid = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=owner_a, amount=D("30.00"))
    call_send(call_id=paid.call_id)
    tea_line = OrderLine.objects.get(vendor_order=first, sku="LJ-1")
    refund = refund_create(vendor_order=first, actor=None, reason="late claim", lines=[(tea_line, D("33.33"))])
    later = timezone.now() + timedelta(days=10)
    assert settle_due(now=later).settled == 1
    return first, second, failed, paid, refund, later


def _ledger_owed(shop, purpose: str, as_of) -> Decimal:
    account = ledger.vendor_account(shop.pk, purpose, "CNY")
    return -ledger.account_balance(account=account, as_of=as_of)


def test_statement_closing_is_opening_plus_movements_and_equals_the_ledger(buyer, shop_a, owner_a, tea, teapot):
    first, second, failed, paid, refund, later = _money_story(buyer, shop_a, owner_a, tea, teapot)
    today = timezone.localdate()
    this_week = vendor_statement(vendor=shop_a, date_from=today, date_to=today)
    next_weeks = vendor_statement(
        vendor=shop_a, date_from=today + timedelta(days=1), date_to=timezone.localdate(later) + timedelta(days=1)
    )

    assert this_week.opening.available == this_week.opening.pending == 0
    for statement in (this_week, next_weeks):
        movements = statement.movements
        assert statement.closing.pending == statement.opening.pending + movements.pending
        assert statement.closing.available == statement.opening.available + movements.available
        assert statement.closing.in_payout == statement.opening.in_payout + movements.in_payout
        assert statement.rows[-1].available_after == statement.closing.available
    assert next_weeks.opening == this_week.closing
    for purpose, field in ((ledger.PENDING, "pending"), (ledger.AVAILABLE, "available"), (ledger.PAYOUT, "in_payout")):
        assert getattr(next_weeks.closing, field) == _ledger_owed(shop_a, purpose, as_of=None)
        assert getattr(this_week.closing, field) == _ledger_owed(shop_a, purpose, as_of=later - timedelta(days=5))

    kinds = [(row.kind, row.order_number, row.reference) for row in this_week.rows]
    assert kinds == [
        ("capture", first.number, first.splits.first().payment.reference),
        ("capture", second.number, second.splits.first().payment.reference),
        ("settlement", first.number, ""),
        ("payout", "", failed.reference),
        ("payout_failed", "", failed.reference),
        ("payout", "", paid.reference),
        ("payout_paid", "", paid.reference),
        ("refund_after_settlement", first.number, refund.reference),
    ]
    failed.refresh_from_db()
    assert failed.status == Payout.Status.FAILED and this_week.rows[4].note == failed.failure_reason != ""
    assert this_week.rows[4].available == D("40.00") and this_week.rows[4].in_payout == D("-40.00")
    assert this_week.rows[6].in_payout == D("-30.00") and this_week.rows[6].available == 0
    assert [(row.kind, row.order_number) for row in next_weeks.rows] == [("settlement", second.number)]
    assert -next_weeks.rows[0].pending == next_weeks.rows[0].available == second.settlement.vendor_amount


def test_statement_page_lists_opening_movements_and_closing(client, buyer, shop_a, owner_a, tea, teapot):
    first, *_rest = _money_story(buyer, shop_a, owner_a, tea, teapot)
    today = timezone.localdate()
    client.force_login(owner_a)
    page = client.get(f"/dashboard/earnings/statement/?from={today:%Y-%m-%d}&to={today:%Y-%m-%d}")
    assert page.status_code == 200
    statement = vendor_statement(vendor=shop_a, date_from=today, date_to=today)
    movements = rows(page, "movement")
    assert [row["_kind"] for row in movements] == [row.kind for row in statement.rows]
    assert movements[2]["1"] == "Settled: made available" and movements[2]["2"] == first.number
    assert rows(page, "closing")[0]["5"] == format_money(statement.closing.available)
    assert rows(page, "opening")[0]["5"] == "¥0.00"


def test_statement_csv_has_one_row_per_movement_with_plain_amounts(client, api, buyer, shop_a, owner_a, tea, teapot):
    _money_story(buyer, shop_a, owner_a, tea, teapot)
    today = timezone.localdate()
    statement = vendor_statement(vendor=shop_a, date_from=today, date_to=today)
    client.force_login(owner_a)
    response = client.get(f"/dashboard/earnings/statement/csv/?from={today:%Y-%m-%d}&to={today:%Y-%m-%d}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="tea-house-statement-CNY-')
    assert response.content.startswith("\ufeff".encode())  # the BOM Excel needs for UTF-8
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == STATEMENT_CSV_HEADER
    assert len(table) == 1 + len(statement.rows)
    for line, row in zip(table[1:], statement.rows, strict=True):
        record = dict(zip(STATEMENT_CSV_HEADER, line, strict=True))
        assert record["kind"] == row.kind and record["order"] == row.order_number
        assert record["available"] == str(row.available) and record["pending"] == str(row.pending)
    refund_row = dict(zip(STATEMENT_CSV_HEADER, table[-1], strict=True))
    assert refund_row["kind"] == "refund_after_settlement" and refund_row["available"].startswith("-")
    assert "¥" not in response.content.decode("utf-8-sig")

    api.force_authenticate(owner_a)
    same = api.get(f"/api/v1/vendor/statements.csv?from={today:%Y-%m-%d}&to={today:%Y-%m-%d}")
    assert same.status_code == 200 and same.content == response.content


def test_statement_api_gives_balances_and_rows(api, buyer, shop_a, owner_a, tea, teapot):
    _money_story(buyer, shop_a, owner_a, tea, teapot)
    today = timezone.localdate()
    api.force_authenticate(owner_a)
    body = api.get(f"/api/v1/vendor/statements/?from={today:%Y-%m-%d}&to={today:%Y-%m-%d}").json()
    assert body["date_from"] == body["date_to"] == today.isoformat()
    assert len(body["rows"]) == 8 and body["rows"][0]["kind"] == "capture"
    assert D(body["closing"]["available"]) == D(body["opening"]["available"]) + D(body["movements"]["available"])
    assert D(body["rows"][-1]["available_after"]) == D(body["closing"]["available"])


def test_a_statement_period_must_start_before_it_ends(client, api, owner_a):
    api.force_authenticate(owner_a)
    response = api.get("/api/v1/vendor/statements/?from=2025-03-02&to=2025-03-01")
    assert response.status_code == 400 and response.json()["code"] == "invalid_period"
    assert api.get("/api/v1/vendor/statements/?from=2025-03-01").status_code == 400
    assert api.get("/api/v1/vendor/statements/?from=2024-01-01&to=2025-06-01").json()["code"] == "invalid_period"
    client.force_login(owner_a)
    page = client.get("/dashboard/earnings/statement/?from=2025-03-02&to=2025-03-01")
    assert page.status_code == 400
    assert "The period must start before it ends." in page.content.decode()


def test_another_shops_statement_never_shows_tea_house_money(api, buyer, shop_a, owner_a, owner_b, tea, teapot):
    first, *_rest = _money_story(buyer, shop_a, owner_a, tea, teapot)
    today = timezone.localdate()
    api.force_authenticate(owner_b)
    body = api.get(f"/api/v1/vendor/statements/?from={today:%Y-%m-%d}&to={today:%Y-%m-%d}").json()
    assert body["rows"] == [] and D(body["closing"]["available"]) == 0
    assert D(api.get("/api/v1/vendor/earnings/").json()["balances"][0]["pending"]) == 0
    forged = api.get(f"/api/v1/vendor/statements/?from={today}&to={today}", HTTP_X_VENDOR=str(shop_a.pk))
    assert forged.status_code == 403 and first.number not in forged.content.decode()


# --- Query budgets -----------------------------------------------------------------------------


def test_order_page_with_earnings_costs_the_same_for_one_line_or_many(
    client, buyer, shop_a, owner_a, django_assert_num_queries
):
    products = [
        make_product(vendor=shop_a, title=f"Tea {n}", variants=[{"sku": f"T-{n}", "price": "10.00", "stock": 9}])
        for n in range(6)
    ]
    small, _ = paid_order(buyer=buyer, items={shop_a: [(products[0].variants.get(), 1)]})
    large, _ = paid_order(buyer=buyer, items={shop_a: [(p.variants.get(), 2) for p in products]})
    client.force_login(owner_a)
    client.get(f"/dashboard/orders/{small.vendor_orders.get().number}/")  # warm the session and caches

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_line:
        client.get(f"/dashboard/orders/{small.vendor_orders.get().number}/")
    with django_assert_num_queries(len(one_line)):
        response = client.get(f"/dashboard/orders/{large.vendor_orders.get().number}/")
    assert len(rows(response, "earnings-line")) == 7


def test_earnings_and_statement_pages_stay_within_a_query_budget(
    client, buyer, shop_a, owner_a, tea, django_assert_max_num_queries
):
    for _ in range(6):
        order, _ = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]})
        complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    for _ in range(4):
        payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=owner_a, amount=D("1.00"))
    client.force_login(owner_a)
    today = timezone.localdate()
    with django_assert_max_num_queries(8):  # session, user, membership, balances, settlements
        page = client.get("/dashboard/earnings/")
    assert len(rows(page, "settlement-row")) == 6
    with django_assert_max_num_queries(12):  # + balances for the picker, ends, movements, orders, payouts
        page = client.get(f"/dashboard/earnings/statement/?from={today:%Y-%m-%d}&to={today:%Y-%m-%d}")
    assert len(rows(page, "movement")) == 6 + 6 + 4
    with django_assert_max_num_queries(12):
        assert (
            client.get(f"/dashboard/earnings/statement/csv/?from={today:%Y-%m-%d}&to={today:%Y-%m-%d}").status_code
            == 200
        )
    with django_assert_max_num_queries(8):
        page = client.get("/dashboard/earnings/payouts/")
    assert len(rows(page, "payout-row")) == 4
