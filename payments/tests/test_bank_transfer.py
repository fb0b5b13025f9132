"""A company pays a large order by bank transfer: the instruction page, the bank's signed credit
notifications (in parts, too much, too late, ten times over), the statement import and the
admin's manual matching.

The bank is played by FakeBank below: it keeps the collection account's credits, signs its
notifications with the shared secret using its own HMAC code (not ours) and POSTs them to our
webhook, through Django's test client or, in the concurrency story, over real HTTP to the live
server; it also exports its statement as CSV."""

import csv
import hashlib
import hmac
import io
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.utils import timezone

from marketplace.errors import InvalidTransition
from marketplace.models import AuditEvent
from orders.models import Order, OrderEvent
from orders.services.checkout import order_cancel_by_buyer, orders_expire_due
from orders.tests.fulfilment_factories import order_for
from payments import ledger
from payments.models import (
    BankStatementLine,
    BankTransferInstruction,
    Payment,
    ProviderCall,
    Refund,
    WebhookEvent,
)
from payments.providers import bank_transfer as bank_provider
from payments.providers.bank_transfer import check_bank_transfer_settings
from payments.services.bank_transfer import bank_line_match, bank_transfers_expire

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "/payments/webhooks/bank_transfer/"
SECRET = "the-bank-and-we-share-this"
PAYER = {"payer_name": "Shanghai Lianhe Trading Co., Ltd.", "payer_account": "6222 0210 0100 8888"}


@pytest.fixture(autouse=True)
def _bank_transfer_enabled(settings):
    settings.PAYMENT_PROVIDERS = ["sandbox", "bank_transfer"]
    settings.BANK_TRANSFER_PAYEE_NAME = "Yinlian Payments Co. - client collection account"
    settings.BANK_TRANSFER_PAYEE_ACCOUNT = "3100 6611 0180 1234 567"
    settings.BANK_TRANSFER_PAYEE_BANK = "Bank of Communications, Shanghai Pudong branch"
    settings.BANK_TRANSFER_NOTIFY_SECRET = SECRET
    settings.BANK_TRANSFER_DAYS = 7
    settings.BANK_TRANSFER_FEE_RATE = Decimal("0")


