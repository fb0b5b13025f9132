"""Real PostgreSQL threads, each on its own connection, racing on one shop order's returns: units
are never over-claimed, goods are received (and stock returned) once, the refund hook fires once."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from catalog.models import Product, ProductVariant
from orders.models import ReturnLine, ReturnRequest, VendorOrder
from orders.services.returns import (
    ReturnNotAllowed,
    ReturnQuantityExceeded,
    return_request_accept,
    return_request_goods_received,
    return_request_open,
)
from orders.tests.returns_factories import RefundHookRecorder, shop_order

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.USES_POSTGRES, reason="row locks and parallel connections need PostgreSQL"),
]
RS = ReturnRequest.Status
KIND = ReturnRequest.Kind


def run_together(count: int, work) -> list:
    """Runs work(index) in `count` threads released at once; returns what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # collected and asserted on by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def fresh(model, pk):
    """A copy read in this thread (a model instance must not cross connections)."""
    return (
        model.objects.select_related("order", "vendor").get(pk=pk)
        if model is VendorOrder
        else (model.objects.select_related("vendor_order__vendor", "vendor_order__order").get(pk=pk))
    )


def test_two_requests_racing_for_the_same_units_cannot_both_win(buyer, shop_a):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, lines=[("10.00", 3)])

    def ask(_index):
        locked = fresh(VendorOrder, vendor_order.pk)
        return return_request_open(
            vendor_order=locked,
            actor=buyer,
            kind=KIND.RETURN_AND_REFUND,
            reason="damaged",
            lines=[(locked.lines.get(), 2)],
        )

    results = run_together(6, ask)

    opened = [result for result in results if isinstance(result, ReturnRequest)]
    refused = [result for result in results if isinstance(result, ReturnQuantityExceeded)]
    assert len(opened) == 1 and len(refused) == 5, results
    assert sum(ReturnLine.objects.values_list("quantity", flat=True)) == 2
    assert ReturnRequest.objects.get().number == f"{vendor_order.number}-R1"


def test_goods_received_twice_at_once_return_the_stock_once_and_refund_once(buyer, shop_a, owner_a, staff_a):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, lines=[("10.00", 3)], stock=5)
    line = vendor_order.lines.get()
    return_request = return_request_open(
        vendor_order=vendor_order, actor=buyer, kind=KIND.RETURN_AND_REFUND, reason="damaged", lines=[(line, 3)]
    )
    return_request_accept(return_request=fresh(ReturnRequest, return_request.pk), actor=owner_a)
    before = (
        ProductVariant.objects.get(pk=line.variant_id).stock,
        Product.objects.get(pk=line.product_id_snapshot).total_stock,
    )

    with RefundHookRecorder() as hook:
        results = run_together(
            4,
            lambda index: return_request_goods_received(
                return_request=fresh(ReturnRequest, return_request.pk), actor=(owner_a, staff_a)[index % 2]
            ),
        )

    assert sum(isinstance(result, ReturnRequest) for result in results) == 1, results
    assert sum(isinstance(result, ReturnNotAllowed) for result in results) == 3
    assert ProductVariant.objects.get(pk=line.variant_id).stock == before[0] + 3
    assert Product.objects.get(pk=line.product_id_snapshot).total_stock == before[1] + 3
    assert [call["number"] for call in hook.calls] == [return_request.number]
    assert return_request.refunds.count() == 1  # payments' receiver made exactly one Refund
