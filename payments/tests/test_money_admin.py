"""The platform admin's side of the money: read-only ledger pages, the money overview, commission
rules, resending provider calls and resolving reconciliation mismatches."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import make_category, make_product
from marketplace.models import AuditEvent
from marketplace.money import format_money
from marketplace.tests.factories import UserFactory
from orders.models import OrderLine
from payments import ledger
from payments.models import (
    CommissionRule,
    Payout,
    ProviderCall,
    ReceiverAccount,
    ReconciliationMismatch,
    SandboxOperation,
    Settlement,
)
from payments.services.payouts import payout_request
from payments.services.reconciliation import reconcile_day
from payments.services.refunds import refund_create
from payments.services.settlement import settle_due
from payments.tests.money_helpers import complete, owed_to, paid_order
from payments.tests.reconciliation_helpers import a_day_of_money, send_all_calls
from vendors.tests.factories import VendorFactory

D = Decimal
pytestmark = pytest.mark.django_db
OVERVIEW = "/admin/payments/overview/"


@pytest.fixture
def tea(shop_a):
    return make_product(vendor=shop_a, title="Longjing tea", variants=[{"sku": "LJ-1", "price": "100.00", "stock": 50}])


@pytest.fixture
def money_day(buyer, shop_a, tea):
    return a_day_of_money(buyer=buyer, shop=shop_a, variant=tea.variants.get())


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def overview_amount(html: str, name: str) -> str:
    match = re.search(rf'data-money="{re.escape(name)}">([^<]*)<', html)
    assert match, f"{name} is not on the overview"
    return match.group(1)


def test_every_payments_admin_list_and_record_page_renders_for_an_admin(money_day, admin_client):
    SandboxOperation.objects.filter(external_id=money_day["payout"].reference).delete()
    reconcile_day(provider="sandbox", day=timezone.localdate())  # a run with a mismatch to list
    CommissionRule.objects.create(scope="platform", rate=D("0.0500"), valid_from=timezone.now())
    ReceiverAccount.objects.get_or_create(owner_type="vendor", owner_key="999", provider="wechatpay", account="169")

    models = [model for model in admin.site._registry if model._meta.app_label == "payments"]
    assert len(models) >= 18
    for model in models:
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        assert admin_client.get(changelist).status_code == 200, changelist
        record = model.objects.order_by("pk").first()
        if record is not None:
            change = reverse("admin:{}_{}_change".format(*info), args=[record.pk])
            assert admin_client.get(change).status_code == 200, change
    assert admin_client.get(OVERVIEW).status_code == 200


def test_a_buyer_is_sent_to_the_login_and_staff_without_money_rights_are_refused(buyer, shop_a):
    client = Client()
    client.force_login(buyer)
    for url in (OVERVIEW, "/admin/payments/ledgeraccount/", "/admin/payments/reconciliationrun/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login/" in response["Location"]

    staff = Client()
    staff.force_login(UserFactory(email="support@example.com", is_staff=True))
    assert staff.get(OVERVIEW).status_code == 403
    assert staff.get("/admin/payments/ledgeraccount/").status_code == 403


def test_the_payments_app_index_links_to_the_money_overview(admin_client):
    response = admin_client.get("/admin/payments/")

    assert response.status_code == 200
    assert f'href="{OVERVIEW}"' in response.content.decode()


def test_the_overview_shows_commission_what_shops_are_owed_and_money_in_transit_from_the_ledger(
    money_day, admin_client, shop_a
):
    html = admin_client.get(OVERVIEW).content.decode()

    def shown(value: Decimal) -> str:
        return format_money(value, "CNY")

    assert overview_amount(html, "commission_pending") == shown(owed_to("platform", "", ledger.COMMISSION_PENDING))
    assert overview_amount(html, "commission") == shown(owed_to("platform", "", ledger.COMMISSION))
    assert owed_to("vendor", shop_a.pk, ledger.PENDING) > 0
    assert overview_amount(html, "vendors_pending") == shown(owed_to("vendor", shop_a.pk, ledger.PENDING))
    assert overview_amount(html, "vendors_available") == shown(owed_to("vendor", shop_a.pk, ledger.AVAILABLE))
    assert overview_amount(html, "clearing-sandbox") == shown(-owed_to("provider", "sandbox", ledger.CLEARING))
    assert overview_amount(html, "fees-sandbox") == shown(owed_to("provider", "sandbox", ledger.FEES))
    assert overview_amount(html, "buyer_refunds") == shown(D("0.00"))  # both refunds confirmed


def test_the_overview_shows_a_shops_debt_after_a_claw_back_apart_from_what_others_are_owed(
    buyer, shop_a, tea, admin_client
):
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None)
    line = OrderLine.objects.get(vendor_order=vendor_order)
    refund_create(vendor_order=vendor_order, actor=None, reason="late claim", lines=[(line, D("50.00"))])
    debt = -owed_to("vendor", shop_a.pk, ledger.AVAILABLE)
    assert debt > 0

    html = admin_client.get(OVERVIEW).content.decode()

    assert overview_amount(html, "vendors_debt") == format_money(debt, "CNY")


def test_the_overview_lists_the_latest_run_per_provider_with_its_open_mismatches_and_a_link(money_day, admin_client):
    today = timezone.localdate()
    reconcile_day(provider="sandbox", day=today - timedelta(days=1))
    SandboxOperation.objects.filter(external_id=money_day["payout"].reference).delete()
    latest = reconcile_day(provider="sandbox", day=today)

    html = admin_client.get(OVERVIEW).content.decode()

    assert re.search(r'data-mismatches="sandbox"><strong>1</strong>', html)
    assert reverse("admin:payments_reconciliationrun_change", args=[latest.pk]) in html
    assert html.count('data-mismatches="sandbox"') == 1


def _a_shop_with_money(index: int) -> None:
    """A shop with pending, available and paid-out money, posted straight to the ledger."""
    shop = VendorFactory(name=f"Shop {index}", slug=f"shop-{index}")
    clearing = ledger.provider_clearing("sandbox", "CNY")
    pending = ledger.vendor_account(shop.pk, ledger.PENDING, "CNY")
    available = ledger.vendor_account(shop.pk, ledger.AVAILABLE, "CNY")
    ledger.ledger_post(
        idempotency_key=f"test:shop-{index}:capture",
        kind="capture",
        postings=[
            (clearing, D("10.00")),
            (pending, D("-9.00")),
            (ledger.platform_account("commission_pending", "CNY"), D("-1.00")),
        ],
    )
    ledger.ledger_post(
        idempotency_key=f"test:shop-{index}:settle",
        kind="settlement",
        postings=[(pending, D("4.00")), (available, D("-4.00"))],
    )


def test_the_overview_costs_the_same_few_queries_whatever_the_number_of_shops(
    admin_client, django_assert_max_num_queries
):
    _a_shop_with_money(1)
    admin_client.get(OVERVIEW)  # warm the session and content types
    with CaptureQueriesContext(connection) as one_shop:
        assert admin_client.get(OVERVIEW).status_code == 200
    for index in range(2, 12):
        _a_shop_with_money(index)

    with django_assert_max_num_queries(len(one_shop.captured_queries)):
        response = admin_client.get(OVERVIEW)

    assert overview_amount(response.content.decode(), "vendors_pending") == format_money(D("55.00"), "CNY")
    assert len(one_shop.captured_queries) <= 8


# --- Commission rules ---------------------------------------------------------------------------


def _rule_form(**changes) -> dict:
    now = timezone.localtime()
    data = {
        "scope": "platform",
        "category": "",
        "vendor": "",
        "rate": "0.0500",
        "valid_from_0": now.strftime("%Y-%m-%d"),
        "valid_from_1": now.strftime("%H:%M:%S"),
        "valid_until_0": "",
        "valid_until_1": "",
        "note": "",
    }
    data.update(changes)
    return data


def test_an_admin_adds_a_commission_rule_through_the_commission_service(admin_client, admin_user, shop_a):
    response = admin_client.post(
        "/admin/payments/commissionrule/add/", _rule_form(scope="shop", vendor=shop_a.pk, rate="0.0300")
    )

    assert response.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.scope, rule.vendor, rule.rate, rule.created_by) == ("shop", shop_a, D("0.0300"), admin_user)
    assert AuditEvent.objects.filter(action="commission_rule.created", object_id=str(rule.pk)).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rate": "1.0000"}, "rate"),
        ({"rate": "-0.0100"}, "rate"),
        ({"scope": "shop"}, "vendor"),  # a shop rule without its shop
        ({"scope": "category"}, "category"),  # a category rule without its category
        ({"scope": "platform", "vendor": "SHOP"}, "vendor"),  # the default aimed at one shop
        ({"scope": "shop", "vendor": "SHOP", "category": "CATEGORY"}, "category"),
        ({"valid_until_0": "2001-01-01", "valid_until_1": "00:00:00"}, "valid_until"),
    ],
)
def test_a_wrong_commission_rule_is_a_form_error_never_a_server_error(admin_client, shop_a, changes, field):
    category = make_category("Tea")
    changes = {key: {"SHOP": shop_a.pk, "CATEGORY": category.pk}.get(value, value) for key, value in changes.items()}

    response = admin_client.post("/admin/payments/commissionrule/add/", _rule_form(**changes))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not CommissionRule.objects.exists()


def test_changing_a_commission_rule_is_validated_and_audited(admin_client, shop_a):
    rule = CommissionRule.objects.create(scope="shop", vendor=shop_a, rate=D("0.0300"), valid_from=timezone.now())
    url = f"/admin/payments/commissionrule/{rule.pk}/change/"

    refused = admin_client.post(url, _rule_form(scope="shop", vendor=shop_a.pk, rate="2"))
    ended = admin_client.post(
        url,
        _rule_form(
            scope="shop",
            vendor=shop_a.pk,
            rate="0.0300",
            valid_from_0=timezone.localtime(rule.valid_from).strftime("%Y-%m-%d"),
            valid_until_0=(timezone.localdate() + timedelta(days=30)).isoformat(),
            valid_until_1="00:00:00",
        ),
    )

    assert refused.status_code == 200
    assert ended.status_code == 302
    rule.refresh_from_db()
    assert rule.rate == D("0.0300")
    assert rule.valid_until is not None
    assert AuditEvent.objects.filter(action="commission_rule.changed", object_id=str(rule.pk)).exists()


# --- Provider calls and payouts ----------------------------------------------------------------


def test_send_again_resends_a_failed_call_with_the_same_external_id(buyer, shop_a, tea, admin_client, admin_user):
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=8)
    # The gateway holds a stale instruction under the id our split will use: it refuses the split.
    stale = SandboxOperation.objects.create(
        kind="payout", external_id=f"split-{vendor_order.pk}", amount=D("1.00"), currency="CNY", status="succeeded"
    )
    settle_due()
    send_all_calls()
    call = Settlement.objects.get(vendor_order=vendor_order).instruction
    call.refresh_from_db()
    assert call.status == ProviderCall.Status.FAILED
    stale.delete()  # the provider cleaned its side up

    response = admin_client.post(
        "/admin/payments/providercall/", {"action": "send_again", "_selected_action": [call.pk]}
    )

    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == ProviderCall.Status.PENDING
    assert AuditEvent.objects.filter(action="provider_call.retried", object_id=str(call.pk), actor=admin_user).exists()
    send_all_calls()
    call.refresh_from_db()
    assert call.status == ProviderCall.Status.SUCCEEDED
    assert SandboxOperation.objects.get(external_id=call.external_id).kind == "split"


def test_a_failed_payout_is_shown_with_its_reason_and_never_sent_again(buyer, shop_a, tea, admin_client):
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 1)]}, shipping="0.00")
    complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    send_all_calls()
    ReceiverAccount.objects.filter(owner_type="vendor", owner_key=str(shop_a.pk), provider="sandbox").update(
        account="fail-closed-account"
    )
    payout = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None)
    send_all_calls()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.FAILED

    listing = admin_client.get("/admin/payments/payout/?status__exact=failed")
    response = admin_client.post(
        "/admin/payments/providercall/", {"action": "send_again", "_selected_action": [payout.call_id]}, follow=True
    )

    assert "refused the payout" in listing.content.decode()
    assert listing.context["action_form"] is None  # no action on payouts: nothing to retry from here
    assert "left alone" in response.content.decode()
    assert ProviderCall.objects.get(pk=payout.call_id).status == ProviderCall.Status.FAILED
    assert owed_to("vendor", shop_a.pk, ledger.AVAILABLE) == payout.amount  # re-credited


# --- Reconciliation mismatches ---------------------------------------------------------------


def test_an_admin_marks_mismatches_resolved_with_a_note(money_day, admin_client, admin_user):
    SandboxOperation.objects.filter(external_id=money_day["payout"].reference).delete()
    run = reconcile_day(provider="sandbox", day=timezone.localdate())
    mismatch = run.mismatches.get()
    url = "/admin/payments/reconciliationmismatch/"
    chosen = {"action": "mark_resolved", "_selected_action": [mismatch.pk]}

    asked = admin_client.post(url, chosen)
    empty = admin_client.post(url, {**chosen, "apply": "1", "note": ""})
    done = admin_client.post(url, {**chosen, "apply": "1", "note": "Payout confirmed on the bank statement"})

    assert asked.status_code == 200 and "How was it resolved?" in asked.content.decode()
    assert empty.status_code == 200 and "note" in empty.context["form"].errors
    assert done.status_code == 302
    mismatch.refresh_from_db()
    run.refresh_from_db()
    assert (mismatch.resolved_by, mismatch.resolution) == (admin_user, "Payout confirmed on the bank statement")
    assert run.mismatch_count == 0
    assert admin_client.get(f"{url}?resolved=no").context["cl"].result_count == 0
    assert ReconciliationMismatch.objects.filter(resolved_at__isnull=False).count() == 1


def test_the_ledger_account_list_shows_each_accounts_balance(money_day, admin_client, shop_a):
    response = admin_client.get(f"/admin/payments/ledgeraccount/?owner_type__exact=vendor&q={shop_a.pk}")

    rows = {account.purpose: account.balance_total for account in response.context["cl"].result_list}
    assert rows[ledger.PENDING] == -owed_to("vendor", shop_a.pk, ledger.PENDING)
    assert rows[ledger.AVAILABLE] == -owed_to("vendor", shop_a.pk, ledger.AVAILABLE)


def test_an_admin_compares_a_day_again_after_the_provider_fixed_its_statement(money_day, admin_client):
    payout = money_day["payout"]
    statement_line = SandboxOperation.objects.get(external_id=payout.reference)
    SandboxOperation.objects.filter(pk=statement_line.pk).update(amount=D("49.00"))
    run = reconcile_day(provider="sandbox", day=timezone.localdate())
    assert run.mismatch_count == 1
    SandboxOperation.objects.filter(pk=statement_line.pk).update(amount=payout.amount)

    response = admin_client.post(
        "/admin/payments/reconciliationrun/", {"action": "reconcile_again", "_selected_action": [run.pk]}
    )

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.mismatch_count == 0
    assert not run.mismatches.exists()
