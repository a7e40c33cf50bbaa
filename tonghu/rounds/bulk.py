"""Writing a round's many rows: tuples instead of model instances, COPY on PostgreSQL and one
prepared INSERT run over a batch of rows (executemany) on SQLite.

Building a model instance per row and compiling an INSERT per few dozen rows (what
``bulk_create`` does) cost several times the database's own work for the million rows of a
large county's round.

Each value goes through its field's own ``get_db_prep_save``, so a column receives what the
ORM would have written: sealed fields sealed, JSON encoded as the ORM encodes it, dates as
the backend keeps them. What the ORM computes on save (``auto_now_add`` times, blind indexes,
defaults) is the caller's to give. Runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import batched
from typing import Any

from django.db import connection, models

BATCH_ROWS = 5_000
# Field types whose values (int, str, bool) go to the database as they are: their
# get_db_prep_save returns what it is given. Only these exact types, never a subclass (a
# subclass may seal, encode or compute).
_PLAIN: frozenset[type[Any]] = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.BooleanField,
        models.CharField,
        models.ForeignKey,
        models.IntegerField,
        models.PositiveIntegerField,
        models.TextField,
    }
)

Row = Sequence[Any]
Convert = Callable[[Any], Any]


class _Plan:
    """A model's table, the columns written (quoted) and each value's conversion; the
    constants converted once."""

    def __init__(
        self, model: type[models.Model], fields: Sequence[str], constants: Mapping[str, Any]
    ) -> None:
        self.table = _quote(model._meta.db_table)
        self.columns = [_column(model, name) for name in (*fields, *constants)]
        self.converters = [_converter(_field(model, name)) for name in fields]
        self.constants = tuple(
            value if value is None or convert is None else convert(value)
            for value, convert in (
                (value, _converter(_field(model, name))) for name, value in constants.items()
            )
        )
        self.plain = all(convert is None for convert in self.converters)

    def prepared(self, rows: Iterable[Row]) -> Iterator[tuple[Any, ...]]:
        constants, converters = self.constants, self.converters
        if self.plain:
            for row in rows:
                yield (*row, *constants)
            return
        for row in rows:
            yield (
                *(
                    value if convert is None or value is None else convert(value)
                    for value, convert in zip(row, converters, strict=True)
                ),
                *constants,
            )


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _column(model: type[models.Model], name: str) -> str:
    return _quote(str(_field(model, name).column))


def _converter(field: models.Field[Any, Any]) -> Convert | None:
    """None for a field of a plain type (its value goes as it is), else its conversion."""
    if type(field) in _PLAIN:
        return None

    def convert(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return convert


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Row],
    *,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Insert ``rows`` (tuples of the values of ``fields``, attribute names) into the model's
    table in their order; ``constants`` (field -> value) are the same in every row. Returns
    the number of rows."""
    plan = _Plan(model, fields, constants or {})
    if connection.vendor == "postgresql":
        return _copy(plan.table, plan.columns, plan.prepared(rows))
    return _executemany(_insert(plan.table, plan.columns), plan.prepared(rows))


def upsert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Row],
    *,
    unique: str,
    update: Sequence[str],
    increment: str | None = None,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Insert ``rows`` in their order; a row whose ``unique`` field's value is already in the
    table sets that row's ``update`` fields instead (as ``bulk_create(update_conflicts=True)``
    does) and adds one to its ``increment`` field, if given. Returns the number of rows."""
    plan = _Plan(model, fields, constants or {})
    assignments = [
        f"{column} = EXCLUDED.{column}" for column in (_column(model, name) for name in update)
    ]
    if increment is not None:
        column = _column(model, increment)
        assignments.append(f"{column} = {plan.table}.{column} + 1")
    conflict = f"ON CONFLICT ({_column(model, unique)}) DO UPDATE SET {', '.join(assignments)}"
    if connection.vendor != "postgresql":
        return _executemany(_insert(plan.table, plan.columns, conflict), plan.prepared(rows))
    # COPY into a temporary table, then one INSERT ... SELECT of its rows in their order.
    staging, ordinal = _quote(f"{model._meta.db_table}_load"), _quote("load_ordinal")
    columns = ", ".join(plan.columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608 (names, not data)
            f"SELECT {columns}, 0::bigint AS {ordinal} FROM {plan.table} WITH NO DATA"
        )
        numbered = ((*row, number) for number, row in enumerate(plan.prepared(rows)))
        count = _copy(staging, [*plan.columns, ordinal], numbered)
        cursor.execute(
            f"INSERT INTO {plan.table} ({columns}) "  # noqa: S608 (names, not data)
            f"SELECT {columns} FROM {staging} ORDER BY {ordinal} {conflict}"
        )
        cursor.execute(f"DROP TABLE {staging}")
    return count


def analyze(*models_: type[models.Model]) -> None:
    """Refresh PostgreSQL's statistics of tables a load has just filled, in its transaction,
    so that the queries after it are planned for the rows now there (else, on a county's
    first round, its planner takes the tables for nearly empty and nests loops over them:
    minutes instead of seconds at 100,000 children)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {_quote(model._meta.db_table)}")


def _insert(table: str, columns: Sequence[str], suffix: str = "") -> str:
    """An INSERT of one row of parameters (table and columns: quoted names, never data)."""
    values = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}) {suffix}"  # noqa: S608


def _executemany(insert: str, rows: Iterable[tuple[Any, ...]]) -> int:
    count = 0
    with connection.cursor() as cursor:
        for batch in batched(rows, BATCH_ROWS):
            cursor.executemany(insert, batch)
            count += len(batch)
    return count


def _copy(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
