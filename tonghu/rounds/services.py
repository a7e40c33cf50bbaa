from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
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
from tonghu.pipeline.export import write_export
from tonghu.pipeline.read import FeedFile, SkippedFile, plan_folder
from tonghu.pipeline.round import (
    MODEL_FILE,
    Prior,
    Progress,
    RoundError,
    RoundInput,
    RoundOutput,
    run_round,
)
from tonghu.policy import Profile, ProfileError, load_profile
from tonghu.rounds.loading import LoadCounts, load_results
from tonghu.rounds.models import Round, RoundStatus
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
    The ledger changes in one transaction after every batch step has succeeded, so a
    round that fails or is killed midway leaves the previous state intact.
    """
    tell = progress or (lambda step: None)
    policy = _profile(profile)
    files, skipped = _plan(feeds_dir)
    fingerprint = _fingerprint(files, as_of=as_of, policy=policy, engine=engine)
    done = Round.objects.filter(as_of=as_of, input_hash=fingerprint, status=RoundStatus.DONE)
    kept = next((r for r in done if _store(r).is_dir()), None)
    if kept is not None:
        tell("export")
        return RoundRun(round=kept, unchanged=True, exported=write_export(_store(kept), export_dir))
    divisions = division_table()
    if divisions.num_rows == 0:
        raise RoundError("数据库中还没有区划表：请先运行 tonghu divisions load 载入区划表。")
    settings.ROUND_STORE_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=settings.ROUND_STORE_DIR))
    try:
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
            ),
            folder=work,
            progress=tell,
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
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tell("export")
    return RoundRun(
        round=round_,
        unchanged=False,
        exported=write_export(_store(round_), export_dir),
        counts=counts,
    )


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


def _store(round_: Round) -> Path:
    return Path(settings.ROUND_STORE_DIR) / str(round_.pk)


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
    folder = _store(previous) if previous is not None else None
    if folder is not None and not folder.is_dir():
        raise RoundError(f"上一轮（{previous.as_of:%Y-%m-%d}）的结果文件缺失：{folder}")  # type: ignore[union-attr]
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
    """Load the results in one transaction and move their folder into the store."""
    county = _county_division(output.county)
    swapped = False
    target: Path | None = None
    try:
        with transaction.atomic():
            round_, _ = Round.objects.get_or_create(
                county=county, as_of=as_of, defaults={"created_by": acting_user}
            )
            target = _store(round_)
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
            round_.completed_at = timezone.now()
            round_.save()
            audit_record(
                actor=acting_user,
                username="命令行" if acting_user is None else "",
                action=Action.IMPORT,
                object_type="round",
                object_ids=[str(round_.pk)],
                detail=f"完成一轮监测摸排：{counts.children} 名儿童，{counts.records} 条记录",
            )
            _swap_in(output.folder, target)
            swapped = True
    except BaseException:
        if swapped and target is not None:
            _restore(target)
        raise
    shutil.rmtree(_retired(_store(round_)), ignore_errors=True)
    return round_, counts


def _retired(target: Path) -> Path:
    return target.with_name(target.name + ".old")


def _swap_in(folder: Path, target: Path) -> None:
    """Move the new results into place, keeping the old ones until the transaction commits."""
    retired = _retired(target)
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        target.rename(retired)
    shutil.copytree(folder, target)


def _restore(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    if _retired(target).exists():
        _retired(target).rename(target)