class FakeBank:
    """The bank holding the provider's collection account, as the tests play it."""

    _serial = itertools.count(1)

    def __init__(self, post=None):
        self.credits: list[dict] = []
        self._post = post or self._post_with_test_client

    def credit(self, *, memo: str, amount: str, currency: str = "CNY", value_date: date | None = None, **payer) -> dict:
        """Money arrives on the collection account (nothing is sent yet)."""
        serial = next(self._serial)
        credit = {
            "notify_id": f"NTF{serial:08d}",
            "type": "credit",
            "bank_txn_id": f"BOCOM{serial:010d}",
            "reference": memo,
            "amount": amount,
            "currency": currency,
            "value_date": (value_date or timezone.localdate()).isoformat(),
            **{**PAYER, **payer},
        }
        self.credits.append(credit)
        return credit

    def notify(self, message: dict, *, timestamp: int | None = None, secret: str = SECRET, signature: str = ""):
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        headers = {"X-Bank-Timestamp": str(timestamp), "X-Bank-Signature": signature or mac}
        return self._post(body, headers)

    def pays(self, *, memo: str, amount: str, **details):
        """A credit and its notification, the usual case."""
        return self.notify(self.credit(memo=memo, amount=amount, **details))

    def refund_done(self, call: ProviderCall, *, succeeded: bool = True):
        """The outgoing transfer our refund ordered left the account: the bank says so."""
        return self.notify(
            {
                "notify_id": f"NTF-R-{call.external_id}",
                "type": "refund",
                "refund_id": call.external_id,
                "bank_txn_id": f"BOCOM-OUT-{call.pk}",
                "amount": call.response["amount"],
                "currency": call.response["currency"],
                "status": "succeeded" if succeeded else "failed",
            }
        )

    def statement_csv(self, credits: list[dict] | None = None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["bank_txn_id", "value_date", "amount", "currency", "payer_name", "payer_account", "memo"])
        for credit in self.credits if credits is None else credits:
            writer.writerow(
                [
                    credit["bank_txn_id"],
                    credit["value_date"],
                    credit["amount"],
                    credit["currency"],
                    credit["payer_name"],
                    credit["payer_account"],
                    credit["reference"],
                ]
            )
        return out.getvalue().encode()

    @staticmethod
    def _post_with_test_client(body: bytes, headers: dict):
        return Client().post(WEBHOOK_URL, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def bank():
    return FakeBank()


@pytest.fixture
def buyer_client(buyer):
    client = Client()
    client.force_login(buyer)
    return client


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def order(buyer, shop_a, owner_a):
    """A wholesale-sized order: 3 × ¥5,000.00 + ¥10.00 shipping = ¥15,010.00."""
    return order_for(buyer=buyer, vendors=[shop_a], quantity=3, price="5000.00")


def start_bank_transfer(client: Client, order: Order) -> tuple[Payment, BankTransferInstruction]:
    response = client.post(f"/payments/start/{order.number}/", {"provider": "bank_transfer"})
    assert response.status_code == 302, response.content[:500]
    reference = re.fullmatch(r"/payments/bank-transfer/([^/]+)/", response["Location"]).group(1)
    payment = Payment.objects.get(reference=reference)
    return payment, payment.bank_transfer


@pytest.fixture
def started(buyer_client, order):
    return start_bank_transfer(buyer_client, order)


def page_of(client: Client, payment: Payment) -> str:
    response = client.get(f"/payments/bank-transfer/{payment.reference}/")
    assert response.status_code == 200
    return response.content.decode()


def balance(account) -> Decimal:
    return ledger.account_balance(account=account)


def clearing() -> Decimal:
    return balance(ledger.provider_clearing("bank_transfer", "CNY"))


def owed_to(buyer) -> Decimal:
    """What the marketplace owes the buyer back (credit-normal, so shown positive here)."""
    return -balance(ledger.buyer_refund(buyer.pk, "CNY"))


# --- The instruction ------------------------------------------------------------------------


def test_buyer_gets_payee_account_exact_amount_and_reference(buyer_client, order):
    before = timezone.now()

    payment, instruction = start_bank_transfer(buyer_client, order)

    html = page_of(buyer_client, payment)
    assert "Yinlian Payments Co. - client collection account" in html
    assert "3100 6611 0180 1234 567" in html
    assert "Bank of Communications, Shanghai Pudong branch" in html
    assert "¥15,010.00" in html
    assert bank_provider.reference_code_display(instruction.reference_code) in html
    assert re.fullmatch(r"SQ[0-9A-HJKMNP-TV-Z]{9}", instruction.reference_code)
    assert bank_provider.reference_code_normalise(instruction.reference_code) == instruction.reference_code
    assert (instruction.amount_due, instruction.currency, instruction.status) == (
        Decimal("15010.00"),
        "CNY",
        BankTransferInstruction.Status.AWAITING,
    )
    assert payment.amount == order.grand_total == Decimal("15010.00")
    assert payment.provider_reference == instruction.reference_code
    assert before + timedelta(days=7) <= instruction.expires_at <= timezone.now() + timedelta(days=7)
    # A transfer takes days: the order stays open (its stock reserved) until the instruction expires.
    order.refresh_from_db()
    assert order.expires_at == instruction.expires_at
    assert orders_expire_due(now=timezone.now() + timedelta(days=6)) == 0
    assert AuditEvent.objects.filter(action="bank_transfer.instruction_opened", object_id=str(instruction.pk)).exists()


def test_another_buyer_cannot_see_the_instruction(started, other_buyer):
    payment, _instruction = started
    client = Client()
    client.force_login(other_buyer)

    assert client.get(f"/payments/bank-transfer/{payment.reference}/").status_code == 404


def test_reference_codes_forgive_case_and_spaces_and_catch_every_typo():
    code = bank_provider.reference_code_generate()
    spaced = bank_provider.reference_code_display(code).lower()

    assert bank_provider.reference_code_normalise(spaced) == code
    assert bank_provider.reference_codes_in(f"Payment for order, ref: {spaced}. Thanks") == [code]
    for position in range(2, len(code)):
        for character in bank_provider.REFERENCE_ALPHABET:
            if character != code[position]:
                typo = code[:position] + character + code[position + 1 :]
                assert bank_provider.reference_code_normalise(typo) is None, typo


# --- Credits notified by the bank -------------------------------------------------------------


def test_partial_credit_leaves_the_order_open_and_the_page_shows_the_rest(bank, buyer_client, started):
    payment, instruction = started

    answer = bank.pays(memo=f"Goods {instruction.reference_code}", amount="5000.00")

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"status": "partial"}
    instruction.refresh_from_db()
    payment.refresh_from_db()
    assert instruction.status == BankTransferInstruction.Status.PARTIAL
    assert instruction.amount_received == payment.amount_received == Decimal("5000.00")
    assert payment.status == Payment.Status.PENDING
    assert payment.order.status == Order.Status.PENDING_PAYMENT
    line = BankStatementLine.objects.get()
    assert (line.status, line.instruction, line.source) == ("matched", instruction, "notification")
    html = page_of(buyer_client, payment)
    assert "¥5,000.00" in html and "¥10,010.00" in html  # received, still to transfer
    assert 'data-testid="amount-remaining">¥10,010.00<' in html
    assert clearing() == 0  # nothing captured yet: no ledger entry


