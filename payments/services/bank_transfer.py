"""Bank transfers: the instruction the buyer pays against, and the credits that pay it.

A credit on the provider's collection account arrives as a signed bank notification or as a
line of an imported statement (CSV). Either way it becomes one BankStatementLine per bank
transaction id (a replay or a re-import changes nothing), matched to an instruction by the
reference code found in its memo, or later by an admin. Credits add up on the instruction:

| instruction before    | credits so far vs. amount due | effect                                      |
|-----------------------|-------------------------------|---------------------------------------------|
| awaiting / partial    | below                         | partial: nothing captured, page shows rest  |
| awaiting / partial    | equal                         | paid: the payment is captured               |
| awaiting / partial    | above                         | overpaid: captured, excess refunded         |
| paid / overpaid       | (anything more)               | overpaid: the whole credit is refunded      |
| expired, nothing yet  | equal or above                | captured late: payment_capture decides; an  |
|                       |                               | order already cancelled flags needs_refund  |
| expired, otherwise    | (anything)                    | the credit is refunded                      |

Money that no capture takes (an excess, a part-payment of an expired instruction) is owed back
to the buyer through payments.services.refunds.payment_refund_excess, i.e. an outgoing transfer
ordered through the provider-call outbox. Part-payments of an open instruction are not in the
ledger yet: until the instruction is paid or expires they are visible on the instruction only.

Lock order: the instruction row (select_for_update), then what payment_capture locks (the
order, then the payment). Every credit on one instruction queues on its row, so two credits,
a manual match and the expiry job never interleave.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from catalog.services.csv_import import ImportFailed, RowError
from marketplace.errors import InvalidTransition, NotFound, PaymentError
from marketplace.models import User
from marketplace.money import MINOR_UNITS, InvalidAmount, parse_amount
from marketplace.services import audit_record
from orders.services.checkout import order_payment_deadline_extend
from payments.models import BankStatementLine, BankTransferInstruction, Payment, WebhookEvent
from payments.providers import bank_transfer as bank
from payments.providers.base import Notification
from payments.services.collection import payment_capture

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
Status = BankTransferInstruction.Status
OPEN = [Status.AWAITING, Status.PARTIAL]
REFERENCE_ATTEMPTS = 5


class CreditOutcome:
    """What one credit did (the webhook answers it; the import counts it)."""

    DUPLICATE = "duplicate"  # this bank transaction was recorded before: nothing changed
    UNMATCHED = "unmatched"  # no instruction named by the memo: left for an admin
    PARTIAL = "partial"
    PAID = "paid"
    OVERPAID = "overpaid"
    REFUNDED = "refund_owed"  # arrived too late: owed back to the payer


@dataclass(frozen=True)
class CreditResult:
    line: BankStatementLine
    outcome: str
    payment: Payment | None = None


@dataclass(frozen=True)
class _Effect:
    status: str
    capture: bool
    refund: Decimal  # owed back to the payer out of this credit


def _credit_effect(*, status: str, received_before: Decimal, credit: Decimal, due: Decimal) -> _Effect:
    """The table in the module docstring, in one place."""
    total = received_before + credit
    if status in (Status.PAID, Status.OVERPAID):
        return _Effect(Status.OVERPAID, capture=False, refund=credit)
    if status == Status.EXPIRED and (received_before > 0 or total < due):
        # What came before was sent back when it expired; a late part cannot pay the order.
        return _Effect(Status.EXPIRED, capture=False, refund=credit)
    if total < due:
        return _Effect(Status.PARTIAL, capture=False, refund=ZERO)
    if total == due:
        return _Effect(Status.PAID, capture=True, refund=ZERO)
    return _Effect(Status.OVERPAID, capture=True, refund=total - due)


# --- Opening an instruction -------------------------------------------------------------


def bank_transfer_instruction_open(*, payment: Payment) -> BankTransferInstruction:
    """The buyer chose bank transfer: the provider's payee account, the exact amount and a new
    reference code, valid BANK_TRANSFER_DAYS days. The order is kept open (and its stock
    reserved) as long, since a company transfer takes days, not ORDER_PAYMENT_TIMEOUT_MINUTES.
    One transaction: an order the expiry sweep cancelled meanwhile gets no instruction."""
    order = payment.order
    expires_at = timezone.now() + timedelta(days=settings.BANK_TRANSFER_DAYS)
    with transaction.atomic():
        if not order_payment_deadline_extend(
            order=order, until=expires_at, reason=f"bank transfer {payment.reference}"
        ):
            raise PaymentError(gettext("This order has expired and can no longer be paid. Please place it again."))
        for attempt in range(REFERENCE_ATTEMPTS):
            try:
                with transaction.atomic():
                    instruction = BankTransferInstruction.objects.create(
                        payment=payment,
                        reference_code=bank.reference_code_generate(),
                        payee_name=settings.BANK_TRANSFER_PAYEE_NAME,
                        payee_account=settings.BANK_TRANSFER_PAYEE_ACCOUNT,
                        payee_bank=settings.BANK_TRANSFER_PAYEE_BANK,
                        amount_due=payment.amount,
                        currency=payment.currency,
                        expires_at=expires_at,
                    )
                break
            except IntegrityError:  # 40 random bits: a clash is rare, another draw fixes it
                if attempt == REFERENCE_ATTEMPTS - 1:
                    raise
        audit_record(
            actor=order.buyer,
            action="bank_transfer.instruction_opened",
            obj=instruction,
            data={
                "payment": payment.reference,
                "reference_code": instruction.reference_code,
                "amount": str(instruction.amount_due),
                "expires_at": expires_at.isoformat(),
            },
        )
    return instruction


def bank_transfer_instruction_find(*, reference: str) -> BankTransferInstruction:
    """The instruction whose code a person typed (case, spaces and dashes do not matter)."""
    code = bank.reference_code_normalise(reference)
    if code is None:
        raise PaymentError(gettext("This is not a valid transfer reference (check for a typo)."))
    instruction = BankTransferInstruction.objects.filter(reference_code=code).select_related("payment").first()
    if instruction is None:
        raise NotFound(gettext("No bank transfer has the reference %(code)s.") % {"code": code})
    return instruction


# --- Credits ------------------------------------------------------------------------------


def bank_notification_receive(*, provider_code: str, notification: Notification) -> str:
    """A verified credit notification from the bank (payments.services.collection.webhook_receive
    hands it here). Stored once per notify_id in the same transaction as its effect, and the
    credit once per bank transaction id: the same credit notified ten times counts once."""
    payload = notification.payload
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider_code,
                    event_id=notification.event_id,
                    event_type=notification.event_type,
                    payload=payload,
                )
        except IntegrityError:
            return CreditOutcome.DUPLICATE
        result = bank_credit_record(
            bank_reference=notification.provider_reference,
            source=BankStatementLine.Source.NOTIFICATION,
            value_date=date.fromisoformat(str(payload["value_date"])),
            amount=notification.amount,
            currency=notification.currency,
            payer_name=str(payload.get("payer_name", "")).strip(),
            payer_account=str(payload.get("payer_account", "")).strip(),
            memo=notification.payment_reference,
            actor=None,
        )
        WebhookEvent.objects.filter(pk=event.pk).update(outcome=result.outcome, payment=result.payment)
    return result.outcome


def bank_credit_record(
    *,
    bank_reference: str,
    source: str,
    value_date: date,
    amount: Decimal,
    currency: str,
    payer_name: str = "",
    payer_account: str = "",
    memo: str = "",
    actor: User | None = None,
) -> CreditResult:
    """Records one credit on the collection account and applies it to the instruction its memo
    names. Idempotent per bank transaction id (unique): a credit already known returns
    DUPLICATE and changes nothing, even when two deliveries race (the second insert waits on
    the unique index, then fails). A memo naming no instruction, or several, leaves the line
    UNMATCHED for an admin."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                line = BankStatementLine.objects.create(
                    bank_reference=bank_reference,
                    source=source,
                    value_date=value_date,
                    amount=amount,
                    currency=currency,
                    payer_name=payer_name[:200],
                    payer_account=payer_account[:64],
                    memo=memo[:300],
                )
        except IntegrityError:
            known = BankStatementLine.objects.select_related("instruction__payment").get(bank_reference=bank_reference)
            payment = known.instruction.payment if known.instruction_id else None
            return CreditResult(line=known, outcome=CreditOutcome.DUPLICATE, payment=payment)
        audit_record(
            actor=actor,
            action="bank_line.recorded",
            obj=line,
            data={"source": source, "amount": str(amount), "currency": currency, "memo": memo[:300]},
        )
        codes = bank.reference_codes_in(memo)
        instruction_ids = list(
            BankTransferInstruction.objects.filter(reference_code__in=codes).values_list("pk", flat=True)
        )
        if len(instruction_ids) != 1:
            return CreditResult(line=line, outcome=CreditOutcome.UNMATCHED)
        return _line_apply(line=line, instruction_id=instruction_ids[0], actor=actor, manual=False)


