"""Tea House asks for its available money to be paid out to its own account at the provider, on
the dashboard and through the API; the payout's state (requested, sent, paid, failed and
re-credited) is shown with the reason of a failure. Only owners and managers may ask."""

from decimal import Decimal

import pytest
from django.utils.html import escape
from rest_framework.test import APIClient

from catalog.tests.factories import make_product
from marketplace.models import AuditEvent
from payments import ledger
from payments.models import Payout, ReceiverAccount
from payments.services.calls import call_send
from payments.services.payouts import available_money
from payments.services.settlement import settle_due
from payments.tests.money_helpers import complete, owed_to, paid_order

D = Decimal
pytestmark = pytest.mark.django_db
PAGE = "/dashboard/earnings/payouts/"
API = "/api/v1/vendor/payouts/"


@pytest.fixture
def settled_share(buyer, shop_a):
    """Tea House's available balance after one settled order of three tins of tea."""
    tea = make_product(vendor=shop_a, title="Longjing tea", variants=[{"sku": "LJ-1", "price": "33.33", "stock": 50}])
    order, _payment = paid_order(buyer=buyer, items={shop_a: [(tea.variants.get(), 3)]}, shipping="0.00")
    complete(order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    share = available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY")
    assert share > D("50.00")
    return share


@pytest.fixture
def api():
    return APIClient()


def _shop_payouts(shop):
    return Payout.objects.filter(owner_type="vendor", owner_key=str(shop.pk))


# --- The dashboard --------------------------------------------------------------------------------


def test_owner_requests_part_of_the_balance_on_the_dashboard(client, owner_a, shop_a, settled_share):
    client.force_login(owner_a)
    response = client.post(PAGE, {"currency": "CNY", "amount": "50.00"})
    assert response.status_code == 302 and response["Location"] == PAGE
    payout = _shop_payouts(shop_a).get()
    assert (payout.amount, payout.status, payout.requested_by) == (D("50.00"), Payout.Status.REQUESTED, owner_a)
    assert owed_to("vendor", shop_a.pk, ledger.AVAILABLE) == settled_share - D("50.00")
    assert owed_to("vendor", shop_a.pk, ledger.PAYOUT) == D("50.00")
    assert AuditEvent.objects.filter(action="payout.requested", object_id=str(payout.pk)).exists()

    page = client.get(PAGE).content.decode()
    assert f"Payout {payout.reference} of 50.00 CNY requested." in page
    assert 'data-status="requested"' in page and payout.reference in page


def test_an_empty_amount_pays_out_everything_available(client, manager_a, shop_a, settled_share):
    client.force_login(manager_a)
    assert client.post(PAGE, {"currency": "CNY", "amount": ""}).status_code == 302
    assert _shop_payouts(shop_a).get().amount == settled_share
    assert available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY") == 0


def test_asking_for_more_than_available_is_a_form_error(client, owner_a, shop_a, settled_share):
    client.force_login(owner_a)
    response = client.post(PAGE, {"currency": "CNY", "amount": str(settled_share + D("0.01"))})
    assert response.status_code == 400
    assert f"At most {settled_share} CNY is available." in response.content.decode()
    assert not _shop_payouts(shop_a).exists()


def test_nothing_available_is_a_form_error(client, owner_a, shop_a):
    client.force_login(owner_a)
    response = client.post(PAGE, {"currency": "CNY"})
    assert response.status_code == 400
    assert "There is no available balance to pay out." in response.content.decode()


@pytest.mark.parametrize("amount", ["abc", "-5", "1.234", "0"])
def test_a_bad_amount_is_refused_before_the_service(client, owner_a, shop_a, settled_share, amount):
    client.force_login(owner_a)
    assert client.post(PAGE, {"currency": "CNY", "amount": amount}).status_code == 400
    assert not _shop_payouts(shop_a).exists()


def test_fulfilment_staff_cannot_request_a_payout(client, staff_a, shop_a, settled_share):
    client.force_login(staff_a)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"currency": "CNY", "amount": "10.00"}).status_code == 404
    assert not _shop_payouts(shop_a).exists()