def test_second_credit_completes_the_amount_and_pays_the_order(bank, buyer_client, started):
    payment, instruction = started
    bank.pays(memo=instruction.reference_code, amount="5000.00")

    answer = bank.pays(memo=f"rest of {instruction.reference_code.lower()}", amount="10010.00")

    assert answer.json() == {"status": "paid"}
    payment.refresh_from_db()
    instruction.refresh_from_db()
    assert instruction.status == BankTransferInstruction.Status.PAID
    assert payment.status == Payment.Status.CAPTURED and not payment.needs_refund
    assert payment.amount == payment.amount_received == Decimal("15010.00")
    assert payment.order.status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=payment.order, type="paid").count() == 1
    assert AuditEvent.objects.filter(action="payment.captured", object_id=str(payment.pk)).count() == 1
    assert clearing() == Decimal("15010.00")
    assert 'data-state="paid"' in page_of(buyer_client, payment)


def test_the_same_notification_ten_times_credits_once(bank, started):
    payment, instruction = started
    credit = bank.credit(memo=instruction.reference_code, amount="5000.00")

    answers = [bank.notify(credit).json()["status"] for _ in range(10)]

    assert answers == ["partial"] + ["duplicate"] * 9
    instruction.refresh_from_db()
    assert instruction.amount_received == Decimal("5000.00")
    assert BankStatementLine.objects.count() == 1
    assert WebhookEvent.objects.filter(provider="bank_transfer").count() == 1


def test_the_same_bank_transaction_under_another_notification_id_credits_once(bank, started):
    payment, instruction = started
    credit = bank.credit(memo=instruction.reference_code, amount="15010.00")
    bank.notify(credit)

    answer = bank.notify({**credit, "notify_id": "NTF-RESENT-1"})

    assert answer.json() == {"status": "duplicate"}
    payment.refresh_from_db()
    assert payment.amount_received == Decimal("15010.00")
    assert OrderEvent.objects.filter(order=payment.order, type="paid").count() == 1


