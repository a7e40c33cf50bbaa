"""One shard of a synthetic county: a fixed range of child ordinals, generated with its own
random streams into its own work folder.

A county is always cut into ``SHARDS`` shards, whatever the machine, and each shard depends
only on (children, seed, reference date, shard number); so running the shards one after the
other or in parallel processes gives the same bytes.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from tonghu.synth.draws import Dice
from tonghu.synth.emit import Counts, FeedWriter
from tonghu.synth.geo import Geography
from tonghu.synth.model import Child
from tonghu.synth.people import People
from tonghu.synth.population import Population
from tonghu.synth.records import Keys, RecordMaker
from tonghu.synth.scenarios import Scenarios
from tonghu.synth.truth import Policy

SHARDS = 2
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class ShardSpec:
    shard: int
    children: int  # of the whole county
    seed: int
    as_of: date
    work: Path

    @property
    def first_ordinal(self) -> int:
        return first_ordinal(self.shard, self.children)

    @property
    def last_ordinal(self) -> int:
        return first_ordinal(self.shard + 1, self.children) - 1


@dataclass
class ShardResult:
    shard: int
    children: int = 0
    families: int = 0
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)
    used_counties: set[str] = field(default_factory=set)


def first_ordinal(shard: int, children: int) -> int:
    """The first child ordinal of ``shard``: ordinal o belongs to shard (o-1)*SHARDS//children,
    the same rule that splits a source into two files by child order."""
    return -(-shard * children // SHARDS) + 1


def geography(children: int, seed: int) -> Geography:
    """The county's divisions: the same in every shard (their own random stream)."""
    return Geography(children=children, rng=random.Random(f"{seed}/geo"))  # noqa: S311 - synthetic


def run_shard(spec: ShardSpec, progress: Callable[[int], None] | None = None) -> ShardResult:
    dice = Dice(f"{spec.seed}/{spec.shard}")
    generator = np.random.default_rng([spec.seed, spec.shard])
    geo = geography(spec.children, spec.seed)
    people = People(dice=dice, generator=generator, geo=geo, shard=spec.shard, shards=SHARDS)
    keys = Keys(shard=spec.shard, shards=SHARDS)
    maker = RecordMaker(dice=dice, keys=keys, as_of=spec.as_of)
    population = Population(
        geo=geo, people=people, records=maker, dice=dice, generator=generator, as_of=spec.as_of
    )
    policy = Policy(as_of=spec.as_of, is_central=geo.is_central, city_of=geo.city_of)
    writer = FeedWriter(
        work=spec.work,
        total=spec.children,
        shards=SHARDS,
        dice=Dice(f"{spec.seed}/{spec.shard}/noise"),
        keys=keys,
        as_of=spec.as_of,
    )
    result = ShardResult(spec.shard)
    for family in _families(spec, population):
        result.families += 1
        for child in family:
            writer.child(child, policy.classify(child))
            result.children += 1
            if progress is not None and result.children % PROGRESS_EVERY == 0:
                progress(result.children)
    result.rows = writer.close()
    result.counts = writer.counts
    result.used_counties = geo.used_counties
    if progress is not None:
        progress(result.children)
    return result


def _families(spec: ShardSpec, population: Population) -> Iterator[list[Child]]:
    first = spec.first_ordinal
    if spec.shard == 0:
        scenarios = Scenarios(population, as_of=spec.as_of)
        yield from scenarios.families()
        first = scenarios.count + 1
    yield from population.families(first_ordinal=first, last_ordinal=spec.last_ordinal)


RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.txt"


def result_to_json(result: ShardResult) -> str:
    counts = result.counts
    return json.dumps(
        {
            "shard": result.shard,
            "children": result.children,
            "families": result.families,
            "rows": [[file, sheet, rows] for (file, sheet), rows in sorted(result.rows.items())],
            "counts": {
                "rows": counts.rows,
                "rejects": counts.rejects,
                "repeats": counts.repeats,
                "classified": counts.classified,
            },
            "used_counties": sorted(result.used_counties),
        },
        ensure_ascii=False,
    )


def result_from_json(text: str) -> ShardResult:
    data = json.loads(text)
    counts = data["counts"]
    return ShardResult(
        shard=data["shard"],
        children=data["children"],
        families=data["families"],
        rows={(file, sheet): rows for file, sheet, rows in data["rows"]},
        counts=Counts(
            rows=Counter(counts["rows"]),
            rejects=Counter(counts["rejects"]),
            repeats=Counter(counts["repeats"]),
            classified=Counter(counts["classified"]),
        ),
        used_counties=set(data["used_counties"]),
    )
