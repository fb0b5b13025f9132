"""Pages of the payment flow, the sandbox gateway's hosted page, and provider webhooks."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.signing import BadSignature
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.errors import DomainError, NotFound, PaymentError
from marketplace.money import format_money
from payments import selectors, services
from payments.models import Payment, SandboxCharge
from payments.providers import bank_transfer, enabled_provider_codes, get_provider, wechatpay
from payments.providers import sandbox as sandbox_gateway

logger = logging.getLogger(__name__)


def _order_url(order) -> str:
    return f"/orders/{order.number}/"


@login_required
@require_http_methods(["GET", "POST"])
def payment_start(request: HttpRequest, order_number: str) -> HttpResponse:
    """GET: the 'pay now' page. POST: open a payment at the chosen provider and go there."""
    try:
        order = selectors.order_get_for_payer(actor=request.user, number=order_number)
    except NotFound:
        raise Http404 from None
    providers = [get_provider(code) for code in enabled_provider_codes()]
    if request.method == "POST":
        provider_code = request.POST.get("provider") or providers[0].code
        try:
            started = services.payment_start(
                order=order,
                actor=request.user,
                provider_code=provider_code,
                site_url=request.build_absolute_uri("/"),
            )
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect(request.path)
        return redirect(started.redirect_url)
    problem = ""
    try:
        services.order_check_payable(order=order, actor=request.user)
    except PaymentError as exc:
        problem = str(exc)
    return render(
        request,
        "payments/start.html",
        {
            "order": order,
            "total": format_money(order.grand_total, order.currency),
            "providers": providers,
            "problem": problem,
            "order_url": _order_url(order),
        },
    )


@login_required
def payment_return(request: HttpRequest, reference: str) -> HttpResponse:
    """Where the provider sends the buyer back: the outcome, or 'waiting' until the
    server-to-server notification has arrived (the page refreshes itself)."""
    try:
        payment = selectors.payment_get_for_buyer(actor=request.user, reference=reference)
    except NotFound:
        raise Http404 from None
    if payment.status == Payment.Status.PENDING:
        # Providers where the buyer only approves (PayPal) are captured now, on the way back.
        payment = services.payment_return_from_provider(payment=payment, cancelled="cancelled" in request.GET)
    if payment.status == Payment.Status.CAPTURED:
        state = "refund" if payment.needs_refund else "received"
    elif payment.status == Payment.Status.PENDING:
        state = "waiting"
    else:
        state = "failed"
    order = payment.order
    can_retry = state == "failed"
    if can_retry:
        try:
            services.order_check_payable(order=order, actor=request.user)
        except PaymentError:
            can_retry = False
    return render(
        request,
        "payments/return.html",
        {
            "payment": payment,
            "order": order,
            "state": state,
            "can_retry": can_retry,
            "amount": format_money(payment.amount, payment.currency),
            "order_url": _order_url(order),
        },
    )


@login_required
def bank_transfer_page(request: HttpRequest, reference: str) -> HttpResponse:
    """What the buyer's company must transfer: the provider's payee account, the exact amount,
    the reference to write in the memo, and what is still due after part-payments."""
    try:
        instruction = selectors.bank_transfer_get_for_buyer(actor=request.user, reference=reference)
    except NotFound:
        raise Http404 from None
    payment, currency = instruction.payment, instruction.currency
    remaining = max(instruction.amount_due - instruction.amount_received, 0)
    excess = max(instruction.amount_received - instruction.amount_due, 0)
    return render(
        request,
        "payments/bank_transfer.html",
        {
            "instruction": instruction,
            "payment": payment,
            "order": payment.order,
            "state": "refund" if payment.needs_refund else instruction.status,
            "reference_display": bank_transfer.reference_code_display(instruction.reference_code),
            "amount_due": format_money(instruction.amount_due, currency),
            "amount_received": format_money(instruction.amount_received, currency),
            "remaining": format_money(remaining, currency),
            "excess": format_money(excess, currency),
            "order_url": _order_url(payment.order),
        },
    )


@login_required
def wechatpay_code_page(request: HttpRequest, token: str) -> HttpResponse:
    """The WeChat Pay Native code to scan. The token is signed by us (code URL and payment
    reference), so the page shows only what WeChat Pay gave us, and only to the payer."""
    try:
        shown = wechatpay.code_page_read(token)
        payment = selectors.payment_get_for_buyer(actor=request.user, reference=shown["reference"])
    except (BadSignature, KeyError, TypeError, NotFound):
        raise Http404 from None
    return render(
        request,
        "payments/wechatpay_code.html",
        {
            "payment": payment,
            "code_url": shown["code_url"],
            "amount": format_money(payment.amount, payment.currency),
            "return_url": reverse("payments:return", args=[payment.reference]),
        },
    )


# --- The sandbox gateway's hosted page (the provider's side) ---------------------------


@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        charge = sandbox_gateway.sandbox_charge_get(token=token)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("pay", "fail"):
            return render(
                request, "payments/sandbox_page.html", _sandbox_context(charge, _("Choose Pay or Fail.")), status=400
            )
        charge = sandbox_gateway.sandbox_charge_complete(token=token, succeeded=action == "pay")
        return redirect(charge.return_url)
    return render(request, "payments/sandbox_page.html", _sandbox_context(charge))


def _sandbox_context(charge: SandboxCharge, error: str = "") -> dict:
    return {
        "charge": charge,
        "amount": format_money(charge.amount, charge.currency),
        "merchant": "Shequn 社群",
        "error": error,
        "is_open": charge.status == SandboxCharge.Status.OPEN,
    }


# --- Webhooks ---------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> JsonResponse:
    """Provider notifications. Signature checked over the raw body; replays answer 200 and
    change nothing; anything not genuine or not matching answers 4xx with a JSON message."""
    try:
        outcome = services.webhook_receive(provider_code=provider, headers=request.headers, body=request.body)
    except DomainError as exc:
        logger.warning("%s webhook refused: %s", provider, exc)
        return JsonResponse({"message": str(exc), "code": exc.code}, status=exc.http_status)
    return JsonResponse({"status": outcome})