@pytest.mark.parametrize(
    ("tampering", "message"),
    [
        ({"signature": "0" * 64}, "Invalid signature."),
        ({"secret": "an-attackers-guess"}, "Invalid signature."),
        ({"timestamp_offset": -301}, "Notification timestamp is outside the tolerance window."),
    ],
)
def test_forged_or_stale_notification_is_refused_and_nothing_stored(bank, started, tampering, message):
    payment, instruction = started
    credit = bank.credit(memo=instruction.reference_code, amount="15010.00")
    tampering = dict(tampering)
    offset = tampering.pop("timestamp_offset", 0)

    answer = bank.notify(credit, timestamp=int(time.time()) + offset, **tampering)

    assert answer.status_code == 400
    assert answer.json() == {"message": message, "code": "payment_error"}
    assert not BankStatementLine.objects.exists()
    assert not WebhookEvent.objects.exists()
    instruction.refresh_from_db()
    assert instruction.amount_received == 0


def test_overpayment_pays_the_order_and_sends_the_excess_back(
    bank, buyer, buyer_client, started, django_capture_on_commit_callbacks
):
    payment, instruction = started

    with django_capture_on_commit_callbacks(execute=True):
        answer = bank.pays(memo=instruction.reference_code, amount="15110.00")

    assert answer.json() == {"status": "overpaid"}
    payment.refresh_from_db()
    instruction.refresh_from_db()
    assert instruction.status == BankTransferInstruction.Status.OVERPAID
    assert payment.status == Payment.Status.CAPTURED and not payment.needs_refund
    assert payment.amount == Decimal("15010.00") and payment.amount_received == Decimal("15110.00")
    assert payment.order.status == Order.Status.PAID
    overpaid = AuditEvent.objects.get(action="bank_transfer.overpaid", object_id=str(instruction.pk))
    assert overpaid.data["excess"] == "100.00"
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.vendor_order) == (Decimal("100.00"), None)
    # The refund is an outgoing transfer back to the account the company paid from.
    call = refund.call
    call.refresh_from_db()
    assert call.status == ProviderCall.Status.SENT
    assert call.response["to_account"] == PAYER["payer_account"]
    assert call.response["amount"] == "100.00"
    assert (clearing(), owed_to(buyer)) == (Decimal("15110.00"), Decimal("100.00"))
    assert "¥100.00" in page_of(buyer_client, payment)

    confirmed = bank.refund_done(call)

    assert confirmed.status_code == 200, confirmed.content
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert (clearing(), owed_to(buyer)) == (Decimal("15010.00"), Decimal("0.00"))


