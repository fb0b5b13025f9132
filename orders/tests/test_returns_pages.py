"""Returns through the pages: the buyer's link, form and request page; the shop's returns list
and answers in the dashboard; nobody else can open them."""

from decimal import Decimal

import pytest

from catalog.models import ProductVariant
from orders.models import ReturnRequest, VendorOrder
from orders.services.returns import return_request_accept, return_request_open, return_request_refuse
from orders.tests.returns_factories import RefundHookRecorder, photo, shop_order

pytestmark = pytest.mark.django_db
RS = ReturnRequest.Status
KIND = ReturnRequest.Kind
VO = VendorOrder.Status


@pytest.fixture
def vendor_order(buyer, shop_a, owner_a, staff_a):
    return shop_order(buyer=buyer, shop=shop_a, lines=[("10.00", 3), ("25.00", 2)])


@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer)
    return client


def form_url(vendor_order) -> str:
    return f"/orders/{vendor_order.order.number}/parts/{vendor_order.number}/return/"


def open_request(vendor_order, buyer, *, kind=KIND.RETURN_AND_REFUND) -> ReturnRequest:
    return return_request_open(
        vendor_order=vendor_order, actor=buyer, kind=kind, reason="damaged", lines=[(vendor_order.lines.first(), 1)]
    )


# --- The buyer ---------------------------------------------------------------------------------


def test_order_page_offers_a_return_for_a_delivered_shop_order(buyer_client, vendor_order):
    page = buyer_client.get(f"/orders/{vendor_order.order.number}/").content.decode()

    assert 'data-testid="request-return"' in page and form_url(vendor_order) in page


def test_order_page_offers_no_return_once_the_window_is_over(buyer_client, buyer, shop_a):
    old = shop_order(buyer=buyer, shop=shop_a, delivered_days_ago=30)

    page = buyer_client.get(f"/orders/{old.order.number}/").content.decode()

    assert 'data-testid="request-return"' not in page


def test_buyer_sends_a_request_with_a_photo_from_the_form(buyer_client, vendor_order, owner_a):
    lines = list(vendor_order.lines.order_by("id"))
    form = buyer_client.get(form_url(vendor_order)).content.decode()
    assert f'name="quantity_{lines[0].pk}"' in form and 'enctype="multipart/form-data"' in form

    response = buyer_client.post(
        form_url(vendor_order),
        {
            f"quantity_{lines[0].pk}": "2",
            f"quantity_{lines[1].pk}": "0",
            "kind": KIND.RETURN_AND_REFUND,
            "reason": "damaged",
            "description": "Two cups arrived cracked.",
            "photos": [photo("a.png"), photo("b.png", "green")],
        },
    )

    return_request = ReturnRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/returns/{return_request.number}/"
    assert return_request.amount == Decimal("20.00") and return_request.photos.count() == 2
    page = buyer_client.get(response["Location"]).content.decode()
    assert "Two cups arrived cracked." in page and "¥20.00" in page and "Requested by the buyer" in page


def test_form_shows_why_it_cannot_take_the_request(buyer_client, vendor_order):
    lines = list(vendor_order.lines.order_by("id"))
    response = buyer_client.post(
        form_url(vendor_order),
        {
            f"quantity_{lines[0].pk}": "1",
            "kind": KIND.RETURN_AND_REFUND,
            "reason": "damaged",
            "shipping_refund": "on",
        },
    )

    assert response.status_code == 400
    assert "Shipping is refunded only with the last of the items" in response.content.decode()
    assert not ReturnRequest.objects.exists()


def test_form_needs_at_least_one_unit(buyer_client, vendor_order):
    response = buyer_client.post(form_url(vendor_order), {"kind": KIND.REFUND_ONLY, "reason": "damaged"})

    assert response.status_code == 400 and "Choose at least one item" in response.content.decode()