def test_a_failed_payout_shows_its_reason_and_the_money_comes_back(client, owner_a, shop_a, settled_share):
    ReceiverAccount.objects.update_or_create(
        owner_type="vendor", owner_key=str(shop_a.pk), provider="sandbox", defaults={"account": "fail-closed-account"}
    )
    client.force_login(owner_a)
    client.post(PAGE, {"currency": "CNY", "amount": "20.00"})
    payout = _shop_payouts(shop_a).get()
    call_send(call_id=payout.call_id)  # the worker sends it; the sandbox refuses the account

    payout.refresh_from_db()
    assert payout.status == Payout.Status.FAILED
    assert available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY") == settled_share
    assert owed_to("vendor", shop_a.pk, ledger.PAYOUT) == 0
    page = client.get(PAGE).content.decode()
    assert 'data-status="failed"' in page and "Failed, re-credited" in page
    assert "refused the payout" in payout.failure_reason and escape(payout.failure_reason) in page


def test_a_paid_payout_is_shown_paid(client, owner_a, shop_a, settled_share):
    client.force_login(owner_a)
    client.post(PAGE, {"currency": "CNY", "amount": "20.00"})
    payout = _shop_payouts(shop_a).get()
    call_send(call_id=payout.call_id)
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert owed_to("vendor", shop_a.pk, ledger.PAYOUT) == 0  # confirmed: left the marketplace's books
    assert 'data-status="paid"' in client.get(PAGE).content.decode()


# --- The API --------------------------------------------------------------------------------------


def test_api_requests_a_payout_and_lists_it(api, owner_a, shop_a, settled_share):
    api.force_authenticate(owner_a)
    response = api.post(API, {"amount": "12.50"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["currency"], body["status"]) == ("12.50", "CNY", "requested")
    assert body["receiver_account"] == ReceiverAccount.objects.get(owner_key=str(shop_a.pk)).account
    listed = api.get(API).json()
    assert listed["count"] == 1 and listed["results"][0]["reference"] == body["reference"]
    assert owed_to("vendor", shop_a.pk, ledger.AVAILABLE) == settled_share - D("12.50")


def test_api_refusal_is_a_409_with_the_reason(api, owner_a, shop_a, settled_share):
    api.force_authenticate(owner_a)
    response = api.post(API, {"amount": str(settled_share + 1)}, format="json")
    assert response.status_code == 409
    assert response.json() == {"code": "payout_refused", "message": f"At most {settled_share} CNY is available."}
    assert not _shop_payouts(shop_a).exists()


def test_api_refuses_more_decimals_than_the_currency_has(api, owner_a, shop_a, settled_share):
    api.force_authenticate(owner_a)
    response = api.post(API, {"amount": "1.001"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = api.post(API, {"amount": "10.50", "currency": "JPY"}, format="json")
    assert response.status_code == 400 and "JPY" in response.json()["message"]


def test_api_refuses_staff_and_other_shops(api, staff_a, owner_b, shop_a, shop_b, settled_share):
    api.force_authenticate(staff_a)
    assert api.post(API, {"amount": "10.00"}, format="json").status_code == 403
    api.force_authenticate(owner_b)
    assert api.post(API, {"amount": "10.00"}, format="json", HTTP_X_VENDOR=str(shop_a.pk)).status_code == 403
    assert api.get(API, HTTP_X_VENDOR=str(shop_a.pk)).status_code == 403
    # Without the header owner B acts for Panda Sports, which has nothing to pay out.
    assert api.post(API, {"amount": "10.00"}, format="json").status_code == 409
    assert not Payout.objects.exists()
    client_page = api.get(API).json()
    assert client_page["count"] == 0


def test_other_shops_payouts_never_show(client, api, owner_a, owner_b, shop_a, settled_share):
    api.force_authenticate(owner_a)
    reference = api.post(API, {"amount": "5.00"}, format="json").json()["reference"]
    client.force_login(owner_b)
    assert reference not in client.get(PAGE).content.decode()
    api.force_authenticate(owner_b)
    assert reference not in api.get(API).content.decode()