def test_a_credit_after_the_instruction_expired_is_captured_and_flagged_for_refund(bank, buyer, started):
    payment, instruction = started
    later = instruction.expires_at + timedelta(minutes=1)
    assert bank_transfers_expire(now=later) == 1
    assert orders_expire_due(now=later) == 1

    answer = bank.pays(memo=instruction.reference_code, amount="15010.00")

    assert answer.json() == {"status": "refund_owed"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and payment.needs_refund
    assert payment.order.status == Order.Status.CANCELLED
    assert AuditEvent.objects.filter(action="payment.needs_refund", object_id=str(payment.pk)).exists()
    assert Refund.objects.get(payment=payment).amount == Decimal("15010.00")
    assert owed_to(buyer) == Decimal("15010.00")


def test_a_credit_after_the_buyer_cancelled_is_captured_and_flagged_for_refund(bank, buyer, started):
    payment, instruction = started
    order_cancel_by_buyer(order=payment.order, actor=buyer)

    bank.pays(memo=instruction.reference_code, amount="15010.00")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and payment.needs_refund
    assert payment.order.status == Order.Status.CANCELLED
    assert owed_to(buyer) == Decimal("15010.00")


def test_expiry_sends_a_part_payment_back(bank, buyer, buyer_client, started):
    payment, instruction = started
    bank.pays(memo=instruction.reference_code, amount="5000.00")

    assert bank_transfers_expire(now=instruction.expires_at) == 1
    assert bank_transfers_expire(now=instruction.expires_at) == 0  # a second run changes nothing

    instruction.refresh_from_db()
    payment.refresh_from_db()
    assert instruction.status == BankTransferInstruction.Status.EXPIRED
    assert payment.status == Payment.Status.CANCELLED and payment.needs_refund
    assert Refund.objects.get(payment=payment).amount == Decimal("5000.00")
    assert (clearing(), owed_to(buyer)) == (Decimal("5000.00"), Decimal("5000.00"))
    assert 'data-state="refund"' in page_of(buyer_client, payment)


def test_a_late_part_payment_after_expiry_is_sent_back(bank, buyer, started):
    payment, instruction = started
    bank_transfers_expire(now=instruction.expires_at)

    answer = bank.pays(memo=instruction.reference_code, amount="5000.00")

    assert answer.json() == {"status": "refund_owed"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED and payment.needs_refund
    assert Refund.objects.get(payment=payment).amount == Decimal("5000.00")
    assert owed_to(buyer) == Decimal("5000.00")


def test_credits_naming_no_instruction_wait_unmatched_for_the_admins(bank, admin_client_, started):
    payment, instruction = started
    code = instruction.reference_code
    typo = code[:4] + ("0" if code[4] != "0" else "1") + code[5:]

    answers = [
        bank.pays(memo=f"invoice {typo}", amount="15010.00").json(),
        bank.pays(memo="", amount="99.00").json(),
        bank.pays(memo=code, amount="15010.00", currency="USD").json(),
    ]

    assert answers == [{"status": "unmatched"}] * 3
    instruction.refresh_from_db()
    assert instruction.amount_received == 0
    assert BankStatementLine.objects.filter(status="unmatched").count() == 3
    listing = admin_client_.get("/admin/payments/bankstatementline/?status__exact=unmatched").content.decode()
    for credit in bank.credits:
        assert credit["bank_txn_id"] in listing
    assert listing.count("/match/") == 3


def test_admin_matches_an_unmatched_credit_by_hand(bank, admin_user, admin_client_, started):
    payment, instruction = started
    bank.pays(memo="for our order, see e-mail", amount="15010.00")
    line = BankStatementLine.objects.get()
    match_url = f"/admin/payments/bankstatementline/{line.pk}/match/"
    assert instruction.reference_code in admin_client_.get(match_url).content.decode()  # suggested: owes exactly this

    response = admin_client_.post(
        match_url, {"reference": bank_provider.reference_code_display(instruction.reference_code)}
    )

    assert response.status_code == 302
    line.refresh_from_db()
    payment.refresh_from_db()
    assert (line.status, line.instruction, line.matched_by) == ("matched", instruction, admin_user)
    assert payment.status == Payment.Status.CAPTURED and payment.order.status == Order.Status.PAID
    matched = AuditEvent.objects.get(action="bank_line.matched", object_id=str(line.pk))
    assert matched.actor == admin_user and matched.data["manual"] is True
    # Matching it again is refused; the payment is not credited twice.
    again = admin_client_.post(match_url, {"reference": instruction.reference_code})
    assert again.status_code == 200
    payment.refresh_from_db()
    assert payment.amount_received == Decimal("15010.00")


def test_a_credit_already_matched_cannot_be_matched_again(bank, admin_user, buyer_client, buyer, shop_b, started):
    payment, instruction = started
    bank.pays(memo=instruction.reference_code, amount="5000.00")
    line = BankStatementLine.objects.get()
    _other_payment, other = start_bank_transfer(buyer_client, order_for(buyer=buyer, vendors=[shop_b]))

    with pytest.raises(InvalidTransition):
        bank_line_match(line=line, instruction=other, actor=admin_user)

    other.refresh_from_db()
    instruction.refresh_from_db()
    assert (other.amount_received, instruction.amount_received) == (0, Decimal("5000.00"))


def test_admin_match_refuses_a_mistyped_reference(bank, admin_client_, started):
    payment, instruction = started
    bank.pays(memo="no reference", amount="15010.00")
    line = BankStatementLine.objects.get()
    typo = instruction.reference_code[:-1] + ("0" if instruction.reference_code[-1] != "0" else "1")

    response = admin_client_.post(f"/admin/payments/bankstatementline/{line.pk}/match/", {"reference": typo})

    assert response.status_code == 200
    assert "This is not a valid transfer reference" in response.content.decode()
    line.refresh_from_db()
    assert line.status == "unmatched"


# --- Statement import ---------------------------------------------------------------------------


def import_statement(client: Client, content: bytes):
    return client.post(
        "/admin/payments/bankstatementline/import/",
        {"file": SimpleUploadedFile("statement.csv", content, content_type="text/csv")},
    )


def test_statement_import_matches_credits_by_the_memo_and_skips_known_ones(
    bank, admin_user, admin_client_, buyer_client, buyer, shop_b
):
    # ¥800.00 + ¥10.00 shipping, and ¥300.00 + ¥10.00
    first_payment, first = start_bank_transfer(
        buyer_client, order_for(buyer=buyer, vendors=[shop_b], quantity=1, price="800.00")
    )
    second_payment, second = start_bank_transfer(
        buyer_client, order_for(buyer=buyer, vendors=[shop_b], quantity=1, price="300.00")
    )
    notified = bank.pays(memo=f"PO-17 {first.reference_code}", amount="400.00")  # arrived by notification
    assert notified.json() == {"status": "partial"}
    bank.credit(memo=f"po-17 {bank_provider.reference_code_display(first.reference_code).lower()}", amount="410.00")
    bank.credit(memo=f"PO-18/{second.reference_code}", amount="310.00")
    bank.credit(memo="interest Q3", amount="1.25")

    response = import_statement(admin_client_, bank.statement_csv())

    assert response.status_code == 302, response.content.decode()[:2000]
    first_payment.refresh_from_db()
    second_payment.refresh_from_db()
    assert first_payment.status == second_payment.status == Payment.Status.CAPTURED
    assert first_payment.amount_received == Decimal("810.00")
    assert BankStatementLine.objects.filter(source="statement").count() == 3  # the notified one skipped
    assert BankStatementLine.objects.get(memo="interest Q3").status == "unmatched"
    assert AuditEvent.objects.filter(action="bank_line.recorded", actor=admin_user).count() == 3
    following = admin_client_.get(response["Location"]).content.decode()
    assert "3 credit(s) recorded, 2 matched, 1 left to match by hand, 1 already known" in following

    again = import_statement(admin_client_, bank.statement_csv())

    assert again.status_code == 302
    assert BankStatementLine.objects.count() == 4
    first_payment.refresh_from_db()
    assert first_payment.amount_received == Decimal("810.00")


def test_statement_with_bad_rows_names_each_row_and_imports_nothing(bank, admin_client_, started):
    payment, instruction = started
    good = bank.credit(memo=instruction.reference_code, amount="15010.00")
    content = (
        bank.statement_csv([good])
        + (
            "BOCOM-X1,2024-13-01,100.00,CNY,Acme,1,memo\n"  # row 3: no 13th month
            "BOCOM-X2,2024-05-01,12.345,CNY,Acme,1,memo\n"  # row 4: too many decimals
            f"{good['bank_txn_id']},2024-05-01,1.00,CNY,Acme,1,memo\n"  # row 5: same id as row 2
            ",2024-05-01,-5,XYZ,Acme,1,memo\n"  # row 6: three problems at once
        ).encode()
    )

    response = import_statement(admin_client_, content)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was imported: 6 problems found." in html
    rows = re.findall(r'<li data-row="(\d+)">([^<]*)</li>', html)
    assert [row for row, _message in rows] == ["3", "4", "5", "6", "6", "6"]
    assert "Row 3: value_date" in html and "Row 4: amount" in html and "is also on row 2" in html
    assert "Row 6: bank_txn_id: required." in html and "Row 6: currency" in html
    assert not BankStatementLine.objects.exists()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_statement_without_the_required_columns_is_refused(admin_client_):
    response = import_statement(admin_client_, b"id,amount\n1,2.00\n")

    assert response.status_code == 200
    assert "The column “bank_txn_id” is missing." in response.content.decode()
    assert not BankStatementLine.objects.exists()


def test_admin_pages_list_filter_and_search(bank, admin_client_, started):
    payment, instruction = started
    bank.pays(memo=instruction.reference_code, amount="5000.00")
    line = BankStatementLine.objects.get()

    for url in (
        "/admin/payments/banktransferinstruction/?status__exact=partial",
        f"/admin/payments/banktransferinstruction/?q={payment.order.number}",
        f"/admin/payments/banktransferinstruction/{instruction.pk}/change/",
        "/admin/payments/bankstatementline/?source__exact=notification",
        f"/admin/payments/bankstatementline/?q={instruction.reference_code}",
        f"/admin/payments/bankstatementline/{line.pk}/change/",
        "/admin/payments/bankstatementline/import/",
    ):
        assert admin_client_.get(url).status_code == 200, url
    assert (
        instruction.reference_code
        in admin_client_.get(f"/admin/payments/banktransferinstruction/?q={payment.order.number}").content.decode()
    )
    assert (
        "/admin/payments/bankstatementline/import/"
        in admin_client_.get("/admin/payments/bankstatementline/").content.decode()
    )
    assert admin_client_.get("/admin/payments/bankstatementline/add/").status_code == 403


def test_staff_without_the_permission_cannot_import_or_match(bank, started):
    from marketplace.tests.factories import UserFactory

    clerk = UserFactory(email="clerk@example.com", is_staff=True)
    client = Client()
    client.force_login(clerk)
    bank.pays(memo="?", amount="1.00")
    line = BankStatementLine.objects.get()

    assert client.get("/admin/payments/bankstatementline/import/").status_code == 403
    assert client.post(f"/admin/payments/bankstatementline/{line.pk}/match/", {"reference": "x"}).status_code == 403


# --- Provider and configuration ---------------------------------------------------------------


def test_bank_transfer_cannot_be_enabled_without_payee_and_secret(settings):
    settings.BANK_TRANSFER_PAYEE_ACCOUNT = ""
    settings.BANK_TRANSFER_NOTIFY_SECRET = " "

    errors = [message for message in check_bank_transfer_settings(None) if message.level >= checks.ERROR]

    assert [error.id for error in errors] == ["payments.E020"]
    assert "BANK_TRANSFER_PAYEE_ACCOUNT" in errors[0].msg and "BANK_TRANSFER_NOTIFY_SECRET" in errors[0].msg
    settings.PAYMENT_PROVIDERS = ["sandbox"]
    assert check_bank_transfer_settings(None) == []


def test_bank_transfer_cannot_split_and_takes_its_fee_rate_from_settings(settings):
    settings.BANK_TRANSFER_FEE_RATE = Decimal("0.0010")

    capabilities = bank_provider.BankTransferProvider.capabilities

    assert (capabilities.can_refund, capabilities.can_split, capabilities.fee_rate) == (True, False, Decimal("0.0010"))


# --- Over real HTTP, all at once ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bank_notifying_over_http_ten_times_at_once_credits_once(live_server, buyer, shop_a):
    """The fake bank POSTs the same signed notification ten times at once to the live server."""
    client = Client()
    client.force_login(buyer)
    payment, instruction = start_bank_transfer(
        client, order_for(buyer=buyer, vendors=[shop_a], quantity=1, price="990.00")
    )

    def post_over_http(body: bytes, headers: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            live_server.url + WEBHOOK_URL,
            data=body,
            headers={**headers, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    bank = FakeBank(post=post_over_http)
    credit = bank.credit(memo=instruction.reference_code, amount="1000.00")
    barrier = threading.Barrier(10)
    answers: list[tuple[int, dict]] = []

    def deliver() -> None:
        try:
            barrier.wait()
            answers.append(bank.notify(credit))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _body in answers) == [200] * 10
    assert sorted(body["status"] for _status, body in answers) == ["duplicate"] * 9 + ["paid"]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert payment.amount_received == Decimal("1000.00")
    assert BankStatementLine.objects.count() == 1
    assert OrderEvent.objects.filter(order=payment.order, type="paid").count() == 1
