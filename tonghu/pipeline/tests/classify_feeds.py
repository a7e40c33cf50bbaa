"""Hand-made records for the classification and matching tests: ``Feeds`` builds the
normalised records of a few children, links them and classifies them at D = 2025-06-30."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from tonghu.pipeline.classify import classify
from tonghu.pipeline.duck import Connection
from tonghu.pipeline.match import match_services
from tonghu.pipeline.normalise import ID_WEIGHTS
from tonghu.pipeline.places import DIVISION_COLUMNS
from tonghu.pipeline.sources import Kind, all_fields
from tonghu.pipeline.summarise import summarise
from tonghu.policy import Profile, load_profile

AS_OF = date(2025, 6, 30)
DAY = timedelta(days=1)
HERE = "410402001001"  # 光明社区, 新华区 (平顶山): where the children live
HERE_COUNTY = "410402000000"  # a local child's hukou
SAME_COUNTY = "410402002000"  # 曙光街街道: another street of the same county
ELSEWHERE = "330483000000"  # 桐乡市: a migrant child's hukou
FAR = "440305000000"  # where parents work
LONG_AGO = date(2023, 1, 1)
AGE_10 = date(2015, 3, 1)
AWAY_SINCE = date(2024, 9, 1)
DEFAULT = load_profile("default")

_ARROW_TYPES: dict[Kind, pa.DataType] = {Kind.DATE: pa.date32(), Kind.BOOL: pa.bool_()}
# The columns of an ingested record that classify reads, typed as records.parquet has them.
COLUMNS: dict[str, pa.DataType] = {
    "source": pa.string(),
    "file": pa.string(),
    "sheet": pa.string(),
    "row": pa.int64(),
    **{name: _ARROW_TYPES.get(kind, pa.string()) for name, kind in all_fields().items()},
    "id_valid": pa.bool_(),
    "id_birth_date": pa.date32(),
    "id_sex": pa.string(),
    "hukou_origin": pa.string(),
    "residence_origin": pa.string(),
}
KEY_PREFIX = {
    "police_residence": "J",
    "edu_migrant": "G",
    "health_child": "H",
    "cdc_vaccination": "V",
    "self_declaration": "D",
    "visit_survey": "Z",
    "civil_status": "M",
    "disability_cert": "C",
    "medical_insurance": "Y",
}


def citizen_id(area: str, birth: date, serial: int) -> str:
    """A valid GB 11643 number (odd serial: male)."""
    body = f"{area}{birth:%Y%m%d}{serial:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def divisions_table(*counties: tuple[str, str | None, str]) -> pa.Table:
    """A division table of (county code, city parent code or None, central_urban)."""
    cities = sorted({parent for _, parent, _ in counties if parent})
    rows: list[tuple[str, str, str | None, str]]
    rows = [(code, "city", code[:2] + "0" * 10, "0") for code in cities]
    rows += [(code, "county", parent, central) for code, parent, central in counties]
    return pa.table(
        {
            "code": [row[0] for row in rows],
            "name": [f"区划{row[0][:6]}" for row in rows],
            "level": [row[1] for row in rows],
            "parent_code": [row[2] for row in rows],
            "central_urban": [row[3] for row in rows],
        }
    ).select(list(DIVISION_COLUMNS))


class Feeds:
    """Hand-made normalised records of a few children, and their classification."""

    def __init__(self, con: Connection, divisions: pa.Table) -> None:
        self.con = con
        self.divisions = divisions
        self.rows: list[dict[str, Any]] = []

    def add(self, source: str, child: str = "c1", /, **values: Any) -> str:
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise KeyError(f"not a record column: {sorted(unknown)}")
        key = str(values.pop("record_key", f"{KEY_PREFIX[source]}{len(self.rows) + 1:03d}"))
        row = {"source": source, "record_key": key, "file": f"{source}.csv", "sheet": ""}
        self.rows.append({**row, "row": len(self.rows) + 1, "child_id": child, **values})
        return key

    def police(self, child: str = "c1", /, **values: Any) -> str:
        """A current residence permit of a child aged 10 from elsewhere, here since 2023."""
        since = values.pop("since", LONG_AGO)
        defaults = {
            "birth_date": AGE_10,
            "hukou_code": ELSEWHERE,
            "residence_code": HERE,
            "arrived_on": since,
            "registered_on": since,
            "permit_status": "有效",
        }
        return self.add("police_residence", child, **{**defaults, **values})

    def edu(
        self, status: str | None, stage: str | None = "小学", child: str = "c1", /, **values: Any
    ) -> str:
        defaults = {"birth_date": AGE_10, "enrolled_on": date(2024, 9, 1)}
        values = {**defaults, **values, "school_status": status, "stage": stage}
        return self.add("edu_migrant", child, **values)

    def visit(self, child: str = "c1", /, **values: Any) -> str:
        """A visit to a local child aged 10 whose parents both work far away since 2024-09."""
        defaults = {
            "birth_date": AGE_10,
            "hukou_code": HERE_COUNTY,
            "residence_code": HERE,
            "visited_on": date(2025, 6, 1),
            "father_status": "外出务工",
            "father_away_code": FAR,
            "father_away_since": AWAY_SINCE,
            "mother_status": "外出务工",
            "mother_away_code": FAR,
            "mother_away_since": AWAY_SINCE,
        }
        return self.add("visit_survey", child, **{**defaults, **values})

    def civil(self, category: str, child: str = "c1", /, **values: Any) -> str:
        defaults = {"starts_on": date(2024, 1, 1), "ends_on": None}
        return self.add("civil_status", child, category=category, **{**defaults, **values})

    def _load(self) -> None:
        table = pa.table(
            {
                name: pa.array([row.get(name) for row in self.rows], type=kind)
                for name, kind in COLUMNS.items()
            }
        )
        self.con.register("hand_made_records", table)
        self.con.execute(
            """CREATE OR REPLACE TABLE records AS SELECT * REPLACE (
                id_valid(id_number) AS id_valid,
                id_birth(id_number) AS id_birth_date,
                id_sex(id_number) AS id_sex,
                coalesce(hukou_origin, CASE WHEN hukou_code IS NOT NULL THEN 'code' END)
                    AS hukou_origin,
                CASE WHEN residence_code IS NOT NULL THEN 'code' END AS residence_origin)
            FROM hand_made_records"""
        )
        links = pa.table(
            {
                "record_id": [f"{row['source']}|{row['record_key']}" for row in self.rows],
                "child_id": [row["child_id"] for row in self.rows],
            }
        )
        self.con.register("hand_made_links", links)
        self.con.execute("CREATE OR REPLACE TABLE links AS SELECT * FROM hand_made_links")

    def classify(
        self,
        *,
        profile: Profile = DEFAULT,
        as_of: date = AS_OF,
        divisions: pa.Table | None = None,
        file_flags: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        self._load()
        table = classify(
            self.con,
            records="records",
            links="links",
            divisions=self.divisions if divisions is None else divisions,
            profile=profile,
            as_of=as_of,
            file_flags=file_flags,
        )
        cursor = self.con.execute(f"SELECT * FROM {table}")
        names = [column[0] for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

    def child(self, child: str = "c1", **options: Any) -> dict[str, Any]:
        return self.classify(**options)[child]

    def services(
        self, child: str = "c1", *, profile: Profile = DEFAULT, **options: Any
    ) -> set[str]:
        self.classify(profile=profile, **options)
        table = match_services(self.con, children="classified", profile=profile)
        rows = self.con.execute(
            f"SELECT service_code FROM {table} WHERE child_id = ?",
            [child],
        ).fetchall()
        return {row[0] for row in rows}

    def figures(self, *, profile: Profile = DEFAULT) -> dict[tuple[str, str, str, str], int]:
        """The round figures of the hand-made children: (division, group, dimension,
        category) -> children."""
        self.classify(profile=profile)
        services = match_services(self.con, children="classified", profile=profile)
        table = summarise(
            self.con,
            children="classified",
            services=services,
            divisions=self.divisions,
            county=HERE[:6],
            profile=profile,
        )
        rows = self.con.execute(f"SELECT * FROM {table} WHERE level = 'village'").fetchall()
        return {(d, g, dim, cat): n for _, d, g, dim, cat, n in rows}

    def figure_levels(self) -> dict[tuple[str, str, str, str, str], int]:
        """(level, division, group, dimension, category) -> children, every level."""
        rows = self.con.execute("SELECT * FROM round_figures").fetchall()
        return {(lv, d, g, dim, cat): n for lv, d, g, dim, cat, n in rows}
