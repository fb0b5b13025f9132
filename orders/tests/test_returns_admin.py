"""The platform's side: return requests in the admin, and the arbitration of disputed ones."""

import pytest

from orders.models import ReturnRequest
from orders.services.returns import return_request_dispute, return_request_open, return_request_refuse
from orders.tests.returns_factories import RefundHookRecorder, shop_order

pytestmark = pytest.mark.django_db
RS = ReturnRequest.Status
KIND = ReturnRequest.Kind


@pytest.fixture
def disputed(buyer, shop_a, owner_a):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, lines=[("10.00", 3)])
    return_request = return_request_open(
        vendor_order=vendor_order,
        actor=buyer,
        kind=KIND.REFUND_ONLY,
        reason="not_received",
        lines=[(vendor_order.lines.get(), 3)],
    )
    return_request_refuse(return_request=return_request, actor=owner_a, note="Tracking says delivered.")
    return return_request_dispute(return_request=return_request, actor=buyer, reason="Nobody delivered it.")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def arbitrate_url(return_request) -> str:
    return f"/admin/orders/returnrequest/{return_request.pk}/arbitrate/"


def test_changelist_filters_disputed_requests(admin_client, disputed):
    page = admin_client.get("/admin/orders/returnrequest/?status__exact=disputed").content.decode()

    assert disputed.number in page and arbitrate_url(disputed) in page


def test_admin_reads_both_sides_and_orders_the_refund(admin_client, disputed, admin_user):
    page = admin_client.get(arbitrate_url(disputed)).content.decode()
    assert "Tracking says delivered." in page and "Nobody delivered it." in page

    with RefundHookRecorder() as hook:
        response = admin_client.post(
            arbitrate_url(disputed), {"decision": "refund", "note": "The carrier lost it.", "goods_return": "on"}
        )

    assert response.status_code == 302
    disputed.refresh_from_db()
    assert (disputed.status, disputed.admin_note) == (RS.ACCEPTED, "The carrier lost it.")
    assert [(call["number"], call["actor"]) for call in hook.calls] == [(disputed.number, admin_user.pk)]


def test_admin_refuses_and_closes(admin_client, disputed):
    admin_client.post(arbitrate_url(disputed), {"decision": "refuse", "note": "Signed for by the buyer."})

    disputed.refresh_from_db()
    assert disputed.status == RS.CLOSED


def test_a_request_not_disputed_cannot_be_decided_here(admin_client, disputed):
    admin_client.post(arbitrate_url(disputed), {"decision": "refuse", "note": "Closed."})

    page = admin_client.get(arbitrate_url(disputed)).content.decode()
    admin_client.post(arbitrate_url(disputed), {"decision": "refund", "note": "Changed my mind."})

    assert "not waiting for the platform" in page
    disputed.refresh_from_db()
    assert disputed.status == RS.CLOSED


def test_the_action_opens_the_arbitration_page(admin_client, disputed):
    response = admin_client.post(
        "/admin/orders/returnrequest/", {"action": "arbitrate", "_selected_action": [disputed.pk]}
    )

    assert response.status_code == 302 and response["Location"] == arbitrate_url(disputed)


def test_shop_staff_cannot_arbitrate(client, disputed, owner_a):
    client.force_login(owner_a)

    response = client.post(arbitrate_url(disputed), {"decision": "refund", "note": "Mine."})

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    disputed.refresh_from_db()
    assert disputed.status == RS.DISPUTED
