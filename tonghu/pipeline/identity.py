"""Step 6, identity: stable child ids across rounds (一人一档: a child keeps its number).

A round's clusters are matched to the previous round's children by the records they
share (source and record key) and by valid ID number, which outweighs any number of shared
records. Each previous child goes to the cluster holding most of its evidence; a cluster
claimed by several previous children keeps the strongest one's id and the others are
recorded as merged into it; a previous child whose records now fall in several clusters
keeps its id in the strongest one, and a cluster left without a previous child gets a new
id, recorded as split from each previous child whose records it holds.
Clusters with no previous child get new ids in a stable order (by their smallest record
id), so re-running a round gives the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from tonghu.pipeline.duck import Connection, ident, quote, run

ID_NUMBER_WEIGHT = 1_000_000  # one shared valid ID outweighs any count of shared records
# A child whose records carry no ID and whose sources gave them new keys (health files and
# vaccination records are often re-numbered) is still recognised by its facts: born the same
# day with the same name, phone or mother. Each fact counts a fraction of one shared
# record, so facts never outweigh records, and at least two must agree.
FACT_WEIGHTS = {"name": 0.4, "phone": 0.2, "mother": 0.2}
MIN_FACT_STRENGTH = 0.4

_FACT_VOTES = """
CREATE OR REPLACE TEMP TABLE identity_fact_votes AS
WITH current AS (
    SELECT c.cluster_id, f.birth_date, f.name, f.phone,
        coalesce(f.mother_name, f.guardian_name) AS mother
    FROM {clusters} AS c JOIN {facts} AS f USING (record_id)),
previous AS (
    SELECT child_id, birth_date, name, phone, coalesce(mother_name, guardian_name) AS mother
    FROM {previous_facts}),
agreed AS (
    SELECT DISTINCT c.cluster_id, p.child_id, 'name' AS fact, {name} AS weight
    FROM current AS c JOIN previous AS p USING (birth_date, name)
    UNION ALL
    SELECT DISTINCT c.cluster_id, p.child_id, 'phone', {phone}
    FROM current AS c JOIN previous AS p USING (birth_date, phone)
    UNION ALL
    SELECT DISTINCT c.cluster_id, p.child_id, 'mother', {mother}
    FROM current AS c JOIN previous AS p USING (birth_date, mother))
SELECT cluster_id, child_id, sum(weight) AS strength FROM agreed
GROUP BY ALL
HAVING count(*) >= 2 AND sum(weight) >= {least};
"""

_NO_FACT_VOTES = """
CREATE OR REPLACE TEMP TABLE identity_fact_votes
    (cluster_id VARCHAR, child_id VARCHAR, strength DOUBLE)
"""

_VOTES = """
CREATE OR REPLACE TEMP TABLE identity_votes AS
SELECT c.cluster_id, p.child_id, count(*) AS shared_records, 0 AS shared_ids
FROM {clusters} AS c JOIN {previous} AS p USING (record_id)
GROUP BY ALL
UNION ALL
SELECT c.cluster_id, p.child_id, 0, count(DISTINCT i.id_number)
FROM {clusters} AS c JOIN {ids} AS i USING (record_id)
JOIN {previous} AS p ON p.id_number = i.id_number
GROUP BY ALL
UNION ALL
SELECT cluster_id, child_id, strength, 0 FROM identity_fact_votes;

CREATE OR REPLACE TEMP TABLE identity_strength AS
SELECT cluster_id, child_id,
    sum(shared_records) + {weight} * sum(shared_ids) AS strength
FROM identity_votes GROUP BY ALL;

-- Each previous child chooses its strongest cluster...
CREATE OR REPLACE TEMP TABLE identity_choice AS
SELECT * FROM identity_strength
QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY strength DESC, cluster_id) = 1;

-- ...and each cluster keeps the strongest of the children that chose it.
CREATE OR REPLACE TEMP TABLE identity_kept AS
SELECT * FROM identity_choice
QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY strength DESC, child_id) = 1;

CREATE OR REPLACE TEMP TABLE identity_new AS
SELECT c.cluster_id,
    {prefix} || lpad(({first} + row_number() OVER (ORDER BY min(c.record_id)) - 1)::VARCHAR,
                     {width}, '0') AS child_id
FROM {clusters} AS c
WHERE c.cluster_id NOT IN (SELECT cluster_id FROM identity_kept)
GROUP BY c.cluster_id;

CREATE OR REPLACE TEMP TABLE child_ids AS
SELECT cluster_id, child_id FROM identity_kept
UNION ALL
SELECT cluster_id, child_id FROM identity_new;

CREATE OR REPLACE TEMP TABLE child_history AS
-- a previous child that chose a cluster another child kept: merged into that one
SELECT kept.child_id, 'merged' AS event, choice.child_id AS other_child_id
FROM identity_choice AS choice JOIN identity_kept AS kept USING (cluster_id)
WHERE choice.child_id <> kept.child_id
UNION ALL
-- a new child made of records that belonged to a previous child: split from it
SELECT new.child_id, 'split', strength.child_id
FROM identity_new AS new JOIN identity_strength AS strength USING (cluster_id)
ORDER BY 1, 2, 3;
"""


@dataclass(frozen=True)
class Identity:
    child_ids: str  # table: cluster_id, child_id
    history: str  # table: child_id, event ('merged' | 'split'), other_child_id
    new_children: int


def assign_child_ids(
    con: Connection,
    *,
    clusters: str,
    record_ids: str,
    previous: str,
    prefix: str,
    first_serial: int,
    width: int = 8,
    facts: str | None = None,
    previous_facts: str | None = None,
) -> Identity:
    """Give every cluster a child id, keeping the previous round's where the evidence says.

    ``clusters``: (record_id, cluster_id) of this round; ``record_ids``: (record_id,
    id_number) with valid ID numbers only; ``previous``: (record_id, child_id, id_number)
    of the last round (empty in a county's first round). New ids are ``prefix`` and a
    serial from ``first_serial``, zero-padded to ``width``. ``facts`` (record_id, name,
    birth_date, phone, mother_name, guardian_name) of this round and ``previous_facts``
    (child_id and the same facts) of the last round, when given, recognise children whose
    records were re-numbered.
    """
    if facts is not None and previous_facts is not None:
        run(
            con,
            _FACT_VOTES.format(
                clusters=ident(clusters),
                facts=ident(facts),
                previous_facts=ident(previous_facts),
                least=MIN_FACT_STRENGTH,
                **FACT_WEIGHTS,
            ),
        )
    else:
        run(con, _NO_FACT_VOTES)
    run(
        con,
        _VOTES.format(
            clusters=ident(clusters),
            ids=ident(record_ids),
            previous=ident(previous),
            weight=ID_NUMBER_WEIGHT,
            prefix=quote(prefix),
            first=int(first_serial),
            width=int(width),
        ),
    )
    ((new,),) = con.execute("SELECT count(*) FROM identity_new").fetchall()
    return Identity(child_ids="child_ids", history="child_history", new_children=int(new))
