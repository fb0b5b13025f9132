"""The vendor dashboard's money pages: earnings (balances, recent settlements), the statement of a
period (and its CSV) and payouts. Owners and managers only (the "earnings" role permission):
fulfilment staff get 404 like every page their role cannot open. Thin views: reads through
payments.selectors with request.vendor, the payout request through payments.services.payouts."""

from datetime import date

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from marketplace.money import InvalidAmount, parse_amount
from payments import ledger, selectors
from payments.services.payouts import PayoutRefused, payout_request
from vendors.dashboard import dashboard_view

PAGE_SIZE = 20
RECENT_SETTLEMENTS = 10


class StatementPeriodForm(forms.Form):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD&currency=CNY ("from" is a Python keyword: added in __init__)."""

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
        self.fields["to"] = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
        self.fields["currency"] = forms.ChoiceField(
            label=_("Currency"), choices=[(code, code) for code in currencies], required=False
        )


class PayoutRequestForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"))
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=20,
        help_text=_("Leave empty to pay out everything available."),
    )

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in currencies]

    def clean(self):
        cleaned = super().clean()
        raw = (cleaned.get("amount") or "").strip()
        cleaned["amount"] = None
        if raw and cleaned.get("currency"):
            try:
                cleaned["amount"] = parse_amount(raw, cleaned["currency"])
            except InvalidAmount:
                self.add_error("amount", _("Enter an amount such as 100.00."))
            else:
                if cleaned["amount"] <= 0:
                    self.add_error("amount", _("Enter an amount above zero."))
        return cleaned


@dashboard_view("earnings")
def earnings(request: HttpRequest) -> HttpResponse:
    balances = selectors.vendor_balances(vendor=request.vendor)
    settlements = list(selectors.vendor_settlement_list(vendor=request.vendor)[:RECENT_SETTLEMENTS])
    return render(
        request,
        "payments/dashboard/earnings.html",
        {"balances": balances, "settlements": settlements, "return_window_days": settings.RETURN_WINDOW_DAYS},
    )


def _period(request: HttpRequest) -> tuple[StatementPeriodForm, date, date, str]:
    """The period asked for, or this month when nothing (or nothing valid) was asked."""
    currencies = [balance.currency for balance in selectors.vendor_balances(vendor=request.vendor)]
    default_from, default_to = selectors.statement_default_period()
    if "from" in request.GET or "to" in request.GET:
        form = StatementPeriodForm(request.GET, currencies=currencies)
        if form.is_valid():
            data = form.cleaned_data
            return form, data["from"], data["to"], data["currency"] or request.vendor.currency
    else:
        form = StatementPeriodForm(
            initial={"from": default_from, "to": default_to, "currency": request.vendor.currency},
            currencies=currencies,
        )
    return form, default_from, default_to, request.vendor.currency


def _statement(request: HttpRequest) -> tuple[StatementPeriodForm, selectors.Statement | None]:
    form, date_from, date_to, currency = _period(request)
    if form.errors:
        return form, None
    try:
        return form, selectors.vendor_statement(
            vendor=request.vendor, date_from=date_from, date_to=date_to, currency=currency
        )
    except selectors.StatementPeriodInvalid as exc:
        form.add_error(None, str(exc))
        return form, None


def _render_statement(request: HttpRequest, form: StatementPeriodForm, result: selectors.Statement | None):
    return render(
        request,
        "payments/dashboard/statement.html",
        {"form": form, "statement": result},
        status=400 if form.errors else 200,
    )


@dashboard_view("earnings")
def statement(request: HttpRequest) -> HttpResponse:
    form, result = _statement(request)
    return _render_statement(request, form, result)


@dashboard_view("earnings")
def statement_csv(request: HttpRequest) -> HttpResponse:
    """The same rows as the statement page, as a CSV download (a bad period shows the page's errors)."""
    form, result = _statement(request)
    if result is None:
        return _render_statement(request, form, result)
    response = HttpResponse(selectors.statement_csv(statement=result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{request.vendor.slug}-statement-{result.currency}-'
        f'{result.date_from:%Y%m%d}-{result.date_to:%Y%m%d}.csv"'
    )
    return response


@dashboard_view("earnings")
def payouts(request: HttpRequest) -> HttpResponse:
    balances = selectors.vendor_balances(vendor=request.vendor)
    form = PayoutRequestForm(
        request.POST or None,
        initial={"currency": request.vendor.currency},
        currencies=[balance.currency for balance in balances],
    )
    if request.method == "POST" and form.is_valid():
        try:
            payout = payout_request(
                owner_type=ledger.VENDOR,
                owner_key=request.vendor.pk,
                currency=form.cleaned_data["currency"],
                actor=request.user,
                amount=form.cleaned_data["amount"],
            )
        except PayoutRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Payout %(reference)s of %(amount)s %(currency)s requested.")
                % {"reference": payout.reference, "amount": payout.amount, "currency": payout.currency},
            )
            return redirect("payments:dashboard-payouts")
    page = Paginator(selectors.vendor_payout_list(vendor=request.vendor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/dashboard/payouts.html",
        {"form": form, "page": page, "balances": balances},
        status=400 if form.errors else 200,
    )
