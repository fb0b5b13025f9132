"""Small SQL helpers for the hot path of placing orders.

Placing an order is the one write that runs hundreds of times a second on a single hot row, and
there the ORM's per-statement Python cost (compiling queries, building model instances) is
most of the time spent. These helpers keep the ORM's knowledge (table and column names, value
adaptation per database backend, the catalog's "orderable" rule) while skipping that cost:
values are adapted by each field's own get_db_prep_save, and a query built with the ORM is
compiled once per process and re-run with new parameters.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model, QuerySet
from django.utils.translation import get_language
from modeltranslation.utils import build_localized_fieldname

from marketplace.money import quantize

# A parameter value no real query uses: it marks where the varying parameter goes.
SENTINEL = -7_340_032_417_001

_compiled: dict[tuple, tuple[str, tuple, int]] = {}
_compiled_lock = threading.Lock()


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def compiled_run(key: tuple, build: Callable[[], QuerySet], value: object) -> list[tuple]:
    """Runs the values_list queryset `build()` (whose one varying parameter is SENTINEL) with
    `value` in its place, compiling it only the first time per process, backend and key. The
    queryset must not capture values that change at run time (such as the current time):
    everything but the SENTINEL is frozen at compilation."""
    full_key = (connection.vendor, *key)
    compiled = _compiled.get(full_key)
    if compiled is None:
        sql, params = build().query.sql_with_params()
        if list(params).count(SENTINEL) != 1:
            raise ValueError("the compiled query must use SENTINEL exactly once")
        compiled = (sql, tuple(params), list(params).index(SENTINEL))
        with _compiled_lock:
            _compiled[full_key] = compiled
    sql, params, index = compiled
    bound = list(params)
    bound[index] = value
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        return cursor.fetchall()


@lru_cache(maxsize=256)
def _insert_statement(vendor: str, model: type[Model], names: tuple[str, ...], count: int, returning: bool) -> str:
    meta = model._meta
    placeholder = "(" + ", ".join(["%s"] * len(names)) + ")"
    statement = "INSERT INTO {} ({}) VALUES {}".format(
        qn(meta.db_table),
        ", ".join(qn(meta.get_field(name).column) for name in names),
        ", ".join([placeholder] * count),
    )
    return statement + f" RETURNING {qn(meta.pk.column)}" if returning else statement


def rows_insert(model: type[Model], rows: Sequence[dict], *, returning: bool = False) -> list[int]:
    """INSERT the rows (dicts of field name -> value, the same keys in each) in one statement;
    with returning=True, the new primary keys in row order (PostgreSQL and SQLite >= 3.35)."""
    db = connections[DEFAULT_DB_ALIAS]  # the real connection: the proxy costs on every attribute
    names = tuple(rows[0])
    statement = _insert_statement(db.vendor, model, names, len(rows), returning)
    fields = [(name, model._meta.get_field(name)) for name in names]
    params = [field.get_db_prep_save(row[name], db) for row in rows for name, field in fields]
    with db.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()] if returning else []


_statements: dict[tuple, str] = {}


def statement(key: tuple, build: Callable[[], str]) -> str:
    """The SQL text `build()` returns, built once per process and backend for this key."""
    full_key = (connections[DEFAULT_DB_ALIAS].vendor, *key)
    text = _statements.get(full_key)
    if text is None:
        text = _statements[full_key] = build()
    return text


def execute(text: str, params: Sequence) -> int:
    """Runs one statement; returns the number of rows it changed."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(text, params)
        return cursor.rowcount


def rows_delete(model: type[Model], ids: Sequence[int]) -> int:
    meta = model._meta
    text = statement(
        ("delete", meta.label, len(ids)),
        lambda: f"DELETE FROM {qn(meta.db_table)} WHERE {qn(meta.pk.column)} IN ({in_placeholders(ids)})",
    )
    return execute(text, ids)


def localized_field(model: type[Model], name: str) -> str:
    """The column holding `name` in the active language (django-modeltranslation), if any."""
    localized = build_localized_fieldname(name, (get_language() or "en").replace("-", "_"))
    try:
        model._meta.get_field(localized)
    except Exception:
        return name
    return localized


def as_decimal(value: object, currency: str = "CNY") -> Decimal:
    """A money value read by a raw query (Decimal on PostgreSQL; text on SQLite when cast)."""
    if isinstance(value, Decimal):
        return quantize(value, currency)
    return quantize(Decimal(str(value)), currency)


def as_json(value: object):
    return json.loads(value) if isinstance(value, str) else value


def in_placeholders(values: Iterable) -> str:
    return ", ".join(["%s"] * len(list(values)))
