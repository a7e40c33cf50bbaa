"""A round's referrals: open one per eligible child × service × responsible department that
has none open, close the open ones whose child left or no longer qualifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from tonghu.children.models import Child
from tonghu.policy import Profile
from tonghu.rounds.models import Round
from tonghu.services.models import Referral

LEFT = "儿童已离开本地（本轮未再发现）"
NO_LONGER = "本轮认定不再符合该服务条件"


def load_referrals(*, round_: Round, profile: Profile, today: dt.date) -> tuple[int, int]:
    """Returns (opened, closed).

    Eligible: each service code in the ``services`` of the county's children this round
    found (present), with each department the profile makes responsible for it. Worked out
    by the database in two statements, as a large county's round opens a million referrals:
    the new ones inserted in the order of child, service code and department, then the open
    ones no longer eligible closed.
    """
    departments = {item.code: item.departments for item in profile.services.items}
    pairs = sorted({(code, name) for code, names in departments.items() for name in names})
    due = today + dt.timedelta(days=profile.referrals.respond_within_days)
    params: dict[str, Any] = {
        "county": f"{round_.county_id[:6]}%",
        "round": round_.pk,
        "pending": Referral.Status.PENDING.value,
        "accepted": Referral.Status.ACCEPTED.value,
        "closed": Referral.Status.CLOSED.value,
        "no_longer": NO_LONGER,
        "left": LEFT,
        "due": _prepared("due_on", due),
        "now": _prepared("created_at", timezone.now()),
    }
    values = []
    for number, (code, name) in enumerate(pairs or [("", "")]):  # VALUES is never empty
        values.append(f"(%(code{number})s, %(department{number})s)")
        params |= {f"code{number}": code, f"department{number}": name}
    sql = _Statements(values)
    with connection.cursor() as cursor:
        cursor.execute(sql.insert(), params)
        opened = max(cursor.rowcount, 0)
        cursor.execute(sql.close(), params)
        closed = max(cursor.rowcount, 0)
    return opened, closed


def _prepared(field: str, value: Any) -> Any:
    """A value as the ORM would write it to the referral's ``field`` column."""
    return Referral._meta.get_field(field).get_db_prep_save(value, connection)  # type: ignore[union-attr]


class _Statements:
    """The two statements. SQLite and PostgreSQL differ in how a JSON array's elements are
    read and in how text is ordered by code point; both name a VALUES list's columns
    column1, column2, ... (no WITH clause: Python's sqlite3 counts no rows changed by a
    statement that starts with one)."""

    def __init__(self, values: list[str]) -> None:
        quote = connection.ops.quote_name
        postgres = connection.vendor == "postgresql"
        self.referral = quote(Referral._meta.db_table)
        self.child = quote(Child._meta.db_table)
        self.pairs = f"(VALUES {', '.join(values)})"  # (code, department)
        # The order of Python's sorted(): by code point, SQLite's default for text.
        self.binary = 'COLLATE "C"' if postgres else ""
        self.elements = (
            "jsonb_array_elements_text(c.services) AS s (value)"
            if postgres
            else "json_each(c.services) AS s"
        )
        # The round's present children of the county (c), each code of their services
        # (s.value).
        self.found = f"{self.child} AS c, {self.elements}"
        self.found_where = (
            "c.child_id LIKE %(county)s AND c.present AND c.last_round_id = %(round)s"
        )

    def insert(self) -> str:
        columns = (
            "child_id", "round_id", "service_code", "department", "status", "due_on",
            "created_at", "delivered_what", "delivered_by", "declined_reason", "closed_reason",
        )  # fmt: skip
        return f"""
            INSERT INTO {self.referral} ({", ".join(columns)})
            SELECT e.child, %(round)s, e.code, e.department, %(pending)s, %(due)s, %(now)s,
                '', '', '', ''
            FROM (
                SELECT DISTINCT c.id AS child, s.value AS code, p.column2 AS department
                FROM {self.found}, {self.pairs} AS p
                WHERE {self.found_where} AND p.column1 = s.value
            ) AS e
            WHERE NOT EXISTS (
                SELECT 1 FROM {self.referral} AS r
                WHERE r.child_id = e.child AND r.service_code = e.code
                    AND r.department = e.department AND r.status IN (%(pending)s, %(accepted)s)
            )
            ORDER BY e.child, e.code {self.binary}, e.department {self.binary}"""  # noqa: S608 (names, not data)

    def close(self) -> str:
        referral = self.referral
        return f"""
            UPDATE {referral} SET status = %(closed)s, closed_reason = CASE
                WHEN EXISTS (
                    SELECT 1 FROM {self.child} AS c WHERE c.id = {referral}.child_id AND c.present
                ) THEN %(no_longer)s ELSE %(left)s END
            WHERE status IN (%(pending)s, %(accepted)s)
                AND child_id IN (SELECT id FROM {self.child} WHERE child_id LIKE %(county)s)
                AND NOT (
                    (service_code, department) IN {self.pairs}
                    AND EXISTS (
                        SELECT 1 FROM {self.found}
                        WHERE {self.found_where}
                            AND c.id = {referral}.child_id AND s.value = {referral}.service_code
                    )
                )"""  # noqa: S608 (names, not data)


def overdue_q(today: dt.date) -> Q:
    return Q(status=Referral.Status.PENDING, due_on__lt=today)