def test_buyer_cancels_from_the_request_page(buyer_client, vendor_order, buyer):
    return_request = open_request(vendor_order, buyer)

    response = buyer_client.post(f"/returns/{return_request.number}/cancel/")

    assert response.status_code == 302
    return_request.refresh_from_db()
    assert return_request.status == RS.CANCELLED


def test_buyer_enters_the_return_tracking_number(buyer_client, vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    return_request_accept(return_request=return_request, actor=owner_a)
    assert 'data-testid="ship-back-form"' in buyer_client.get(f"/returns/{return_request.number}/").content.decode()

    buyer_client.post(f"/returns/{return_request.number}/ship-back/", {"carrier": "SF", "tracking_number": "SF77"})

    return_request.refresh_from_db()
    assert return_request.return_tracking_number == "SF77"


def test_buyer_disputes_a_refusal_from_the_request_page(buyer_client, vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    return_request_refuse(return_request=return_request, actor=owner_a, note="Scratches are normal.")
    page = buyer_client.get(f"/returns/{return_request.number}/").content.decode()
    assert "Scratches are normal." in page and 'data-testid="dispute-form"' in page

    buyer_client.post(f"/returns/{return_request.number}/dispute/", {"note": "They are cracks, see photos."})

    return_request.refresh_from_db()
    assert return_request.status == RS.DISPUTED


def test_my_returns_lists_only_mine(buyer_client, vendor_order, buyer, other_buyer, shop_a):
    mine = open_request(vendor_order, buyer)
    theirs = open_request(shop_order(buyer=other_buyer, shop=shop_a), other_buyer)

    page = buyer_client.get("/returns/").content.decode()

    assert mine.number in page and theirs.number not in page


def test_another_buyer_gets_404_everywhere(client, vendor_order, buyer, other_buyer):
    return_request = open_request(vendor_order, buyer)
    client.force_login(other_buyer)

    assert client.get(form_url(vendor_order)).status_code == 404
    assert client.post(form_url(vendor_order), {"kind": KIND.REFUND_ONLY}).status_code == 404
    assert client.get(f"/returns/{return_request.number}/").status_code == 404
    for action in ("cancel", "ship-back", "dispute"):
        assert client.post(f"/returns/{return_request.number}/{action}/").status_code == 404
    return_request.refresh_from_db()
    assert return_request.status == RS.REQUESTED


def test_anonymous_visitor_is_sent_to_log_in(client, vendor_order, buyer):
    return_request = open_request(vendor_order, buyer)

    for url in (form_url(vendor_order), f"/returns/{return_request.number}/", "/returns/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- The shop ----------------------------------------------------------------------------------


def test_dashboard_nav_links_to_returns(client, owner_a):
    client.force_login(owner_a)

    assert 'href="/dashboard/orders/returns/"' in client.get("/dashboard/orders/").content.decode()


def test_shop_sees_its_requests_to_answer(client, vendor_order, buyer, owner_a, owner_b, shop_b):
    ours = open_request(vendor_order, buyer)
    theirs = open_request(shop_order(buyer=buyer, shop=shop_b), buyer)
    client.force_login(owner_a)

    page = client.get("/dashboard/orders/returns/").content.decode()

    assert ours.number in page and theirs.number not in page and "To answer (1)" in page


def test_shop_accepts_a_refund_in_the_dashboard(client, vendor_order, buyer, staff_a):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    client.force_login(staff_a)
    page = client.get(f"/dashboard/orders/returns/{return_request.number}/").content.decode()
    assert 'data-testid="accept-return"' in page

    with RefundHookRecorder() as hook:
        response = client.post(f"/dashboard/orders/returns/{return_request.number}/accept/")

    assert response.status_code == 302
    return_request.refresh_from_db()
    assert return_request.status == RS.ACCEPTED and [call["number"] for call in hook.calls] == [return_request.number]
    assert return_request.refunds.count() == 1  # payments' receiver created the Refund


def test_shop_refuses_with_a_reason_in_the_dashboard(client, vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    client.force_login(owner_a)

    empty = client.post(f"/dashboard/orders/returns/{return_request.number}/refuse/", {"note": ""})
    client.post(f"/dashboard/orders/returns/{return_request.number}/refuse/", {"note": "Worn."})

    assert empty.status_code == 400
    return_request.refresh_from_db()
    assert (return_request.status, return_request.vendor_note) == (RS.REFUSED, "Worn.")


def test_shop_confirms_the_goods_arrived_in_the_dashboard(client, vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    return_request_accept(return_request=return_request, actor=owner_a)
    variant_id = vendor_order.lines.order_by("id").first().variant_id
    stock = ProductVariant.objects.get(pk=variant_id).stock
    client.force_login(owner_a)
    assert (
        'data-testid="goods-received"'
        in client.get(f"/dashboard/orders/returns/{return_request.number}/").content.decode()
    )

    client.post(f"/dashboard/orders/returns/{return_request.number}/goods-received/")
    client.post(f"/dashboard/orders/returns/{return_request.number}/goods-received/")  # a double click

    assert ProductVariant.objects.get(pk=variant_id).stock == stock + 1
    return_request.refresh_from_db()
    assert return_request.goods_received_at and return_request.refund_approved_at


def test_another_shop_gets_404_and_changes_nothing(client, vendor_order, buyer, owner_b):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    client.force_login(owner_b)

    assert client.get(f"/dashboard/orders/returns/{return_request.number}/").status_code == 404
    for action in ("accept", "refuse", "goods-received"):
        response = client.post(f"/dashboard/orders/returns/{return_request.number}/{action}/", {"note": "x"})
        assert response.status_code == 404
    assert return_request.number not in client.get("/dashboard/orders/returns/?status=all").content.decode()
    return_request.refresh_from_db()
    assert return_request.status == RS.REQUESTED


def test_the_buyer_cannot_answer_their_own_request_in_the_dashboard(client, vendor_order, buyer):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    client.force_login(buyer)

    assert client.post(f"/dashboard/orders/returns/{return_request.number}/accept/").status_code == 404
    return_request.refresh_from_db()
    assert return_request.status == RS.REQUESTED


# --- Photos are private ------------------------------------------------------------------------


def test_return_photos_are_private_and_open_only_for_the_buyer_the_shop_staff_and_admins(
    client, vendor_order, buyer, other_buyer, owner_a, staff_a, owner_b, admin_user, settings
):
    return_request = return_request_open(
        vendor_order=vendor_order,
        actor=buyer,
        kind=KIND.RETURN_AND_REFUND,
        reason="damaged",
        lines=[(vendor_order.lines.first(), 1)],
        photos=[photo("cracked.png")],
    )
    stored = return_request.photos.get()
    url = f"/returns/{return_request.number}/photos/{stored.pk}/"
    assert stored.url == url
    # Kept in private storage, nowhere under the public media directory.
    assert stored.image.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not settings.MEDIA_ROOT.exists() or not list(settings.MEDIA_ROOT.rglob("*.png"))

    for allowed in (buyer, owner_a, staff_a, admin_user):
        client.force_login(allowed)
        response = client.get(url)
        assert response.status_code == 200, allowed
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        assert response["X-Content-Type-Options"] == "nosniff"
    for refused in (other_buyer, owner_b):
        client.force_login(refused)
        assert client.get(url).status_code == 404, refused
    client.logout()
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(buyer)
    assert client.get(f"/returns/{return_request.number}/photos/{stored.pk + 1}/").status_code == 404
    # The pages, the admin and the API link the private address, not a media URL.
    assert url in client.get(f"/returns/{return_request.number}/").content.decode()
    assert client.get(f"/api/v1/returns/{return_request.number}/").json()["photos"] == [url]
    client.force_login(admin_user)
    assert url in client.get(f"/admin/orders/returnrequest/{return_request.pk}/change/").content.decode()
    client.force_login(owner_a)
    assert url in client.get(f"/dashboard/orders/returns/{return_request.number}/").content.decode()
