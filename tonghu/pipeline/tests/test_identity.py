"""Stable child ids across rounds: kept, merged, split and new children."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tonghu.pipeline.duck import Connection, connect
from tonghu.pipeline.identity import assign_child_ids


@pytest.fixture
def con() -> Iterator[Connection]:
    connection = connect()
    yield connection
    connection.close()


def _round(
    con: Connection,
    clusters: dict[str, list[str]],
    previous: dict[str, list[str]],
    ids: dict[str, str] | None = None,
    previous_ids: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Run identity on clusters {cluster: [records]} against previous {child: [records]};
    returns {record: child id} and the history rows."""
    con.execute("CREATE OR REPLACE TABLE clusters (record_id VARCHAR, cluster_id VARCHAR)")
    con.execute("CREATE OR REPLACE TABLE ids (record_id VARCHAR, id_number VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TABLE previous (record_id VARCHAR, child_id VARCHAR, id_number VARCHAR)"
    )
    for cluster, records in clusters.items():
        con.executemany("INSERT INTO clusters VALUES (?, ?)", [(r, cluster) for r in records])
    for record, number in (ids or {}).items():
        con.execute("INSERT INTO ids VALUES (?, ?)", [record, number])
    for child, records in previous.items():
        child_number = (previous_ids or {}).get(child)
        con.executemany(
            "INSERT INTO previous VALUES (?, ?, ?)", [(r, child, child_number) for r in records]
        )
    result = assign_child_ids(
        con, clusters="clusters", record_ids="ids", previous="previous", prefix="C", first_serial=10
    )
    sql = f"SELECT record_id, child_id FROM clusters JOIN {result.child_ids} USING (cluster_id)"
    assigned = dict(con.execute(sql).fetchall())
    history = con.execute(f"SELECT * FROM {result.history}").fetchall()
    return assigned, history


def test_the_first_round_numbers_clusters_in_a_stable_order(con: Connection) -> None:
    assigned, history = _round(con, {"x": ["b|2", "a|1"], "y": ["c|3"]}, {})
    assert assigned == {"a|1": "C00000010", "b|2": "C00000010", "c|3": "C00000011"}
    assert history == []


def test_a_child_keeps_its_id_when_its_records_stay_together(con: Connection) -> None:
    assigned, history = _round(
        con, {"k1": ["a|1", "b|2", "n|9"], "k2": ["c|3"]}, {"C7": ["a|1", "b|2"], "C8": ["c|3"]}
    )
    assert assigned == {"a|1": "C7", "b|2": "C7", "n|9": "C7", "c|3": "C8"}
    assert history == []


def test_a_merge_keeps_the_stronger_id_and_records_the_other(con: Connection) -> None:
    assigned, history = _round(
        con, {"k": ["a|1", "b|2", "c|3"]}, {"C7": ["a|1", "b|2"], "C8": ["c|3"]}
    )
    assert set(assigned.values()) == {"C7"}
    assert history == [("C7", "merged", "C8")]


def test_a_split_keeps_the_id_with_the_larger_part_and_numbers_the_rest(con: Connection) -> None:
    assigned, history = _round(
        con, {"k1": ["a|1", "b|2"], "k2": ["c|3"]}, {"C7": ["a|1", "b|2", "c|3"]}
    )
    assert assigned == {"a|1": "C7", "b|2": "C7", "c|3": "C00000010"}
    assert history == [("C00000010", "split", "C7")]


def test_a_shared_id_number_outweighs_shared_records(con: Connection) -> None:
    number = "410402201503020135"
    assigned, _ = _round(
        con,
        {"k1": ["new|1"], "k2": ["a|1", "b|2"]},
        {"C7": ["old|1"], "C8": ["a|1", "b|2"]},
        ids={"new|1": number},
        previous_ids={"C7": number},
    )
    assert assigned["new|1"] == "C7", "a child whose every record key changed keeps its id"
    assert assigned["a|1"] == "C8"


def test_running_again_gives_the_same_ids(con: Connection) -> None:
    clusters = {"k1": ["a|1"], "k2": ["b|2"], "k3": ["c|3", "d|4"]}
    first, _ = _round(con, clusters, {"C7": ["a|1"]})
    again, _ = _round(con, clusters, {"C7": ["a|1"]})
    assert first == again
