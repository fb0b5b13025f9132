"""A local fake of WeChat Pay API v3 with profit sharing (分账), for the wechatpay provider's tests.

A real HTTP server (ThreadingHTTPServer on 127.0.0.1, a free port) with state, speaking the
protocol as WeChat Pay documents it, with its own crypto (not the adapter's):
- every request must carry a valid `WECHATPAY2-SHA256-RSA2048` Authorization, checked with the
  merchant's public key (401 SIGN_ERROR otherwise); every answer is signed with the platform key;
- POST /v3/pay/transactions/native: a Native order (amount in fen), idempotent by out_trade_no;
- POST /v3/profitsharing/receivers/add: the receiver's name arrives RSA-OAEP encrypted;
- POST /v3/profitsharing/orders: idempotent by out_order_no; refuses receivers not added, more
  than 50 receivers or 50 requests per transaction, and more than the unsplit amount; PROCESSING
  until `process_pending()`;
- POST /v3/profitsharing/return-orders: at most what that receiver got from that split;
- POST /v3/profitsharing/orders/unfreeze: ends splitting; the rest goes back to the merchant;
- POST /v3/refund/domestic/refunds: at most what was paid less refunds, and only out of money
  the merchant still holds (split shares must be returned first).
Notifications (TRANSACTION.SUCCESS, PROFITSHARING.SUCCESS / .RETURN, REFUND.SUCCESS) are built
as WeChat Pay sends them: resource encrypted with AEAD_AES_256_GCM under the APIv3 key, body
signed with the platform key. They queue in `notifications` for the test to deliver.

Failures can be planned: `fail_after(path)` does the work and then answers 500 (a lost answer),
`fail_before(path)` answers 500 without doing anything.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHINA = timezone(timedelta(hours=8))
MAX_RECEIVERS = 50
MAX_SPLIT_REQUESTS = 50
AUTH_PATTERN = re.compile(r'(\w+)="([^"]*)"')


def _now() -> str:
    return datetime.now(CHINA).isoformat(timespec="seconds")


def _lines(*parts: str) -> bytes:
    return "".join(f"{part}\n" for part in parts).encode()


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Notice:
    """One notification as WeChat Pay would POST it."""

    url: str
    headers: dict[str, str]
    body: bytes
    event_type: str
    resource: dict


@dataclass
class FakeWeChatPay:
    mchid: str
    appid: str
    merchant_public_key: rsa.RSAPublicKey
    merchant_serial: str
    platform_private_key: rsa.RSAPrivateKey
    platform_serial: str
    apiv3_key: str
    # Where merchant-platform-configured profit-sharing notifications go.
    profitsharing_notify_url: str = ""
    transactions: dict[str, dict] = field(default_factory=dict)  # by out_trade_no
    receivers: dict[tuple[str, str], dict] = field(default_factory=dict)  # by (type, account)
    orders: dict[str, dict] = field(default_factory=dict)  # profit-sharing orders by out_order_no
    returns: dict[str, dict] = field(default_factory=dict)  # by out_return_no
    refunds: dict[str, dict] = field(default_factory=dict)  # by out_refund_no
    requests: list[dict] = field(default_factory=list)
    notifications: list[Notice] = field(default_factory=list)
    # Answer signing key; a test swaps it to play an impostor.
    answer_key: rsa.RSAPrivateKey | None = None
    _failures: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- Lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> FakeWeChatPay:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = fake._handle(self.command, self.path, dict(self.headers.items()), body)
                raw = json.dumps(answer, ensure_ascii=False).encode() if answer is not None else b""
                self.send_response(status)
                for name, value in fake._signed_headers(raw).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format, *args) -> None:  # noqa: A002 - silence the test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_after(self, path: str) -> None:
        """The next request to `path` is carried out, then answered 500 (the answer is lost)."""
        self._failures.append(("after", path))

    def fail_before(self, path: str) -> None:
        self._failures.append(("before", path))

    # --- Crypto, as WeChat Pay does it --------------------------------------------------------

    def _signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        timestamp_text = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16)
        key = self.answer_key or self.platform_private_key
        signature = key.sign(_lines(timestamp_text, nonce, body.decode()), padding.PKCS1v15(), hashes.SHA256())
        return {
            "Wechatpay-Timestamp": timestamp_text,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Request-ID": secrets.token_hex(12),
        }

    def _check_signature(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        authorization = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        schema, _, params = authorization.partition(" ")
        fields = dict(AUTH_PATTERN.findall(params))
        if schema != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != self.mchid:
            raise ApiError(401, "SIGN_ERROR", "Authorization schema or mchid is wrong")
        if fields.get("serial_no") != self.merchant_serial:
            raise ApiError(401, "SIGN_ERROR", "unknown merchant certificate serial")
        if abs(time.time() - int(fields.get("timestamp") or 0)) > 300:
            raise ApiError(401, "SIGN_ERROR", "timestamp out of range")
        message = _lines(method, path, fields["timestamp"], fields.get("nonce_str", ""), body.decode())
        try:
            self.merchant_public_key.verify(
                base64.b64decode(fields.get("signature", "")), message, padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            raise ApiError(401, "SIGN_ERROR", "signature verification failed") from None

    def notification(
        self,
        event_type: str,
        resource: dict,
        *,
        url: str,
        original_type: str,
        timestamp: int | None = None,
        event_id: str | None = None,
    ) -> Notice:
        nonce = secrets.token_hex(6)
        associated_data = original_type
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), associated_data.encode()
        )
        body = json.dumps(
            {
                "id": event_id or f"EV-{secrets.token_hex(10)}",
                "create_time": _now(),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": event_type,
                "resource": {
                    "original_type": original_type,
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "associated_data": associated_data,
                    "nonce": nonce,
                },
            },
            ensure_ascii=False,
        ).encode()
        headers = {**self._signed_headers(body, timestamp=timestamp), "Content-Type": "application/json"}
        return Notice(url=url, headers=headers, body=body, event_type=event_type, resource=resource)

    # --- What happens on WeChat Pay's side without the merchant asking --------------------------

    def pay(self, out_trade_no: str, *, openid: str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o") -> Notice:
        """The buyer scans the code and pays: the transaction succeeds and WeChat Pay notifies."""
        with self._lock:
            transaction = self.transactions[out_trade_no]
            transaction.update(
                trade_state="SUCCESS",
                transaction_id=transaction.get("transaction_id") or f"42000{secrets.randbelow(10**22):022d}",
                success_time=_now(),
                payer={"openid": openid},
            )
            resource = {
                "mchid": self.mchid,
                "appid": self.appid,
                "out_trade_no": out_trade_no,
                "transaction_id": transaction["transaction_id"],
                "trade_type": "NATIVE",
                "trade_state": "SUCCESS",
                "trade_state_desc": "支付成功",
                "bank_type": "OTHERS",
                "attach": "",
                "success_time": transaction["success_time"],
                "payer": transaction["payer"],
                "amount": {
                    "total": transaction["total"],
                    "payer_total": transaction["total"],
                    "currency": "CNY",
                    "payer_currency": "CNY",
                },
            }
            notice = self.notification(
                "TRANSACTION.SUCCESS", resource, url=transaction["notify_url"], original_type="transaction"
            )
            self.notifications.append(notice)
            return notice

    def process_pending(self) -> None:
        """WeChat Pay finishes what it accepted: splits, unfreezes and refunds, and notifies."""
        with self._lock:
            for order in self.orders.values():
                if order["state"] != "PROCESSING":
                    continue
                order["state"] = "FINISHED"
                for receiver in order["receivers"]:
                    receiver.update(result="SUCCESS", finish_time=_now())
                    if order["kind"] == "split" and self.profitsharing_notify_url:
                        self.notifications.append(self._profitsharing_notice("PROFITSHARING.SUCCESS", order, receiver))
            for refund in self.refunds.values():
                if refund["status"] == "PROCESSING":
                    refund.update(status="SUCCESS", success_time=_now())
                    self.notifications.append(
                        self.notification(
                            "REFUND.SUCCESS",
                            {
                                "mchid": self.mchid,
                                "out_trade_no": refund["out_trade_no"],
                                "transaction_id": refund["transaction_id"],
                                "out_refund_no": refund["out_refund_no"],
                                "refund_id": refund["refund_id"],
                                "refund_status": "SUCCESS",
                                "success_time": refund["success_time"],
                                "user_received_account": "支付用户零钱",
                                "amount": {
                                    "total": refund["amount"]["total"],
                                    "refund": refund["amount"]["refund"],
                                    "payer_total": refund["amount"]["total"],
                                    "payer_refund": refund["amount"]["refund"],
                                },
                            },
                            url=refund["notify_url"],
                            original_type="refund",
                        )
                    )

    def _profitsharing_notice(self, event_type: str, order: dict, receiver: dict) -> Notice:
        return self.notification(
            event_type,
            {
                "mchid": self.mchid,
                "transaction_id": order["transaction_id"],
                "order_id": order["order_id"],
                "out_order_no": order["out_order_no"],
                "receiver": {
                    "type": receiver["type"],
                    "account": receiver["account"],
                    "amount": receiver["amount"],
                    "description": receiver["description"],
                },
                "success_time": _now(),
            },
            url=self.profitsharing_notify_url,
            original_type="profitsharing",
        )

    # --- Balances ---------------------------------------------------------------------------

    def split_total(self, transaction_id: str) -> int:
        return sum(
            receiver["amount"]
            for order in self.orders.values()
            if order["kind"] == "split" and order["transaction_id"] == transaction_id
            for receiver in order["receivers"]
        )

    def returned_total(self, transaction_id: str) -> int:
        return sum(
            item["amount"]
            for item in self.returns.values()
            if item["result"] == "SUCCESS" and self.orders[item["out_order_no"]]["transaction_id"] == transaction_id
        )

    def refunded_total(self, transaction_id: str) -> int:
        return sum(
            item["amount"]["refund"]
            for item in self.refunds.values()
            if item["transaction_id"] == transaction_id and item["status"] in ("PROCESSING", "SUCCESS")
        )

    def unsplit(self, transaction: dict) -> int:
        """Money still frozen for splitting."""
        if transaction.get("unfrozen"):
            return 0
        return self.held(transaction)

    def held(self, transaction: dict) -> int:
        """Money on the merchant's side: paid, less refunds, less shares still with receivers."""
        transaction_id = transaction["transaction_id"]
        return (
            transaction["total"]
            - self.refunded_total(transaction_id)
            - (self.split_total(transaction_id) - self.returned_total(transaction_id))
        )

    def _paid_transaction(self, transaction_id: str) -> dict:
        for transaction in self.transactions.values():
            if transaction.get("transaction_id") == transaction_id and transaction["trade_state"] == "SUCCESS":
                return transaction
        raise ApiError(404, "RESOURCE_NOT_EXISTS", "订单不存在")

    # --- The API --------------------------------------------------------------------------------

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict | None]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            planned = next((f for f in self._failures if f[1] == path), None)
            if planned:
                self._failures.remove(planned)
            try:
                if planned and planned[0] == "before":
                    raise ApiError(500, "SYSTEM_ERROR", "系统错误")
                self._check_signature(method, path, headers, body)
                payload = json.loads(body)
                handler = {
                    "/v3/pay/transactions/native": self._native,
                    "/v3/profitsharing/receivers/add": self._receiver_add,
                    "/v3/profitsharing/orders": self._split,
                    "/v3/profitsharing/return-orders": self._return,
                    "/v3/profitsharing/orders/unfreeze": self._unfreeze,
                    "/v3/refund/domestic/refunds": self._refund,
                }.get(path)
                if handler is None:
                    raise ApiError(404, "NOT_FOUND", "no such API")
                answer = handler(payload, headers)
            except ApiError as error:
                return error.status, {"code": error.code, "message": error.message}
            except (ValueError, KeyError, TypeError) as exc:
                return 400, {"code": "PARAM_ERROR", "message": f"bad request: {exc}"}
            if planned and planned[0] == "after":
                return 500, {"code": "SYSTEM_ERROR", "message": "系统错误"}
            return 200, answer

    def _native(self, payload: dict, headers: dict) -> dict:
        if payload["mchid"] != self.mchid or payload["appid"] != self.appid:
            raise ApiError(400, "PARAM_ERROR", "mchid/appid mismatch")
        amount = payload["amount"]
        if not isinstance(amount["total"], int) or amount["total"] < 1 or amount.get("currency", "CNY") != "CNY":
            raise ApiError(400, "PARAM_ERROR", "amount.total must be a positive integer of fen")
        out_trade_no = payload["out_trade_no"]
        known = self.transactions.get(out_trade_no)
        if known is not None:
            if known["total"] != amount["total"]:
                raise ApiError(400, "OUT_TRADE_NO_USED", "商户订单号重复")
            if known["trade_state"] == "SUCCESS":
                raise ApiError(400, "ORDERPAID", "该订单已支付")
            return {"code_url": known["code_url"]}
        self.transactions[out_trade_no] = {
            "out_trade_no": out_trade_no,
            "total": amount["total"],
            "trade_state": "NOTPAY",
            "notify_url": payload["notify_url"],
            "profit_sharing": bool(payload.get("settle_info", {}).get("profit_sharing")),
            "code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}",
            "split_requests": 0,
        }
        return {"code_url": self.transactions[out_trade_no]["code_url"]}

    def _receiver_add(self, payload: dict, headers: dict) -> dict:
        if payload["appid"] != self.appid:
            raise ApiError(400, "PARAM_ERROR", "appid mismatch")
        kind, account = payload["type"], payload["account"]
        if kind not in ("MERCHANT_ID", "PERSONAL_OPENID") or not payload.get("relation_type"):
            raise ApiError(400, "PARAM_ERROR", "type and relation_type are required")
        if kind == "MERCHANT_ID" and account == self.mchid:
            raise ApiError(400, "INVALID_REQUEST", "分账接收方不能是分账方自己")
        name = ""
        if payload.get("name"):
            if {k.lower(): v for k, v in headers.items()}.get("wechatpay-serial") != self.platform_serial:
                raise ApiError(400, "PARAM_ERROR", "Wechatpay-Serial must name the platform key")
            name = self.platform_private_key.decrypt(
                base64.b64decode(payload["name"]),
                padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
            ).decode()
        if kind == "MERCHANT_ID" and not name:
            raise ApiError(400, "PARAM_ERROR", "商户类型的接收方必须填写 name")
        self.receivers[(kind, account)] = {**payload, "name": name}
        return {"type": kind, "account": account, "relation_type": payload["relation_type"]}

    def _split(self, payload: dict, headers: dict) -> dict:
        out_order_no = payload["out_order_no"]
        known = self.orders.get(out_order_no)
        if known is not None:
            if known["request"] != payload:
                raise ApiError(400, "INVALID_REQUEST", "商户分账单号重复，请求参数不一致")
            return self._order_answer(known)
        transaction = self._paid_transaction(payload["transaction_id"])
        if not transaction["profit_sharing"]:
            raise ApiError(400, "INVALID_REQUEST", "该笔订单不支持分账")
        if transaction.get("unfrozen"):
            raise ApiError(400, "INVALID_REQUEST", "订单已完成分账")
        receivers = payload["receivers"]
        if not 1 <= len(receivers) <= MAX_RECEIVERS:
            raise ApiError(400, "PARAM_ERROR", f"接收方数量须在1到{MAX_RECEIVERS}之间")
        if transaction["split_requests"] >= MAX_SPLIT_REQUESTS:
            raise ApiError(400, "INVALID_REQUEST", "分账次数已达上限")
        for receiver in receivers:
            if (receiver["type"], receiver["account"]) not in self.receivers:
                raise ApiError(400, "INVALID_REQUEST", f"分账接收方 {receiver['account']} 未添加")
            if not isinstance(receiver["amount"], int) or receiver["amount"] < 1 or not receiver["description"]:
                raise ApiError(400, "PARAM_ERROR", "amount must be a positive integer of fen, with a description")
        total = sum(receiver["amount"] for receiver in receivers)
        if total > self.unsplit(transaction):
            raise ApiError(403, "NOT_ENOUGH", "分账金额超过订单剩余待分金额")
        transaction["split_requests"] += 1
        order = {
            "kind": "split",
            "request": payload,
            "transaction_id": payload["transaction_id"],
            "out_order_no": out_order_no,
            "order_id": f"3008{secrets.randbelow(10**24):024d}",
            "state": "PROCESSING",
            "receivers": [
                {
                    "type": r["type"],
                    "account": r["account"],
                    "amount": r["amount"],
                    "description": r["description"],
                    "result": "PENDING",
                    "fail_reason": "",
                    "detail_id": f"3601{secrets.randbelow(10**24):024d}",
                    "create_time": _now(),
                    "finish_time": "",
                }
                for r in receivers
            ],
        }
        if payload.get("unfreeze_unsplit"):
            transaction["unfrozen"] = True
        self.orders[out_order_no] = order
        return self._order_answer(order)

    def _order_answer(self, order: dict) -> dict:
        return {
            "transaction_id": order["transaction_id"],
            "out_order_no": order["out_order_no"],
            "order_id": order["order_id"],
            "state": order["state"],
            "receivers": [dict(receiver) for receiver in order["receivers"]],
        }

    def _return(self, payload: dict, headers: dict) -> dict:
        out_return_no = payload["out_return_no"]
        known = self.returns.get(out_return_no)
        if known is not None:
            if known["request"] != payload:
                raise ApiError(400, "INVALID_REQUEST", "商户回退单号重复，请求参数不一致")
            return self._return_answer(known)
        order = self.orders.get(payload.get("out_order_no", ""))
        if order is None or order["kind"] != "split":
            raise ApiError(404, "RESOURCE_NOT_EXISTS", "分账单不存在")
        amount = payload["amount"]
        if not isinstance(amount, int) or amount < 1:
            raise ApiError(400, "PARAM_ERROR", "amount must be a positive integer of fen")
        got = sum(
            r["amount"]
            for r in order["receivers"]
            if r["type"] == "MERCHANT_ID" and r["account"] == payload["return_mchid"] and r["result"] == "SUCCESS"
        )
        already = sum(
            item["amount"]
            for item in self.returns.values()
            if item["out_order_no"] == order["out_order_no"]
            and item["return_mchid"] == payload["return_mchid"]
            and item["result"] == "SUCCESS"
        )
        if amount > got - already:
            raise ApiError(403, "NOT_ENOUGH", "回退金额超过接收方从该分账单获得的可回退金额")
        item = {
            "request": payload,
            "order_id": order["order_id"],
            "out_order_no": order["out_order_no"],
            "out_return_no": out_return_no,
            "return_id": f"3008{secrets.randbelow(10**24):024d}",
            "return_mchid": payload["return_mchid"],
            "amount": amount,
            "description": payload["description"],
            "result": "SUCCESS",
            "fail_reason": "",
            "create_time": _now(),
            "finish_time": _now(),
        }
        self.returns[out_return_no] = item
        if self.profitsharing_notify_url:
            self.notifications.append(
                self._profitsharing_notice(
                    "PROFITSHARING.RETURN",
                    {**order, "order_id": item["return_id"], "out_order_no": out_return_no},
                    {"type": "MERCHANT_ID", "account": item["return_mchid"], "amount": amount, "description": ""},
                )
            )
        return self._return_answer(item)

    def _return_answer(self, item: dict) -> dict:
        return {key: value for key, value in item.items() if key != "request"}

    def _unfreeze(self, payload: dict, headers: dict) -> dict:
        out_order_no = payload["out_order_no"]
        known = self.orders.get(out_order_no)
        if known is not None:
            if known["request"] != payload:
                raise ApiError(400, "INVALID_REQUEST", "商户分账单号重复，请求参数不一致")
            return self._order_answer(known)
        transaction = self._paid_transaction(payload["transaction_id"])
        if transaction.get("unfrozen"):
            raise ApiError(400, "INVALID_REQUEST", "订单已完成分账，无需解冻")
        rest = self.unsplit(transaction)
        transaction["unfrozen"] = True
        order = {
            "kind": "unfreeze",
            "request": payload,
            "transaction_id": payload["transaction_id"],
            "out_order_no": out_order_no,
            "order_id": f"3008{secrets.randbelow(10**24):024d}",
            "state": "PROCESSING",
            "receivers": [
                {
                    "type": "MERCHANT_ID",
                    "account": self.mchid,
                    "amount": rest,
                    "description": "解冻给分账方",
                    "result": "PENDING",
                    "fail_reason": "",
                    "create_time": _now(),
                    "finish_time": "",
                }
            ],
        }
        self.orders[out_order_no] = order
        return self._order_answer(order)

    def _refund(self, payload: dict, headers: dict) -> dict:
        out_refund_no = payload["out_refund_no"]
        known = self.refunds.get(out_refund_no)
        if known is not None:
            if known["request"] != payload:
                raise ApiError(400, "INVALID_REQUEST", "商户退款单号重复，请求参数不一致")
            return self._refund_answer(known)
        transaction = self._paid_transaction(payload["transaction_id"])
        amount = payload["amount"]
        if amount["total"] != transaction["total"] or amount.get("currency") != "CNY":
            raise ApiError(400, "PARAM_ERROR", "订单金额与原订单不一致")
        if not isinstance(amount["refund"], int) or amount["refund"] < 1:
            raise ApiError(400, "PARAM_ERROR", "refund must be a positive integer of fen")
        if amount["refund"] > transaction["total"] - self.refunded_total(transaction["transaction_id"]):
            raise ApiError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        if amount["refund"] > self.held(transaction):
            raise ApiError(403, "NOT_ENOUGH", "可用余额不足：请先分账回退")
        refund = {
            "request": payload,
            "out_refund_no": out_refund_no,
            "refund_id": f"50300{secrets.randbelow(10**24):024d}",
            "transaction_id": transaction["transaction_id"],
            "out_trade_no": transaction["out_trade_no"],
            "notify_url": payload.get("notify_url", ""),
            "status": "PROCESSING",
            "amount": {"refund": amount["refund"], "total": amount["total"], "currency": "CNY"},
            "create_time": _now(),
        }
        self.refunds[out_refund_no] = refund
        return self._refund_answer(refund)

    def _refund_answer(self, refund: dict) -> dict:
        return {
            "refund_id": refund["refund_id"],
            "out_refund_no": refund["out_refund_no"],
            "transaction_id": refund["transaction_id"],
            "out_trade_no": refund["out_trade_no"],
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": refund["create_time"],
            "status": refund["status"],
            "amount": {
                "total": refund["amount"]["total"],
                "refund": refund["amount"]["refund"],
                "payer_total": refund["amount"]["total"],
                "payer_refund": refund["amount"]["refund"],
                "currency": "CNY",
            },
        }
