from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.children.models import Child
from tonghu.divisions.codes import Level
from tonghu.divisions.models import Division
from tonghu.divisions.selectors import county_division, division_table
from tonghu.linkage.services import decisions_file, decisions_fingerprint
from tonghu.pipeline.errors import RoundError
from tonghu.pipeline.export import write_export
from tonghu.pipeline.read import FeedFile, SkippedFile, plan_folder
from tonghu.pipeline.round import (
    MODEL_FILE,
    Prior,
    Progress,
    RoundInput,
    RoundOutput,
    kill_point,
    run_round,
)
from tonghu.policy import Profile, ProfileError, load_profile
from tonghu.rounds.loading import LoadCounts, load_results
from tonghu.rounds.models import Round, RoundStatus
from tonghu.rounds.store import (
    open_round_store,
    round_store_ok,
    store_folder,
    store_mark,
    store_token_in,
    store_token_new,
)
from tonghu.services.lists import county_has_list, lists_fingerprint, profile_in_force
from tonghu.visits.feed import write_visit_feeds
from tonghu.visits.selectors import visits_fingerprint, visits_for_round

if TYPE_CHECKING:
    from tonghu.accounts.models import User


@transaction.atomic
def round_open(*, as_of: dt.date, acting_user: User) -> Round:
    """Open a round for the acting user's own county at the reference date ``as_of``."""
    require(acting_user, Capability.MANAGE_ROUNDS)
    county = acting_user.division
    if county.level != Level.COUNTY:
        raise ValidationError("只有区县民政工作人员可以为本区县新建一轮监测摸排。")
    if Round.objects.filter(county=county, as_of=as_of).exists():
        raise ValidationError(f"{county.name}已有基准日为 {as_of:%Y-%m-%d} 的一轮监测摸排。")
    created = Round.objects.create(county=county, as_of=as_of, created_by=acting_user)
    audit_record(
        actor=acting_user, action=Action.CREATE, object_type="round", object_ids=[str(created.pk)]
    )
    return created


@dataclass(frozen=True)
class RoundRun:
    round: Round
    unchanged: bool  # the same inputs were already run: nothing was recomputed
    exported: list[Path]
    counts: LoadCounts | None = None


def round_run(
    *,
    feeds_dir: Path,
    as_of: dt.date,
    export_dir: Path,
    profile: str | None = None,
    engine: str = "duckdb",
    county: str | None = None,
    acting_user: User | None = None,
    progress: Progress | None = None,
) -> RoundRun:
    """Run a whole round on a folder of feeds, keep it, and write its export.

    Re-running on the same folder (same files, date, profile and engine) changes nothing.
    The ledger changes in one transaction after every batch step has succeeded, and the
    results move into the store only once it has committed, so a round that fails or is
    killed midway leaves the previous state intact; the next round clears what it left.
    """
    tell = _with_kill_points(progress)
    policy = _profile(profile)
    files, skipped = _plan(feeds_dir)
    fingerprint = _fingerprint(files, as_of=as_of, policy=policy, engine=engine)
    store = Path(settings.ROUND_STORE_DIR)
    store.mkdir(parents=True, exist_ok=True)
    store_recover(store)
    done = Round.objects.filter(as_of=as_of, input_hash=fingerprint, status=RoundStatus.DONE)
    # Only results that are this round's own count (not another database's sharing the
    # store, nor missing after a restore): otherwise the round runs again and replaces them.
    kept = next((r for r in done if round_store_ok(r)), None)
    if kept is not None:
        tell("export")
        exported = write_export(open_round_store(kept), export_dir)
        return RoundRun(round=kept, unchanged=True, exported=exported)
    divisions = division_table()
    if divisions.num_rows == 0:
        raise RoundError("数据库中还没有区划表：请先运行 tonghu divisions load 载入区划表。")
    with _work_folder(store) as work:
        output = run_round(
            RoundInput(
                files=files,
                skipped=skipped,
                as_of=as_of,
                profile=policy,
                divisions=divisions,
                county=county,
                prior=lambda code: _prior(code, as_of, work),
                engine=engine,
                memory_limit=f"{settings.ROUND_MEMORY_MB}MB",
            ),
            folder=work / RESULTS,
            progress=tell,
            scratch=work,
        )
        tell("load")
        round_, counts = _keep(
            output,
            as_of=as_of,
            policy=policy,
            engine=engine,
            fingerprint=fingerprint,
            acting_user=acting_user,
        )
    tell("export")
    return RoundRun(
        round=round_,
        unchanged=False,
        exported=write_export(open_round_store(round_), export_dir),
        counts=counts,
    )


