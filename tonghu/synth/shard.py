"""One shard of a synthetic county: a fixed range of child ordinals, generated with its own
random streams into its own work folder.

A county is always cut into ``SHARDS`` shards, whatever the machine, and each shard depends
only on (children, the rounds' seeds, reference dates and settings, shard number); so running
the shards one after the other or in parallel processes gives the same bytes.

A later round regenerates the earlier rounds of its shard (their writers replay the rows
without writing them, for their random draws and record keys) and then writes its own. ID
numbers issued in a later round must avoid every number of the earlier rounds, including
those issued further on in the shard: so before that, a first pass regenerates the earlier
rounds' people only, to learn their numbers.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from tonghu.synth.draws import Dice
from tonghu.synth.emit import Counts, FeedWriter
from tonghu.synth.evolve import Evolution, RoundSpec
from tonghu.synth.geo import Geography
from tonghu.synth.model import Child
from tonghu.synth.people import People
from tonghu.synth.population import Population
from tonghu.synth.records import Keys, RecordMaker
from tonghu.synth.scenarios import Scenarios
from tonghu.synth.settings import NoiseSettings
from tonghu.synth.truth import Policy

SHARDS = 2
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class ShardSpec:
    shard: int
    children: int  # of the whole county in its first round
    rounds: tuple[RoundSpec, ...]  # the first round, then each later one; the last is written
    work: Path

    @property
    def seed(self) -> int:
        return self.rounds[0].seed

    @property
    def as_of(self) -> date:
        return self.rounds[-1].as_of

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
    key_counts: dict[str, int] = field(default_factory=dict)  # after the written round
    last_ordinal: int = 0  # the largest child ordinal of the written round in this shard
    fingerprints: list[str] = field(default_factory=list)  # of each round's rows (records.csv)


def first_ordinal(shard: int, children: int) -> int:
    """The first child ordinal of ``shard``: ordinal o belongs to shard (o-1)*SHARDS//children,
    the same rule that splits a source into two files by child order."""
    return -(-shard * children // SHARDS) + 1


def geography(children: int, seed: int) -> Geography:
    """The county's divisions: the same in every shard (their own random stream)."""
    return Geography(children=children, rng=random.Random(f"{seed}/geo"))  # noqa: S311 - synthetic


class _Round:
    """The generators of one round in one shard. The first round's streams are named as they
    always were, so that its output does not depend on whether later rounds exist."""

    def __init__(
        self,
        *,
        spec: ShardSpec,
        number: int,
        geo: Geography,
        reserved: set[int] | None,
        writer: str,  # "none", "discard" or "write"
    ) -> None:
        round_spec = spec.rounds[number]
        seed, shard = round_spec.seed, spec.shard
        self.spec = round_spec
        self.number = number
        if number == 0:
            dice = Dice(f"{seed}/{shard}")
            generator = np.random.default_rng([seed, shard])
            noise_dice = Dice(f"{seed}/{shard}/noise")
        else:
            dice = Dice(f"{seed}/{shard}/round{number + 1}")
            generator = np.random.default_rng([seed, shard, number + 1])
            noise_dice = Dice(f"{seed}/{shard}/round{number + 1}/noise")
        self.people = People(dice=dice, generator=generator, geo=geo, shard=shard, shards=SHARDS)
        if reserved:
            self.people.ids.reserve(reserved)
        self.keys = Keys(shard=shard, shards=SHARDS, counts=round_spec.key_counts)
        maker = RecordMaker(dice=dice, keys=self.keys, as_of=round_spec.as_of)
        self.population = Population(
            geo=geo,
            people=self.people,
            records=maker,
            dice=dice,
            generator=generator,
            as_of=round_spec.as_of,
            settings=round_spec.noise,
        )
        self.policy = Policy(as_of=round_spec.as_of, is_central=geo.is_central, city_of=geo.city_of)
        self.writer: FeedWriter | None = None
        if writer != "none":
            self.writer = FeedWriter(
                work=spec.work,
                total=spec.children,
                shards=SHARDS,
                dice=noise_dice,
                keys=self.keys,
                as_of=round_spec.as_of,
                settings=round_spec.noise,
                discard=writer == "discard",
            )
        self.evolution: Evolution | None = None
        if number > 0:
            self.evolution = Evolution(
                population=self.population,
                keys=self.keys,
                spec=round_spec,
                previous=spec.rounds[number - 1].as_of,
                shard=shard,
                shards=SHARDS,
            )