def bank_line_match(*, line: BankStatementLine, instruction: BankTransferInstruction, actor: User) -> CreditResult:
    """An admin matched an unmatched credit to an instruction (a memo with a typo, or no memo):
    the credit then counts exactly as if its memo had named the instruction."""
    if line.currency != instruction.currency:
        raise PaymentError(
            gettext("The credit is in %(line)s but the transfer is due in %(due)s.")
            % {"line": line.currency, "due": instruction.currency}
        )
    with transaction.atomic():
        result = _line_apply(line=line, instruction_id=instruction.pk, actor=actor, manual=True)
        if result.outcome == CreditOutcome.DUPLICATE:
            raise InvalidTransition(
                name=gettext("bank credit %(reference)s") % {"reference": line.bank_reference},
                source=result.line.status,
                target=BankStatementLine.Status.MATCHED,
            )
    return result


def _instruction_lock(instruction_id: int) -> BankTransferInstruction:
    """The row lock every change of an instruction's received amount or status takes first."""
    return (
        BankTransferInstruction.objects.select_for_update(of=("self",))
        .select_related("payment__order")
        .get(pk=instruction_id)
    )


def _line_apply(*, line: BankStatementLine, instruction_id: int, actor: User | None, manual: bool) -> CreditResult:
    """Adds an unmatched credit to an instruction (inside the caller's transaction): the line is
    claimed by a conditional UPDATE (unmatched -> matched), so it counts once even when an admin
    and the bank's late notification match it at the same moment."""
    instruction = _instruction_lock(instruction_id)
    payment = instruction.payment
    if line.currency != instruction.currency:
        logger.warning("bank credit %s in %s cannot pay %s", line.bank_reference, line.currency, instruction)
        return CreditResult(line=line, outcome=CreditOutcome.UNMATCHED)
    claimed = BankStatementLine.objects.filter(pk=line.pk, status=BankStatementLine.Status.UNMATCHED).update(
        status=BankStatementLine.Status.MATCHED,
        instruction=instruction,
        matched_by=actor if manual else None,
        matched_at=timezone.now(),
    )
    line.refresh_from_db()
    if not claimed:
        return CreditResult(line=line, outcome=CreditOutcome.DUPLICATE, payment=payment)

    effect = _credit_effect(
        status=instruction.status,
        received_before=instruction.amount_received,
        credit=line.amount,
        due=instruction.amount_due,
    )
    received = instruction.amount_received + line.amount
    updated = BankTransferInstruction.objects.filter(
        pk=instruction.pk, status=instruction.status, amount_received=instruction.amount_received
    ).update(status=effect.status, amount_received=received)
    if updated != 1:  # impossible under the row lock; never add a credit to a stale total
        raise RuntimeError(f"bank transfer {instruction.reference_code} changed under its lock")
    Payment.objects.filter(pk=payment.pk).update(amount_received=F("amount_received") + line.amount)
    audit_record(
        actor=actor,
        action="bank_line.matched",
        obj=line,
        data={
            "instruction": instruction.reference_code,
            "payment": payment.reference,
            "manual": manual,
            "amount": str(line.amount),
            "received": str(received),
            "due": str(instruction.amount_due),
            "status": effect.status,
        },
    )
    if effect.capture:
        payment = payment_capture(
            payment=payment,
            notification=Notification(
                event_id=f"bank_transfer:{instruction.reference_code}:paid",
                event_type="bank_transfer.paid",
                payment_reference=payment.reference,
                provider_reference=instruction.reference_code,
                amount=payment.amount,  # the order's total; an excess is refunded below
                currency=payment.currency,
                status=Notification.SUCCEEDED,
                payload={"last_credit": line.bank_reference, "received": str(received)},
            ),
        )
    if effect.refund:
        if effect.status == Status.OVERPAID:
            audit_record(
                actor=actor,
                action="bank_transfer.overpaid",
                obj=instruction,
                data={"payment": payment.reference, "excess": str(effect.refund), "credit": line.bank_reference},
            )
        _refund_owed(
            payment=payment,
            amount=effect.refund,
            receipt_key=f"bank_credit:{line.bank_reference}:unclaimed",
            actor=actor,
            reason=(
                f"Over-payment on bank transfer {instruction.reference_code}"
                if effect.status == Status.OVERPAID
                else f"Late credit on expired bank transfer {instruction.reference_code}"
            ),
        )
    payment.refresh_from_db()
    outcome = {
        Status.PARTIAL: CreditOutcome.PARTIAL,
        Status.PAID: CreditOutcome.PAID,
        Status.OVERPAID: CreditOutcome.OVERPAID,
        Status.EXPIRED: CreditOutcome.REFUNDED,
    }[effect.status]
    if payment.needs_refund:  # captured, but the order had closed: all of it goes back
        outcome = CreditOutcome.REFUNDED
    return CreditResult(line=line, outcome=outcome, payment=payment)