def _with_kill_points(progress: Progress | None) -> Progress:
    """The progress callback, each step also a point where a test may kill the round."""

    def tell(step: str) -> None:
        kill_point(step)
        if progress is not None:
            progress(step)

    return tell


def _profile(name: str | None) -> Profile:
    try:
        return load_profile(name or settings.TONGHU_PROFILE)
    except ProfileError as error:
        raise RoundError(str(error)) from None


def _plan(feeds_dir: Path) -> tuple[list[FeedFile], list[SkippedFile]]:
    if not feeds_dir.is_dir():
        raise RoundError(f"数据目录不存在或不是目录：{feeds_dir}")
    files, skipped = plan_folder(feeds_dir)
    if not files:
        raise RoundError(
            f"数据目录 {feeds_dir} 中没有可识别的数据文件"
            "（文件名须以数据源名称开头，如 police_residence_2025H1.csv、edu_migrant.xlsx）。"
        )
    return files, skipped


def _fingerprint(files: list[FeedFile], *, as_of: dt.date, policy: Profile, engine: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{as_of.isoformat()}|{engine}|".encode())
    digest.update(policy.model_dump_json().encode())
    digest.update(decisions_fingerprint().encode())  # a new 人工核实 decision reruns the round
    digest.update(lists_fingerprint().encode())  # so does a new district service list
    digest.update(visits_fingerprint().encode())  # and a new visit a director recorded
    for feed in sorted(files, key=lambda f: f.path.name):
        digest.update(feed.path.name.encode())
        with feed.path.open("rb") as stream:
            digest.update(hashlib.file_digest(stream, "sha256").digest())
    return digest.hexdigest()


def _county_division(code: str) -> Division:
    county = county_division(code)
    if county is None:
        raise RoundError(f"区划表中没有县级区划 {code}：请先载入区划表。")
    return county


def _prior(county: str, as_of: dt.date, work: Path) -> Prior:
    later = Round.objects.filter(
        county_id=f"{county}000000", status=RoundStatus.DONE, as_of__gt=as_of
    ).first()
    if later is not None:
        raise RoundError(
            f"本县已有基准日更晚的一轮（{later.as_of:%Y-%m-%d}），不能再重算或补做更早的轮次。"
        )
    previous = (
        Round.objects.filter(county_id=f"{county}000000", status=RoundStatus.DONE, as_of__lt=as_of)
        .order_by("-as_of")
        .first()
    )
    # The previous round's results, refused (in Chinese) unless they are its own.
    folder = open_round_store(previous) if previous is not None else None
    latest = Child.objects.filter(
        child_id__startswith=county, first_round__as_of__lt=as_of
    ).aggregate(latest=Max("child_id"))["latest"]
    first_serial = int(latest[len(county) :]) + 1 if latest else 1
    decisions = decisions_file(county_code=county, folder=work)
    profile = _in_force(county, as_of)
    app_feeds, pins = write_visit_feeds(visits_for_round(county=county, as_of=as_of), work / "app")
    return Prior(
        folder=folder,
        first_serial=first_serial,
        decisions=decisions,
        profile=profile,
        app_feeds=app_feeds,
        pins=pins,
    )


def _in_force(county: str, as_of: dt.date) -> Profile | None:
    """The county's own service list in force at the round's date, if it has loaded any."""
    return profile_in_force(county_code=county, day=as_of) if county_has_list(county) else None


def _keep(
    output: RoundOutput,
    *,
    as_of: dt.date,
    policy: Profile,
    engine: str,
    fingerprint: str,
    acting_user: User | None,
) -> tuple[Round, LoadCounts]:
    """Load the results in one transaction, then move their folder into the store.

    The folder moves only after the commit; a stamp beside it names the commit, so that a
    round killed in between is finished by the next one (store_recover)."""
    county = _county_division(output.county)
    with transaction.atomic():
        round_, _ = Round.objects.get_or_create(
            county=county, as_of=as_of, defaults={"created_by": acting_user}
        )
        kill_point("load.begin")
        in_force = _in_force(output.county, as_of) or policy
        counts = load_results(
            round_=round_, folder=output.folder, profile=in_force, today=timezone.localdate()
        )
        round_.status = RoundStatus.DONE
        round_.profile = in_force.key
        round_.engine = engine
        round_.input_hash = fingerprint
        round_.summary = output.summary
        round_.model_json = (output.folder / MODEL_FILE).read_text(encoding="utf-8")
        round_.completed_at = completed_at = timezone.now()
        # The results and the row name the same token: it moves into the store with them.
        round_.store_token = store_token_new()
        store_mark(output.folder, round_id=round_.pk, token=round_.store_token)
        round_.save()
        audit_record(
            actor=acting_user,
            username="命令行" if acting_user is None else "",
            action=Action.IMPORT,
            object_type="round",
            object_ids=[str(round_.pk)],
            detail=f"完成一轮监测摸排：{counts.children} 名儿童，{counts.records} 条记录",
        )
        _stamp(output.folder.parent, round_id=round_.pk, completed_at=completed_at)
        kill_point("load.commit")
    kill_point("store.swap")
    with _store_lock(Path(settings.ROUND_STORE_DIR)):
        _swap_in(output.folder, store_folder(round_))
    return round_, counts


# The store (ROUND_STORE_DIR) holds one folder per completed round, named by its id, and
# while a round runs its work folder ".work-*" (held with an flock by the process running it;
# the results in its "results" subfolder). Folders starting with a dot are never data.
WORK_PREFIX = ".work-"
RESULTS = "results"
STAMP = "stamp.json"  # in the work folder: the round and the commit its results belong to


def _stamp(work: Path, *, round_id: int, completed_at: dt.datetime) -> None:
    stamp = {"round": round_id, "completed_at": completed_at.isoformat()}
    (work / STAMP).write_text(json.dumps(stamp), encoding="utf-8")


def _committed(work: Path) -> Round | None:
    """The round whose committed results are in this work folder, if its commit happened."""
    try:
        stamp = json.loads((work / STAMP).read_text(encoding="utf-8"))
        completed_at = dt.datetime.fromisoformat(stamp["completed_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (work / RESULTS).is_dir():
        return None
    # The token too: a work folder another database sharing the store left is not ours.
    return Round.objects.filter(
        pk=stamp["round"],
        status=RoundStatus.DONE,
        completed_at=completed_at,
        store_token=store_token_in(work / RESULTS) or "-",
    ).first()


@contextmanager
def _store_lock(store: Path) -> Iterator[None]:
    """Held while folders move in the store, so that no two processes move them at once."""
    fd = os.open(store, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def _work_folder(store: Path) -> Iterator[Path]:
    """A new work folder in the store, locked for as long as this process uses it.

    A process that dies, even by SIGKILL, loses its lock, which tells the next round that
    the folder is left over."""
    with _store_lock(store):
        work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=store))
        fd = os.open(work, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.close(fd)


def _in_use(work: Path) -> bool:
    try:
        fd = os.open(work, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def store_recover(store: Path) -> None:
    """Finish or undo what rounds killed midway left in the store.

    A work folder no live process holds is removed; if its round had committed (its stamp
    matches the database) its results first move into the store, as that round would have
    done. A retired folder is removed once its round's folder is in place, or else put back.
    """
    with _store_lock(store):
        for work in sorted(store.glob(f"{WORK_PREFIX}*")):
            if not work.is_dir() or _in_use(work):
                continue
            committed = _committed(work)
            if committed is not None:
                _swap_in(work / RESULTS, store_folder(committed))
            shutil.rmtree(work, ignore_errors=True)
        for retired in sorted(store.glob(".*.old")):
            target = store / retired.name[1:].removesuffix(".old")
            if target.is_dir():
                shutil.rmtree(retired, ignore_errors=True)
            else:
                retired.rename(target)


def _retired(target: Path) -> Path:
    return target.with_name(f".{target.name}.old")


def _swap_in(results: Path, target: Path) -> None:
    """Move a committed round's results into place (its store folder, replacing the old)."""
    retired = _retired(target)
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        target.rename(retired)
        kill_point("store.half")
    results.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
