"""Speaking as the sandbox gateway in tests: open a payment, press its buttons, deliver its
signed notification (or a doctored one) through the real HTTP client."""

import json
import re
import time

from django.test import Client

from payments.models import Payment, SandboxCharge
from payments.providers import sandbox

WEBHOOK_URL = "/payments/webhooks/sandbox/"


def start_payment(client: Client, order) -> tuple[Payment, SandboxCharge]:
    """The buyer presses "Pay now" on /payments/start/<number>/ and lands on the hosted page."""
    response = client.post(f"/payments/start/{order.number}/", {"provider": "sandbox"})
    assert response.status_code == 302, response.content[:500]
    token = re.fullmatch(r"/payments/sandbox/([^/]+)/", response["Location"]).group(1)
    charge = SandboxCharge.objects.get(token=token)
    payment = Payment.objects.get(reference=charge.merchant_reference)
    return payment, charge


def press(client: Client, charge: SandboxCharge, action: str):
    """The buyer presses "Pay" or "Fail" on the gateway's hosted page."""
    response = client.post(f"/payments/sandbox/{charge.token}/", {"action": action})
    charge.refresh_from_db()
    return response


def deliver(client: Client, body: bytes, *, timestamp: int | None = None, signature: str | None = None):
    """POST a notification as the gateway does: raw JSON body, timestamp and HMAC headers."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={
            "X-Sandbox-Timestamp": str(timestamp),
            "X-Sandbox-Signature": signature if signature is not None else sandbox.sign(body, timestamp),
        },
    )


def body_for(charge: SandboxCharge, **changes) -> bytes:
    payload = sandbox.notification_payload(charge)
    payload.update(changes)
    return json.dumps(payload, separators=(",", ":")).encode()
