"""The double-entry ledger: balanced, exact, idempotent, append-only, checkable."""

import threading
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from payments.ledger import IdempotencyConflict, LedgerError, account_balance, account_get_or_create, ledger_post
from payments.models import JournalEntry, LedgerAccount, Posting

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL only"
)


@pytest.fixture
def accounts():
    # Purposes the cross-checks of payments/invariants.py leave alone (no payment, no split
    # stands behind these entries): these tests are about the ledger's own mechanics.
    return {
        "clearing": account_get_or_create(
            owner_type="provider", owner_key="sandbox", purpose="suspense", currency="CNY"
        ),
        "vendor": account_get_or_create(owner_type="vendor", owner_key=12, purpose="reserve", currency="CNY"),
        "commission": account_get_or_create(
            owner_type="platform", owner_key="", purpose="commission_pending", currency="CNY"
        ),
    }


def capture(accounts, key="capture:vo:1", paid="100.00", commission="5.00", **kwargs):
    paid, commission = Decimal(paid), Decimal(commission)
    return ledger_post(
        idempotency_key=key,
        kind="adjustment",
        postings=[
            (accounts["clearing"], paid),
            (accounts["vendor"], -(paid - commission)),
            (accounts["commission"], -commission),
        ],
        reference={"vendor_order": 1},
        **kwargs,
    )


def test_accounts_are_unique_and_readable(accounts):
    again = account_get_or_create(owner_type="vendor", owner_key="12", purpose="reserve", currency="CNY")

    assert again == accounts["vendor"]
    assert accounts["vendor"].code == "vendor:12:reserve"
    assert accounts["commission"].code == "platform:commission_pending"
    assert accounts["clearing"].code == "provider:sandbox:suspense"
    assert LedgerAccount.objects.count() == 3


def test_balanced_entry_posts_and_balances_read_right(accounts):
    entry = capture(accounts)

    assert entry.kind == "adjustment"
    assert entry.reference == {"vendor_order": 1}
    assert sorted(entry.postings.values_list("amount", flat=True)) == [
        Decimal("-95.00"),
        Decimal("-5.00"),
        Decimal("100.00"),
    ]
    assert account_balance(account=accounts["clearing"]) == Decimal("100.00")
    assert account_balance(account=accounts["vendor"]) == Decimal("-95.00")
    assert account_balance(account=accounts["commission"]) == Decimal("-5.00")


def test_balances_as_of_a_date_follow_effective_at(accounts):
    now = timezone.now()
    capture(accounts, key="past", paid="100.00", effective_at=now - timedelta(days=10))
    capture(accounts, key="recent", paid="50.00", commission="2.50", effective_at=now - timedelta(days=1))
    capture(accounts, key="future", paid="20.00", commission="1.00", effective_at=now + timedelta(days=5))

    vendor = accounts["vendor"]
    assert account_balance(account=vendor, as_of=now - timedelta(days=20)) == Decimal("0.00")
    assert account_balance(account=vendor, as_of=now - timedelta(days=10)) == Decimal("-95.00")
    assert account_balance(account=vendor, as_of=now) == Decimal("-142.50")
    assert account_balance(account=vendor) == Decimal("-161.50")


def test_unbalanced_entry_is_refused_and_nothing_written(accounts):
    with pytest.raises(LedgerError, match="sum to zero"):
        ledger_post(
            idempotency_key="bad",
            kind="adjustment",
            postings=[(accounts["clearing"], Decimal("100.00")), (accounts["vendor"], Decimal("-99.99"))],
        )
    with pytest.raises(LedgerError, match="at least two"):
        ledger_post(idempotency_key="bad", kind="adjustment", postings=[(accounts["clearing"], Decimal("0.00"))])

    assert JournalEntry.objects.count() == 0
    assert Posting.objects.count() == 0


def test_posting_in_another_currency_is_refused(accounts):
    usd = account_get_or_create(owner_type="vendor", owner_key=12, purpose="reserve", currency="USD")

    with pytest.raises(LedgerError, match="sum to zero"):
        ledger_post(
            idempotency_key="fx",
            kind="adjustment",
            postings=[(accounts["clearing"], Decimal("10.00")), (usd, Decimal("-10.00"))],
        )
    assert JournalEntry.objects.count() == 0