def _refund_owed(*, payment: Payment, amount: Decimal, receipt_key: str, actor: User | None, reason: str) -> None:
    """Sends `amount` received on the payment back to the payer: payment_refund_excess books
    whatever received money the ledger does not have yet, then orders the outgoing transfer
    through the provider-call outbox. `receipt_key` is kept for the log line only."""
    from payments.services.refunds import payment_refund_excess

    payment.refresh_from_db(fields=["status", "needs_refund"])
    if payment.status != Payment.Status.CAPTURED and not payment.needs_refund:
        # Nothing captured (a part-payment that expired): the money only goes back.
        Payment.objects.filter(pk=payment.pk).update(needs_refund=True)
        payment.needs_refund = True
        audit_record(actor=actor, action="payment.needs_refund", obj=payment, data={"reason": reason})
    refund = payment_refund_excess(payment=payment, amount=amount, actor=actor, reason=reason)
    if refund is None:
        logger.error(
            "bank transfer %s (%s): %s owed back but no refund was created", payment.reference, receipt_key, amount
        )


# --- Expiry -------------------------------------------------------------------------------


def bank_transfers_expire(*, now: datetime) -> int:
    """Beat job: instructions past their deadline expire (the payment is cancelled) and any
    part already received is sent back. Each in its own transaction under the instruction's
    lock, so a credit arriving at the same moment is applied either before (and counted in
    the refund) or after (and refunded by itself). Safe to run twice or on two workers."""
    due = list(
        BankTransferInstruction.objects.filter(status__in=OPEN, expires_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expired = 0
    for instruction_id in due:
        with transaction.atomic():
            instruction = _instruction_lock(instruction_id)
            if instruction.status not in OPEN or instruction.expires_at > now:
                continue
            BankTransferInstruction.objects.filter(pk=instruction.pk, status=instruction.status).update(
                status=Status.EXPIRED
            )
            payment = instruction.payment
            Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
                status=Payment.Status.CANCELLED,
                failed_at=now,
                failure_reason="The bank transfer did not arrive in time.",
            )
            audit_record(
                actor=None,
                action="bank_transfer.expired",
                obj=instruction,
                data={"payment": payment.reference, "received": str(instruction.amount_received)},
            )
            if instruction.amount_received > 0:
                _refund_owed(
                    payment=payment,
                    amount=instruction.amount_received,
                    receipt_key=f"bank_transfer:{instruction.reference_code}:expired",
                    actor=None,
                    reason=f"Part-payment of expired bank transfer {instruction.reference_code}",
                )
            expired += 1
    return expired


# --- Statement import -----------------------------------------------------------------------

STATEMENT_COLUMNS = ("bank_txn_id", "value_date", "amount", "currency", "payer_name", "payer_account", "memo")
MAX_STATEMENT_BYTES = 5 * 1024 * 1024
MAX_STATEMENT_ROWS = 10000
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass
class StatementImportSummary:
    recorded: int = 0
    matched: int = 0
    unmatched: int = 0
    skipped: int = 0  # already known (same bank_txn_id)


@dataclass(frozen=True)
class _StatementRow:
    number: int
    bank_txn_id: str
    value_date: date
    amount: Decimal
    currency: str
    payer_name: str
    payer_account: str
    memo: str


def bank_statement_import(*, file: UploadedFile, actor: User) -> StatementImportSummary:
    """Imports the collection account's statement (CSV, columns STATEMENT_COLUMNS; others are
    ignored). Every row is checked first: any problem raises ImportFailed with every row's
    problems and nothing is written. Then, in one transaction, each credit not known yet (by
    bank_txn_id) is recorded and matched by the reference in its memo, like a notification."""
    rows = _statement_rows(file)
    summary = StatementImportSummary()
    with transaction.atomic():
        known = {
            line.bank_reference: line
            for line in BankStatementLine.objects.filter(bank_reference__in=[row.bank_txn_id for row in rows])
        }
        conflicts = [
            RowError(
                row.number,
                gettext("bank_txn_id %(id)s is already recorded with %(amount)s %(currency)s.")
                % {
                    "id": row.bank_txn_id,
                    "amount": known[row.bank_txn_id].amount,
                    "currency": known[row.bank_txn_id].currency,
                },
            )
            for row in rows
            if row.bank_txn_id in known
            and (known[row.bank_txn_id].amount, known[row.bank_txn_id].currency) != (row.amount, row.currency)
        ]
        if conflicts:
            raise ImportFailed(conflicts)
        # Lock every instruction the file names up front, in primary-key order, so two imports
        # (or an import and the bank's notifications) cannot deadlock on them.
        codes = {code for row in rows for code in bank.reference_codes_in(row.memo)}
        list(
            BankTransferInstruction.objects.select_for_update()
            .filter(reference_code__in=codes)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for row in rows:
            if row.bank_txn_id in known:
                summary.skipped += 1
                continue
            result = bank_credit_record(
                bank_reference=row.bank_txn_id,
                source=BankStatementLine.Source.STATEMENT,
                value_date=row.value_date,
                amount=row.amount,
                currency=row.currency,
                payer_name=row.payer_name,
                payer_account=row.payer_account,
                memo=row.memo,
                actor=actor,
            )
            summary.recorded += 1
            if result.outcome == CreditOutcome.UNMATCHED:
                summary.unmatched += 1
            else:
                summary.matched += 1
    return summary


def _statement_rows(file: UploadedFile) -> list[_StatementRow]:
    try:
        records = _statement_records_read(file)
    except ValueError as exc:
        raise ImportFailed([RowError(0, str(exc))]) from None
    rows: list[_StatementRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, values in records:
        problems, row = _statement_row_parse(number, values)
        if row is not None and row.bank_txn_id in seen:
            problems.append(
                gettext("bank_txn_id: %(id)s is also on row %(row)d.")
                % {"id": row.bank_txn_id, "row": seen[row.bank_txn_id]}
            )
        if problems:
            errors.extend(RowError(number, problem) for problem in problems)
            continue
        seen[row.bank_txn_id] = number
        rows.append(row)
    if errors:
        raise ImportFailed(errors)
    return rows


def _statement_row_parse(number: int, values: dict[str, str]) -> tuple[list[str], _StatementRow | None]:
    """Every problem of one row (so the admin fixes the file in one go), or the parsed row."""
    problems: list[str] = []
    bank_txn_id = values["bank_txn_id"]
    if not bank_txn_id:
        problems.append(gettext("bank_txn_id: required."))
    elif len(bank_txn_id) > 64:
        problems.append(gettext("bank_txn_id: at most 64 characters."))
    value_date = _date_parse(values["value_date"])
    if value_date is None:
        problems.append(
            gettext("value_date: “%(value)s” is not a date (YYYY-MM-DD).") % {"value": values["value_date"]}
        )
    currency = values["currency"].upper()
    if currency not in MINOR_UNITS:
        problems.append(
            gettext("currency: “%(value)s” is not one of %(choices)s.")
            % {"value": values["currency"], "choices": ", ".join(MINOR_UNITS)}
        )
    amount = None
    raw_amount = values["amount"].replace(",", "") if _THOUSANDS.match(values["amount"]) else values["amount"]
    try:
        amount = parse_amount(raw_amount, currency if currency in MINOR_UNITS else "CNY")
        if amount <= 0:
            raise InvalidAmount(raw_amount)
    except InvalidAmount:
        amount = None
        problems.append(
            gettext("amount: “%(value)s” is not a positive amount in %(currency)s.")
            % {"value": values["amount"], "currency": currency or "?"}
        )
    for column, limit in (("payer_name", 200), ("payer_account", 64), ("memo", 300)):
        if len(values[column]) > limit:
            problems.append(gettext("%(column)s: at most %(n)d characters.") % {"column": column, "n": limit})
    if problems:
        return problems, None
    return problems, _StatementRow(
        number=number,
        bank_txn_id=bank_txn_id,
        value_date=value_date,
        amount=amount,
        currency=currency,
        payer_name=values["payer_name"],
        payer_account=values["payer_account"],
        memo=values["memo"],
    )


def _date_parse(raw: str) -> date | None:
    for date_format in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, date_format).date()
        except ValueError:
            continue
    return None


def _statement_records_read(file: UploadedFile) -> list[tuple[int, dict[str, str]]]:
    """(row number as a spreadsheet shows it, {column: stripped text}) per non-empty row.
    Raises ValueError with a message for a file that cannot be read as a statement at all."""
    raw = file.read(MAX_STATEMENT_BYTES + 1)
    if len(raw) > MAX_STATEMENT_BYTES:
        raise ValueError(gettext("The file is too large; the limit is %(n)d MB.") % {"n": MAX_STATEMENT_BYTES // 2**20})
    if b"\x00" in raw:
        raise ValueError(gettext("This is not a CSV text file."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Chinese online banking exports are often GB18030/GBK
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ValueError(gettext("The file must be CSV text in UTF-8.")) from None
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ValueError(gettext("The file is not valid CSV: %(error)s") % {"error": exc}) from None
    if not table or not any(cell.strip() for cell in table[0]):
        raise ValueError(gettext("The file is empty: the first row must name the columns."))
    columns = [cell.strip().lower() for cell in table[0]]
    missing = [column for column in STATEMENT_COLUMNS if column not in columns]
    if missing:
        raise ValueError(
            gettext("The column “%(column)s” is missing. The columns are: %(columns)s.")
            % {"column": missing[0], "columns": ", ".join(STATEMENT_COLUMNS)}
        )
    records = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            raise ValueError(gettext("Row %(row)d has more cells than there are columns.") % {"row": number})
        cells = cells + [""] * (len(columns) - len(cells))
        values = {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}
        records.append((number, {column: values[column] for column in STATEMENT_COLUMNS}))
    if len(records) > MAX_STATEMENT_ROWS:
        raise ValueError(gettext("The file has more than %(n)d rows; split it.") % {"n": MAX_STATEMENT_ROWS})
    if not records:
        raise ValueError(gettext("The file has no rows to import."))
    return records
