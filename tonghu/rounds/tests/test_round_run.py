"""``tonghu round run`` end to end on a synthetic county, against the real database."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from tonghu.accounts.roles import Department, Role
from tonghu.audit.models import AuditEntry
from tonghu.children.models import Child, ChildChange, ChildRecord, Correction, VerificationTask
from tonghu.children.services import child_correct
from tonghu.conftest import make_user
from tonghu.divisions.services import divisions_load
from tonghu.feeds.departments import SOURCE_DEPARTMENTS
from tonghu.linkage.models import LinkDecision, ReviewPair
from tonghu.linkage.services import pair_decide
from tonghu.rounds import services as round_services
from tonghu.rounds.models import Round, RoundStatus
from tonghu.rounds.selectors import round_comparison
from tonghu.rounds.store import open_round_store

AS_OF = dt.date(2025, 6, 30)
LATER = dt.date(2025, 12, 31)
CHILDREN_HEADER = (
    "child_id,name,sex,birth_date,id_number,hukou_code,residence_code,residence_since,"
    "is_migrant,is_left_behind,key_care,difficulty,dropout_risk,reasons"
)


@pytest.fixture
def ready(db: None, synthetic_county: Path, settings: Any, tmp_path: Path) -> Path:
    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    divisions_load(path=synthetic_county / "divisions.csv")
    return synthetic_county


def _run(feeds: Path, as_of: dt.date, out: Path, **options: Any) -> None:
    call_command("round_run", str(feeds), as_of=as_of.isoformat(), export=str(out), **options)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_a_round_writes_the_five_files_and_fills_the_ledger(ready: Path, tmp_path: Path) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "children.csv").read_text(encoding="utf-8").splitlines()[0] == CHILDREN_HEADER
    assert (out / "links.csv").read_text(encoding="utf-8").splitlines()[0] == (
        "source,record_key,child_id"
    )
    assert (out / "services.csv").read_text(encoding="utf-8").splitlines()[0] == (
        "child_id,service_code"
    )
    assert (out / "rejects.csv").read_text(encoding="utf-8").splitlines()[0] == (
        "source,file,sheet,row,record_key,reason"
    )
    children = _rows(out / "children.csv")
    links = _rows(out / "links.csv")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["children"] == len(children) == Child.objects.count()
    assert len(links) == ChildRecord.objects.count()
    assert sum(source["accepted"] for source in summary["sources"].values()) == len(links)
    assert {row["child_id"] for row in links} == {row["child_id"] for row in children}
    assert summary["migrants"] == Child.objects.filter(is_migrant=True).count() > 0
    assert {row["is_migrant"] for row in children} == {"0", "1"}
    migrant = next(row for row in children if row["is_migrant"] == "1")
    assert "流动儿童（§2）" in migrant["reasons"]
    assert any(item["file"].startswith("~$") for item in summary["skipped"])
    kept = Round.objects.get()
    assert kept.status == RoundStatus.DONE
    assert kept.as_of == AS_OF
    assert kept.county_id == "410402000000"
    assert kept.model_json
    assert AuditEntry.objects.filter(object_type="round", action="import").exists()


def test_running_the_same_folder_again_changes_nothing(ready: Path, tmp_path: Path) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "first")
    changes = ChildChange.objects.count()
    _run(ready / "feeds", AS_OF, tmp_path / "second")
    for name in ("links.csv", "children.csv", "services.csv", "rejects.csv"):
        first = (tmp_path / "first" / name).read_bytes()
        assert first == (tmp_path / "second" / name).read_bytes(), name
    assert Round.objects.count() == 1
    assert ChildChange.objects.count() == changes


def test_a_later_round_keeps_child_ids_and_records_what_changed(
    ready: Path, tmp_path: Path
) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "first")
    _run(ready / "feeds", LATER, tmp_path / "second")
    first = {
        (r["source"], r["record_key"]): r["child_id"]
        for r in _rows(tmp_path / "first" / "links.csv")
    }
    second = {
        (r["source"], r["record_key"]): r["child_id"]
        for r in _rows(tmp_path / "second" / "links.csv")
    }
    assert first == second
    later = Round.objects.get(as_of=LATER)
    assert later.summary["new_children"] == 0
    # Half a year on, children age: some cross the 6-month residence line or turn 16.
    changed = ChildChange.objects.filter(round=later, kind="changed")
    assert changed.filter(field="is_migrant").exists()
    assert not ChildChange.objects.filter(round=later, kind="found").exists()
    with pytest.raises(CommandError, match="基准日更晚"):
        _run(ready / "feeds", AS_OF, tmp_path / "third", engine="duckdb", profile="tianjin")


def test_a_round_that_fails_while_saving_leaves_the_previous_state(
    ready: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "first")
    before = {child.child_id: child.last_round_id for child in Child.objects.all()}
    records = ChildRecord.objects.count()
    real_load = round_services.load_results  # type: ignore[attr-defined]

    def load_then_fail(**kwargs: Any) -> Any:
        real_load(**kwargs)  # every row written, then the process dies
        raise KeyboardInterrupt

    monkeypatch.setattr(round_services, "load_results", load_then_fail)
    with pytest.raises(KeyboardInterrupt):
        _run(ready / "feeds", LATER, tmp_path / "second")
    assert list(Round.objects.values_list("as_of", flat=True)) == [AS_OF]
    assert {child.child_id: child.last_round_id for child in Child.objects.all()} == before
    assert ChildRecord.objects.count() == records
    assert not (tmp_path / "second" / "children.csv").exists()
    store = sorted(path.name for path in (tmp_path / "rounds").iterdir())
    assert store == [str(Round.objects.get().pk)]
    monkeypatch.undo()
    _run(ready / "feeds", LATER, tmp_path / "second")
    assert Round.objects.filter(status=RoundStatus.DONE).count() == 2


def test_a_correction_survives_a_later_round_unless_the_data_contradicts_it(
    ready: Path, tmp_path: Path
) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "first")
    staff = make_user("county", Role.COUNTY_STAFF, "410402000000")
    kept, disputed = Child.objects.exclude(name="").order_by("child_id")[:2]
    child_correct(
        user=staff, child_id=kept.child_id, field="name", value="更正甲", reason="户口本",
        version=kept.version,
    )  # fmt: skip
    correction = child_correct(
        user=staff, child_id=disputed.child_id, field="name", value="更正乙", reason="走访核实",
        version=disputed.version,
    )  # fmt: skip
    # As if the data had said something else when the correction was made: the round's
    # value now contradicts both what was corrected and the correction.
    Correction.objects.filter(pk=correction.pk).update(replaced_value="早先的名字")
    _run(ready / "feeds", LATER, tmp_path / "second")
    kept.refresh_from_db()
    disputed.refresh_from_db()
    assert kept.name == "更正甲"
    assert disputed.name != "更正乙"
    assert Correction.objects.get(pk=correction.pk).status == Correction.Status.CONFLICT
    task = VerificationTask.objects.get(child=disputed)
    assert "更正乙" in task.detail
    assert disputed.name in task.detail


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"as_of": "2025-02-30"}, "不是有效日期"),
        ({"as_of": "30/06/2025"}, "YYYY-MM-DD"),
        ({"as_of": "2099-01-01"}, "不能晚于今天"),
        ({"engine": "pandas"}, "--engine"),
        ({"profile": "nowhere"}, "找不到该配置文件"),
        ({"county": "41"}, "6位"),
    ],
)
def test_bad_options_are_refused_in_chinese(
    ready: Path, tmp_path: Path, arguments: dict[str, str], message: str
) -> None:
    options = {"as_of": AS_OF.isoformat(), "export": str(tmp_path / "out"), **arguments}
    with pytest.raises(CommandError, match=message):
        call_command("round_run", str(ready / "feeds"), **options)
    assert not Round.objects.exists()


def test_a_folder_without_feeds_is_refused(ready: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "说明.txt").write_text("无", encoding="utf-8")
    with pytest.raises(CommandError, match="没有可识别的数据文件"):
        _run(empty, AS_OF, tmp_path / "out")
    with pytest.raises(CommandError, match="不存在"):
        _run(tmp_path / "missing", AS_OF, tmp_path / "out")


def test_the_round_page_compares_with_the_previous_round_per_town(
    ready: Path, tmp_path: Path
) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "first")
    _run(ready / "feeds", LATER, tmp_path / "second")
    later = Round.objects.get(as_of=LATER)
    towns = round_comparison(round_=later)
    changed = ChildChange.objects.filter(round=later, kind="changed")
    assert sum(town.changed for town in towns) == changed.values("child").distinct().count()
    assert sum(town.found for town in towns) == 0
    assert all(town.code.startswith("410402") for town in towns)
    client = Client()
    client.force_login(make_user("county", Role.COUNTY_STAFF, "410402000000"))
    page = client.get(reverse("rounds:detail", args=[later.pk])).content.decode()
    assert "与上一轮比较" in page
    assert towns[0].name in page


def test_disagreeing_records_become_tasks_for_the_department_that_sent_them(
    ready: Path, tmp_path: Path
) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "out")
    tasks = VerificationTask.objects.exclude(record_source="")
    assert tasks.exists()
    assert set(tasks.values_list("department", flat=True)) <= {d.value for d in Department}
    task = tasks.first()
    assert task is not None
    assert SOURCE_DEPARTMENTS[task.record_source] == task.department
    assert task.record_key in task.detail
    other_department = next(d for d in Department if d != task.department)
    other = VerificationTask.objects.create(
        child=task.child, field="sex", department=other_department, detail="他部门的核实任务"
    )
    officer = make_user(
        "officer", Role.DEPARTMENT_OFFICER, "410402000000", department=task.department
    )
    client = Client()
    client.force_login(officer)
    inbox = client.get(reverse("children:tasks")).content.decode()
    assert task.detail in inbox
    assert other.detail not in inbox
    # Minimum necessary: the officer sees the dispute, not the child's file.
    assert client.get(reverse("children:detail", args=[task.child.child_id])).status_code == 404
    response = client.post(
        reverse("children:task_answer", args=[task.pk]), {"answer": "本部门系统已更正"}
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == VerificationTask.Status.DONE
    assert task.answered_by == officer
    refused = client.post(reverse("children:task_answer", args=[other.pk]), {"answer": "x"})
    assert refused.status_code == 404


def test_staff_decisions_are_obeyed_when_the_round_is_run_again(
    ready: Path, tmp_path: Path
) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "first")
    staff = make_user("county", Role.COUNTY_STAFF, "410402000000")
    links = {
        (r["source"], r["record_key"]): r["child_id"]
        for r in _rows(tmp_path / "first" / "links.csv")
    }
    # Two records the round put in different children (a pair the rules decided, kept as
    # evidence in the round's store, not queued) are one child...
    round_ = Round.objects.get(as_of=AS_OF)
    stored = pq.read_table(open_round_store(round_) / "review.parquet").to_pylist()
    pair = next(row for row in stored if row["child_id_l"] != row["child_id_r"])
    assert not pair["queued"]
    _decide_directly(staff, pair["record_id_l"], pair["record_id_r"], same=True)
    # ...and a child of two records without ID numbers is two children (a wrong merge).
    without_id = _records_of_a_child_without_ids(links)
    left, right = sorted(without_id)
    _decide_directly(staff, f"{left[0]}|{left[1]}", f"{right[0]}|{right[1]}", same=False)
    _run(ready / "feeds", AS_OF, tmp_path / "second")
    again = {
        (r["source"], r["record_key"]): r["child_id"]
        for r in _rows(tmp_path / "second" / "links.csv")
    }
    joined_l, joined_r = (
        record_id.split("|", 1) for record_id in (pair["record_id_l"], pair["record_id_r"])
    )
    assert again[joined_l[0], joined_l[1]] == again[joined_r[0], joined_r[1]]
    assert again[left] != again[right]


def _records_of_a_child_without_ids(links: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    with_ids = set(
        ChildRecord.objects.filter(values__has_key="id_number").values_list("source", "record_key")
    )
    by_child: dict[str, list[tuple[str, str]]] = {}
    for record, child in links.items():
        if record not in with_ids:
            by_child.setdefault(child, []).append(record)
    return next(records[:2] for records in by_child.values() if len(records) >= 2)


def _decide_directly(user: Any, record_l: str, record_r: str, *, same: bool) -> None:
    LinkDecision.objects.create(
        county_id="410402000000",
        record_id_l=min(record_l, record_r),
        record_id_r=max(record_l, record_r),
        same=same,
        decided_by=user,
    )


def test_a_corrected_stage_keeps_its_services_over_a_later_round(
    ready: Path, tmp_path: Path
) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "first")
    # Young enough to stay a migrant at the later date.
    child = Child.objects.filter(
        is_migrant=True, stage="初中", birth_date__gt=dt.date(2010, 12, 31)
    ).first()
    assert child is not None
    staff = make_user("county", Role.COUNTY_STAFF, "410402000000")
    child_correct(
        user=staff, child_id=child.child_id, field="stage", value="高中", reason="已升学",
        version=child.version,
    )  # fmt: skip
    _run(ready / "feeds", LATER, tmp_path / "second")
    child.refresh_from_db()
    assert child.stage == "高中"
    assert child.is_migrant
    assert "S04" in child.services
    assert "S03" not in child.services


def test_the_round_page_shows_how_much_review_remains(ready: Path, tmp_path: Path) -> None:
    _run(ready / "feeds", AS_OF, tmp_path / "out")
    round_ = Round.objects.get(as_of=AS_OF)
    staff = make_user("county", Role.COUNTY_STAFF, "410402000000")
    client = Client()
    client.force_login(staff)

    def page() -> str:
        return client.get(reverse("rounds:detail", args=[round_.pk])).content.decode()

    decided_by_rules = round_.summary["rule_decided_pairs"]
    assert decided_by_rules > 0
    assert f"另有 {decided_by_rules} 对记录由规则判定为不同儿童" in page()
    assert "本轮没有需要人工核实的记录对" in page()
    # An open question: one of the stored pairs put to people.
    stored = pq.read_table(open_round_store(round_) / "review.parquet").to_pylist()
    row = next(row for row in stored if row["child_id_l"] != row["child_id_r"])
    fields = ("record_id_l", "record_id_r", "child_id_l", "child_id_r", "match_probability")
    pair = ReviewPair.objects.create(
        round=round_, reason="uncertain", evidence=row["evidence"], **{f: row[f] for f in fields}
    )
    assert "还有 <strong>1</strong> 对记录待核实" in page()
    assert reverse("linkage:queue") in page()
    pair_decide(user=staff, pair_id=pair.pk, same=False)
    assert "本轮 1 对记录均已核实" in page()
    # A role that does not decide sees the results, not the queue.
    officer = Client()
    officer.force_login(
        make_user("officer", Role.DEPARTMENT_OFFICER, "410402000000", department="education")
    )
    seen = officer.get(reverse("rounds:detail", args=[round_.pk]))
    assert seen.status_code == 200
    assert "review-progress" not in seen.content.decode()