def test_float_and_too_many_decimals_are_refused(accounts):
    with pytest.raises(TypeError, match="float"):
        ledger_post(
            idempotency_key="float",
            kind="adjustment",
            postings=[(accounts["clearing"], 10.0), (accounts["vendor"], Decimal("-10.00"))],
        )
    with pytest.raises(LedgerError, match="more decimals"):
        ledger_post(
            idempotency_key="fine",
            kind="adjustment",
            postings=[(accounts["clearing"], Decimal("10.005")), (accounts["vendor"], Decimal("-10.005"))],
        )
    jpy_a = account_get_or_create(owner_type="provider", owner_key="sandbox", purpose="suspense", currency="JPY")
    jpy_b = account_get_or_create(owner_type="vendor", owner_key=12, purpose="reserve", currency="JPY")
    with pytest.raises(LedgerError, match="more decimals than JPY"):
        ledger_post(
            idempotency_key="yen",
            kind="adjustment",
            postings=[(jpy_a, Decimal("10.50")), (jpy_b, Decimal("-10.50"))],
        )
    assert JournalEntry.objects.count() == 0


def test_replay_with_the_same_postings_returns_the_same_entry(accounts):
    first = capture(accounts)
    reordered = ledger_post(
        idempotency_key="capture:vo:1",
        kind="adjustment",
        postings=[
            (accounts["commission"], Decimal("-5.00")),
            (accounts["clearing"], Decimal("100.00")),
            (accounts["vendor"], Decimal("-95.00")),
        ],
    )

    assert reordered == first
    assert JournalEntry.objects.count() == 1
    assert Posting.objects.count() == 3
    assert account_balance(account=accounts["clearing"]) == Decimal("100.00")


def test_replay_with_other_amounts_or_accounts_is_a_conflict(accounts):
    capture(accounts)

    with pytest.raises(IdempotencyConflict) as exc_info:
        capture(accounts, paid="100.00", commission="6.00")
    assert exc_info.value.code == "idempotency_conflict"
    assert exc_info.value.http_status == 409
    with pytest.raises(IdempotencyConflict):
        ledger_post(
            idempotency_key="capture:vo:1",
            kind="adjustment",
            postings=[(accounts["clearing"], Decimal("100.00")), (accounts["vendor"], Decimal("-100.00"))],
        )
    assert JournalEntry.objects.count() == 1
    assert Posting.objects.count() == 3


@postgresql_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE payments_posting SET amount = amount + 1",
        "DELETE FROM payments_posting",
        "UPDATE payments_journalentry SET memo = 'edited'",
        "DELETE FROM payments_journalentry",
    ],
)
def test_the_database_refuses_to_update_or_delete_entries_and_postings(accounts, sql):
    capture(accounts)

    with pytest.raises(Exception, match="ledger is append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)

    assert Posting.objects.count() == 3
    assert JournalEntry.objects.get().memo == ""
    assert account_balance(account=accounts["clearing"]) == Decimal("100.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_workers_posting_one_key_at_once_write_one_entry(accounts):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def post() -> None:
        try:
            barrier.wait()
            results.append(capture(accounts).pk)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert JournalEntry.objects.count() == 1
    assert Posting.objects.count() == 3


def test_ledger_check_passes_on_a_clean_ledger(accounts):
    capture(accounts)
    out = StringIO()

    call_command("ledger_check", stdout=out)

    assert out.getvalue().startswith("OK: 1 entries, 3 postings, 3 accounts")


def test_ledger_check_names_broken_entries_and_fails(accounts):
    good = capture(accounts)
    usd = account_get_or_create(owner_type="vendor", owner_key=12, purpose="reserve", currency="USD")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_journalentry (idempotency_key, kind, memo, effective_at, created_at, reference) "
            "VALUES ('broken:1', 'adjustment', '', %s, %s, %s) RETURNING id",
            [timezone.now(), timezone.now(), "{}"],
        )
        broken_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO payments_posting (entry_id, account_id, amount, currency) VALUES (%s, %s, %s, %s), "
            "(%s, %s, %s, %s)",
            [broken_id, accounts["clearing"].pk, Decimal("10.00"), "CNY", broken_id, usd.pk, Decimal("-9.00"), "CNY"],
        )
    out = StringIO()

    with pytest.raises(CommandError, match="2 problem"):
        call_command("ledger_check", stdout=out)

    report = out.getvalue()
    assert f"entry {broken_id} (broken:1): postings in CNY sum to 1.00, not 0" in report
    assert f"entry {broken_id} (broken:1): posting" in report and "its account is in USD" in report
    assert f"entry {good.pk} " not in report


def test_ledger_admin_is_read_only(admin_user, accounts):
    entry = capture(accounts)
    client = Client()
    client.force_login(admin_user)

    for url in (
        "/admin/payments/journalentry/",
        f"/admin/payments/journalentry/{entry.pk}/change/",
        "/admin/payments/posting/",
        "/admin/payments/ledgeraccount/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"capture:vo:1" in client.get("/admin/payments/journalentry/").content
    assert client.get("/admin/payments/journalentry/add/").status_code == 403
    assert client.post(f"/admin/payments/journalentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert JournalEntry.objects.count() == 1
