"""A local fake of the PayPal REST API, for the PayPal provider's tests.

A real HTTP server (ThreadingHTTPServer on 127.0.0.1, a free port) implementing the endpoints the
provider uses, with state, as PayPal documents them:
- POST /v1/oauth2/token (client credentials, HTTP Basic) and Bearer checks on every other call;
- POST /v2/checkout/orders, GET /v2/checkout/orders/{id}, POST /v2/checkout/orders/{id}/capture;
- POST /v2/payments/captures/{id}/refund;
- GET /v1/reporting/transactions (Transaction Search);
- POST /v1/notifications/verify-webhook-signature: SUCCESS only for a webhook this fake signed
  (`webhook()`), with the same event, transmission headers and webhook id;
- GET /checkoutnow?token=...&action=approve|cancel: the buyer's approval page (or `approve()`).

POSTs are idempotent by PayPal-Request-Id: the same id gets the first answer again and changes
nothing. Failures can be planned: `fail_next(path, status, times)` answers an error before
doing anything, `stall_next(path, seconds)` does the work and then answers late (a lost answer),
`capture_outcome` makes the next captures DECLINED, PENDING or refused (422 INSTRUMENT_DECLINED).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

SIGNING_SECRET = b"fake-paypal-signing-key"
CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-fake"
AUTH_ALGO = "SHA256withRSA"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str = "") -> str:
    return prefix + secrets.token_hex(9).upper()[:17]


@dataclass
class PlannedFailure:
    path: str
    status: int = 500
    times: int = 1
    stall_seconds: float = 0.0  # > 0: do the work, then answer this late


@dataclass
class FakePayPal:
    client_id: str
    client_secret: str
    webhook_id: str
    token_ttl: int = 32400
    capture_outcome: str = "COMPLETED"  # or "DECLINED", "PENDING", "INSTRUMENT_DECLINED"
    refund_outcome: str = "COMPLETED"  # or "PENDING" (completed later by `complete_refund`)
    orders: dict[str, dict] = field(default_factory=dict)
    captures: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    sent_webhooks: dict[str, dict] = field(default_factory=dict)
    _idempotent: dict[tuple[str, str], tuple[int, dict]] = field(default_factory=dict)
    _failures: list[PlannedFailure] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # --- Lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakePayPal:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's names
                fake._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self, "POST")

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet in tests
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- What tests do as PayPal, the buyer or the operator -----------------------------------

    def fail_next(self, path: str, *, status: int = 500, times: int = 1) -> None:
        with self._lock:
            self._failures.append(PlannedFailure(path=path, status=status, times=times))

    def stall_next(self, path: str, *, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._failures.append(PlannedFailure(path=path, times=times, stall_seconds=seconds))

    def approve(self, order_id: str) -> str:
        """The buyer logs in at PayPal and approves: returns where PayPal sends them back."""
        with self._lock:
            order = self.orders[order_id]
            if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
                order["status"] = "APPROVED"
                order["payer"] = {"payer_id": "BUYER" + order_id[:8], "email_address": "buyer@example.net"}
            context = order["_experience"]
            return (
                context["return_url"]
                + ("&" if "?" in context["return_url"] else "?")
                + urlencode({"token": order_id, "PayerID": order["payer"]["payer_id"]})
            )

    def cancel(self, order_id: str) -> str:
        """The buyer presses 'Cancel and return to the merchant'."""
        with self._lock:
            cancel_url = self.orders[order_id]["_experience"]["cancel_url"]
        return cancel_url + ("&" if "?" in cancel_url else "?") + urlencode({"token": order_id})

    def complete_capture(self, capture_id: str, status: str = "COMPLETED") -> None:
        """A PENDING capture clears (or is denied) at PayPal."""
        with self._lock:
            self.captures[capture_id]["status"] = status

    def complete_refund(self, refund_id: str) -> dict:
        """A PENDING refund goes through at PayPal; returns the refund, as its webhook carries it."""
        with self._lock:
            self.refunds[refund_id]["status"] = "COMPLETED"
            return json.loads(json.dumps(self.refunds[refund_id]))

    def order_for(self, reference: str) -> dict:
        with self._lock:
            return next(order for order in self.orders.values() if order["purchase_units"][0]["custom_id"] == reference)

    def count(self, method: str, path_fragment: str) -> int:
        with self._lock:
            return sum(1 for m, path, _h in self.requests if m == method and path_fragment in path)

    def webhook(self, event_type: str, resource: dict, *, event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """A webhook as PayPal sends it: the JSON body and the transmission headers. Its signature
        covers transmission id, time, webhook id and the CRC32 of the body (as PayPal's does)."""
        resource_type = "refund" if event_type.endswith("REFUNDED") else "capture"
        event = {
            "id": event_id or _id("WH-"),
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": f"{event_type} event",
            "resource": {key: value for key, value in resource.items() if not key.startswith("_")},
        }
        body = json.dumps(event).encode()
        transmission_id = secrets.token_hex(16)
        transmission_time = _now()
        headers = {
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "PAYPAL-CERT-URL": CERT_URL,
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": self._sign(transmission_id, transmission_time, body),
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
        }
        with self._lock:
            self.sent_webhooks[transmission_id] = {"event": event, "time": transmission_time}
        return body, headers

    def _sign(self, transmission_id: str, transmission_time: str, body: bytes) -> str:
        message = f"{transmission_id}|{transmission_time}|{self.webhook_id}|{zlib.crc32(body)}".encode()
        return base64.b64encode(hmac.new(SIGNING_SECRET, message, hashlib.sha256).digest()).decode()

    # --- The HTTP side ------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in handler.headers.items()}
        with self._lock:
            self.requests.append((method, url.path, headers))
            planned = next((f for f in self._failures if f.path in url.path and f.times > 0), None)
            if planned is not None:
                planned.times -= 1
        if planned is not None and not planned.stall_seconds:
            return self._send(handler, planned.status, {"name": "INTERNAL_SERVER_ERROR", "message": "planned"})
        if method == "GET" and url.path == "/checkoutnow":
            return self._checkout_page(handler, parse_qs(url.query))
        if url.path == "/v1/oauth2/token":
            status, body = self._token(headers, parse_qs(raw.decode()))
        elif not self._authorised(headers):
            status, body = 401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
        else:
            status, body = self._route(method, url.path, parse_qs(url.query), headers, raw)
        if planned is not None:
            time.sleep(planned.stall_seconds)  # the work is done; the answer comes too late
        self._send(handler, status, body)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict, location: str | None = None) -> None:
        payload = json.dumps(body).encode()
        try:
            handler.send_response(status)
            if location:
                handler.send_header("Location", location)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("Paypal-Debug-Id", secrets.token_hex(6))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a stalled answer)

    def _checkout_page(self, handler: BaseHTTPRequestHandler, query: dict) -> None:
        order_id = query.get("token", [""])[0]
        if order_id not in self.orders:
            return self._send(handler, 404, {"name": "RESOURCE_NOT_FOUND"})
        action = query.get("action", ["approve"])[0]
        location = self.approve(order_id) if action == "approve" else self.cancel(order_id)
        self._send(handler, 302, {}, location=location)

    def _token(self, headers: dict, form: dict) -> tuple[int, dict]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}" or form.get("grant_type") != ["client_credentials"]:
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = "A21AA" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.time() + self.token_ttl
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": self.token_ttl,
            "nonce": _now() + secrets.token_hex(8),
        }

    def _authorised(self, headers: dict) -> bool:
        token = headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            return self.tokens.get(token, 0) > time.time()

    def _route(self, method: str, path: str, query: dict, headers: dict, raw: bytes) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        body = json.loads(raw) if raw else {}
        request_id = headers.get("paypal-request-id", "")
        with self._lock:
            if method == "POST" and request_id and (path, request_id) in self._idempotent:
                status, answer = self._idempotent[(path, request_id)]
                return (200 if status == 201 else status), answer
            if method == "POST" and path == "/v2/checkout/orders":
                result = self._create_order(body)
            elif method == "GET" and parts[:3] == ["v2", "checkout", "orders"] and len(parts) == 4:
                result = self._show_order(parts[3])
            elif method == "POST" and parts[:3] == ["v2", "checkout", "orders"] and parts[4:] == ["capture"]:
                result = self._capture(parts[3])
            elif method == "POST" and parts[:3] == ["v2", "payments", "captures"] and parts[4:] == ["refund"]:
                result = self._refund(parts[3], body)
            elif method == "GET" and path == "/v1/reporting/transactions":
                result = self._transactions(query)
            elif method == "POST" and path == "/v1/notifications/verify-webhook-signature":
                return 200, self._verify(body)
            else:
                return 404, {"name": "RESOURCE_NOT_FOUND", "message": f"{method} {path}"}
            if method == "POST" and request_id and result[0] < 500:
                self._idempotent[(path, request_id)] = result
            return result

    def _error(self, status: int, name: str, issue: str) -> tuple[int, dict]:
        return status, {
            "name": name,
            "message": "The requested action could not be performed.",
            "debug_id": secrets.token_hex(6),
            "details": [{"issue": issue, "description": issue.replace("_", " ").lower()}],
        }

    def _create_order(self, body: dict) -> tuple[int, dict]:
        units = body.get("purchase_units") or []
        experience = (body.get("payment_source") or {}).get("paypal", {}).get("experience_context", {})
        if body.get("intent") != "CAPTURE" or len(units) != 1 or not units[0].get("amount", {}).get("value"):
            return self._error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER")
        if not experience.get("return_url") or not experience.get("cancel_url"):
            return self._error(422, "UNPROCESSABLE_ENTITY", "MISSING_RETURN_URL")
        order_id = _id()
        order = {
            "id": order_id,
            "intent": "CAPTURE",
            "status": "PAYER_ACTION_REQUIRED",
            "purchase_units": [{**units[0], "reference_id": units[0].get("reference_id", "default")}],
            "create_time": _now(),
            "_experience": experience,
        }
        self.orders[order_id] = order
        return 201, self._public_order(order)

    def _show_order(self, order_id: str) -> tuple[int, dict]:
        if order_id not in self.orders:
            return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        return 200, self._public_order(self.orders[order_id])

    def _public_order(self, order: dict) -> dict:
        public = {key: value for key, value in order.items() if not key.startswith("_")}
        links = [{"href": f"{self.base_url}/v2/checkout/orders/{order['id']}", "rel": "self", "method": "GET"}]
        if order["status"] == "PAYER_ACTION_REQUIRED":
            links.append(
                {"href": f"{self.base_url}/checkoutnow?token={order['id']}", "rel": "payer-action", "method": "GET"}
            )
        public["links"] = links
        return json.loads(json.dumps(public))

    def _capture(self, order_id: str) -> tuple[int, dict]:
        order = self.orders.get(order_id)
        if order is None:
            return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if order["status"] == "COMPLETED":
            return self._error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            return self._error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        if self.capture_outcome == "INSTRUMENT_DECLINED":
            return self._error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED")
        unit = order["purchase_units"][0]
        gross = Decimal(unit["amount"]["value"])
        fee = (gross * Decimal("0.0349") + Decimal("0.49")).quantize(Decimal("0.01"))
        currency = unit["amount"]["currency_code"]
        capture_id = _id("CAP")
        capture = {
            "id": capture_id,
            "status": self.capture_outcome,
            "amount": dict(unit["amount"]),
            "final_capture": True,
            "custom_id": unit.get("custom_id"),
            "invoice_id": unit.get("invoice_id"),
            "seller_receivable_breakdown": {
                "gross_amount": dict(unit["amount"]),
                "paypal_fee": {"currency_code": currency, "value": str(fee)},
                "net_amount": {"currency_code": currency, "value": str(gross - fee)},
            },
            "supplementary_data": {"related_ids": {"order_id": order_id}},
            "create_time": _now(),
            "update_time": _now(),
            "_order_id": order_id,
            "_refunded": "0",
        }
        self.captures[capture_id] = capture
        order["status"] = "COMPLETED"
        unit["payments"] = {"captures": [capture]}
        return 201, self._public_order(order)

    def _refund(self, capture_id: str, body: dict) -> tuple[int, dict]:
        capture = self.captures.get(capture_id)
        if capture is None:
            return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            return self._error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
        remaining = Decimal(capture["amount"]["value"]) - Decimal(capture["_refunded"])
        amount = body.get("amount") or {"currency_code": capture["amount"]["currency_code"], "value": str(remaining)}
        if amount["currency_code"] != capture["amount"]["currency_code"]:
            return self._error(422, "UNPROCESSABLE_ENTITY", "REFUND_CURRENCY_MISMATCH")
        if Decimal(amount["value"]) > remaining:
            return self._error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        refunded = Decimal(capture["_refunded"]) + Decimal(amount["value"])
        capture["_refunded"] = str(refunded)
        capture["status"] = "REFUNDED" if refunded == Decimal(capture["amount"]["value"]) else "PARTIALLY_REFUNDED"
        refund = {
            "id": _id("REF"),
            "status": self.refund_outcome,
            "amount": amount,
            "invoice_id": body.get("invoice_id"),
            "custom_id": body.get("custom_id"),
            "note_to_payer": body.get("note_to_payer"),
            "create_time": _now(),
            "links": [{"href": f"{self.base_url}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"}],
            "_capture_id": capture_id,
        }
        self.refunds[refund["id"]] = refund
        return 201, {key: value for key, value in refund.items() if not key.startswith("_")}

    def _transactions(self, query: dict) -> tuple[int, dict]:
        rows = []
        for capture in self.captures.values():
            if capture["status"] in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
                rows.append(self._transaction(capture, "T0006", capture["amount"], capture["invoice_id"]))
        for refund in self.refunds.values():
            negative = {**refund["amount"], "value": "-" + refund["amount"]["value"]}
            rows.append(self._transaction(refund, "T1107", negative, refund["invoice_id"]))
        page_size = int(query.get("page_size", ["100"])[0])
        page = int(query.get("page", ["1"])[0])
        pages = max(1, -(-len(rows) // page_size))
        return 200, {
            "transaction_details": rows[(page - 1) * page_size : page * page_size],
            "account_number": "FAKEMERCHANT1",
            "start_date": query.get("start_date", [""])[0],
            "end_date": query.get("end_date", [""])[0],
            "last_refreshed_datetime": _now(),
            "page": page,
            "total_items": len(rows),
            "total_pages": pages,
        }

    @staticmethod
    def _transaction(resource: dict, code: str, amount: dict, invoice_id: str | None) -> dict:
        return {
            "transaction_info": {
                "transaction_id": resource["id"],
                "transaction_event_code": code,
                "transaction_initiation_date": resource["create_time"],
                "transaction_amount": amount,
                "transaction_status": "S",
                "invoice_id": invoice_id,
                "custom_field": resource.get("custom_id"),
            }
        }

    def _verify(self, body: dict) -> dict:
        sent = self.sent_webhooks.get(str(body.get("transmission_id", "")))
        genuine = (
            sent is not None
            and body.get("webhook_id") == self.webhook_id
            and body.get("auth_algo") == AUTH_ALGO
            and body.get("cert_url") == CERT_URL
            and body.get("transmission_time") == sent["time"]
            and body.get("webhook_event") == sent["event"]
            and hmac.compare_digest(
                str(body.get("transmission_sig", "")),
                self._sign(body["transmission_id"], sent["time"], json.dumps(sent["event"]).encode()),
            )
        )
        return {"verification_status": "SUCCESS" if genuine else "FAILURE"}