class _Chain:
    """The rounds ``0..upto-1`` of one shard, each family carried through them in turn."""

    def __init__(
        self,
        spec: ShardSpec,
        *,
        upto: int,
        reserved: list[set[int]],
        write: bool,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.spec = spec
        self.geo = geography(spec.children, spec.seed)
        self.rounds: list[_Round] = []
        for number in range(upto):
            mode = "none"
            if write:
                mode = "write" if number == upto - 1 else "discard"
            self.rounds.append(
                _Round(
                    spec=spec,
                    number=number,
                    geo=self.geo,
                    reserved=reserved[number] if number else None,
                    writer=mode,
                )
            )
        self.result = ShardResult(spec.shard)
        self._progress = progress

    def run(self) -> ShardResult:
        result = self.result
        for family in self._first_families():
            self._carry(family, 0)
        for number in range(1, len(self.rounds)):
            for family in self._arrivals(number):
                self._carry(family, number)
        final = self.rounds[-1]
        result.used_counties = self.geo.used_counties
        result.key_counts = final.keys.counts
        if final.writer is not None:
            result.rows = final.writer.close()
            result.counts = final.writer.counts
            result.fingerprints = [
                r.writer.fingerprint() for r in self.rounds if r.writer is not None
            ]
        if final.evolution is not None:
            result.last_ordinal = final.evolution.last_ordinal
        else:
            result.last_ordinal = self.spec.last_ordinal
        if self._progress is not None:
            self._progress(result.children)
        return result

    def _first_families(self) -> Iterator[list[Child]]:
        spec = self.spec
        population = self.rounds[0].population
        first = spec.first_ordinal
        if spec.shard == 0 and spec.rounds[0].noise.boundary_cases:
            scenarios = Scenarios(population, as_of=spec.rounds[0].as_of)
            yield from scenarios.families()
            first = scenarios.count + 1
        yield from population.families(first_ordinal=first, last_ordinal=spec.last_ordinal)

    def _arrivals(self, number: int) -> Iterator[list[Child]]:
        round_spec = self.spec.rounds[number]
        evolution = self.rounds[number].evolution
        if evolution is None:  # pragma: no cover - every later round has one
            return iter(())
        total = round_spec.arrivals
        base = round_spec.first_ordinal
        first = base + first_ordinal(self.spec.shard, total)
        last = base + first_ordinal(self.spec.shard + 1, total) - 1
        return evolution.arrivals(first, last)

    def _carry(self, family: list[Child], start: int) -> None:
        """Write ``family`` in round ``start`` and move it through every later round."""
        self._write(family, start)
        for number in range(start + 1, len(self.rounds)):
            evolution = self.rounds[number].evolution
            if evolution is not None:
                evolution.evolve(family)
            self._write(family, number)

    def _write(self, family: list[Child], number: int) -> None:
        this = self.rounds[number]
        writer = this.writer
        if writer is None:
            return
        if number < len(self.rounds) - 1:
            for child in family:
                writer.child(child, None)
            return
        result = self.result
        result.families += 1
        for child in family:
            writer.child(child, this.policy.classify)
            result.children += 1
            if self._progress is not None and result.children % PROGRESS_EVERY == 0:
                self._progress(result.children)


def run_shard(spec: ShardSpec, progress: Callable[[int], None] | None = None) -> ShardResult:
    reserved = _reserved_ids(spec)
    chain = _Chain(spec, upto=len(spec.rounds), reserved=reserved, write=True, progress=progress)
    return chain.run()


def _reserved_ids(spec: ShardSpec) -> list[set[int]]:
    """For each round, the ID numbers (first 17 digits) issued in this shard's earlier rounds:
    a first pass over the people of the earlier rounds, without rows."""
    reserved: list[set[int]] = [set()]
    for upto in range(1, len(spec.rounds)):
        chain = _Chain(spec, upto=upto, reserved=reserved, write=False)
        chain.run()
        reserved.append(set(chain.rounds[-1].people.ids.issued))
    return reserved


RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.txt"
SPEC_FILE = "spec.json"


def round_to_json(spec: RoundSpec) -> dict[str, Any]:
    return {
        "as_of": spec.as_of.isoformat(),
        "seed": spec.seed,
        "noise": spec.noise.changed(),
        "leave_share": spec.leave_share,
        "arrive_share": spec.arrive_share,
        "birth_share": spec.birth_share,
        "reissue": list(spec.reissue),
        "arrivals": spec.arrivals,
        "key_counts": dict(sorted(spec.key_counts.items())),
        "first_ordinal": spec.first_ordinal,
    }


def round_from_json(data: dict[str, Any]) -> RoundSpec:
    return RoundSpec(
        as_of=date.fromisoformat(data["as_of"]),
        seed=int(data["seed"]),
        noise=NoiseSettings.from_mapping(data.get("noise", {})),
        leave_share=float(data.get("leave_share", 0.0)),
        arrive_share=float(data.get("arrive_share", 0.0)),
        birth_share=float(data.get("birth_share", 0.0)),
        reissue=tuple(data.get("reissue", ())),
        arrivals=int(data.get("arrivals", 0)),
        key_counts={str(k): int(v) for k, v in data.get("key_counts", {}).items()},
        first_ordinal=int(data.get("first_ordinal", 0)),
    )


def spec_to_json(spec: ShardSpec) -> str:
    return json.dumps(
        {
            "shard": spec.shard,
            "children": spec.children,
            "rounds": [round_to_json(r) for r in spec.rounds],
            "work": str(spec.work),
        },
        ensure_ascii=False,
    )


def spec_from_json(text: str) -> ShardSpec:
    data = json.loads(text)
    return ShardSpec(
        shard=int(data["shard"]),
        children=int(data["children"]),
        rounds=tuple(round_from_json(r) for r in data["rounds"]),
        work=Path(data["work"]),
    )


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
            "key_counts": result.key_counts,
            "last_ordinal": result.last_ordinal,
            "fingerprints": result.fingerprints,
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
        key_counts=dict(data["key_counts"]),
        last_ordinal=int(data["last_ordinal"]),
        fingerprints=list(data["fingerprints"]),
    )
