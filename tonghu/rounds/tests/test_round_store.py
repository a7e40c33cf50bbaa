"""The ledger and the round store agree (issue 20, item 8): a round's stored results carry
the token its row holds, and whatever reads them (a visit's re-classification, the next
round, the export) refuses, in Chinese, results that are not the round's own.

Two databases sharing one TONGHU_VAR_DIR are simulated by another token written over the
round's folder (what the other database's round of the same id leaves there); a database
restored without its store, by the folder removed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.backup.services import stores
from tonghu.children.models import Child, ChildChange
from tonghu.conftest import make_user
from tonghu.divisions.services import divisions_load
from tonghu.rounds import services as round_services
from tonghu.rounds.models import Round
from tonghu.rounds.store import (
    STORE_FILE,
    RoundStoreError,
    open_round_store,
    round_store_file,
    round_store_ok,
    store_folder,
    store_mark,
    store_token_in,
    store_token_new,
)
from tonghu.visits.models import Visit
from tonghu.visits.services import VisitOutcome, visit_initial, visit_record

AS_OF = dt.date(2025, 6, 30)
LATER = dt.date(2025, 12, 31)
FOREIGN = "结果文件与数据库不一致"
MISSING = "结果文件缺失"
NOT_APPLIED = "走访记录已保存，但档案未按本次走访重新认定"


@pytest.fixture
def round_(db: None, synthetic_county: Path, settings: Any, tmp_path: Path) -> Round:
    """The synthetic county with one completed round (AS_OF)."""
    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    divisions_load(path=synthetic_county / "divisions.csv")
    _run(synthetic_county, AS_OF, tmp_path / "out")
    return Round.objects.get()


def _run(county: Path, as_of: dt.date, out: Path) -> None:
    call_command("round_run", str(county / "feeds"), as_of=as_of.isoformat(), export=str(out))


def _foreign(round_: Round) -> None:
    """What another database's round of the same id leaves in the shared store."""
    store_mark(store_folder(round_), round_id=round_.pk, token=store_token_new())


def _left_behind() -> Child:
    child = Child.objects.filter(is_left_behind=True, present=True).order_by("child_id").first()
    assert child is not None
    return child


def _director(child: Child) -> User:
    return make_user(
        f"director_{child.residence_division_id}", Role.CHILD_DIRECTOR, child.residence_division_id
    )


def _parents_home(child: Child) -> dict[str, Any]:
    """Findings that end the child's left-behind status through the rules."""
    findings: dict[str, Any] = {
        "father_status": "", "father_away_code": "", "father_away_since": None,
        "mother_status": "", "mother_away_code": "", "mother_away_since": None,
        "actual_guardian": "", "guardianship_type": "", "entrusted_carer": "",
        "lives_alone": False, "vagrant": False, "psych": False, "disabled": False,
        "hardship": False,
    }  # fmt: skip
    findings.update(visit_initial(child=child))
    findings.update(father_status="在家", mother_status="在家", father_away_code="",
                    mother_away_code="")  # fmt: skip
    return findings


def _visit(user: User, child: Child) -> VisitOutcome:
    return visit_record(
        user=user, child_id=child.child_id, token=uuid.uuid4(), findings=_parents_home(child),
        kind="home", visited_on=timezone.localdate(), note="",
        child_version=Child.objects.get(pk=child.pk).version,
    )  # fmt: skip


def _unchanged(child: Child) -> None:
    after = Child.objects.get(pk=child.pk)
    assert after.is_left_behind
    assert after.version == child.version
    assert not ChildChange.objects.filter(child=child, field="is_left_behind").exists()


def test_the_token_is_on_the_row_and_beside_the_results_and_goes_into_a_backup(
    round_: Round,
) -> None:
    folder = store_folder(round_)
    assert len(round_.store_token) == 32
    assert store_token_in(folder) == round_.store_token
    assert open_round_store(round_) == folder
    assert round_store_file(round_, "records").is_file()
    # A backup takes every file of the store's round folders: the token travels with them.
    assert (stores()["rounds"] / str(round_.pk) / STORE_FILE).is_file()
    assert not STORE_FILE.startswith(".")  # dot-files are work files, left out of backups


def test_a_visit_never_reclassifies_from_another_databases_results(round_: Round) -> None:
    child = _left_behind()
    user = _director(child)
    _foreign(round_)
    with pytest.raises(RoundStoreError, match=FOREIGN):
        open_round_store(round_)
    outcome = _visit(user, child)
    assert outcome.created
    assert FOREIGN in outcome.not_applied
    assert outcome.visit.file_changes == []
    assert Visit.objects.filter(child=child).count() == 1  # the visit itself is kept
    _unchanged(child)
    # The same findings with the round's own results in place do change the file.
    store_mark(store_folder(round_), round_id=round_.pk, token=round_.store_token)
    applied = _visit(user, child)
    assert applied.not_applied == ""
    assert "is_left_behind" in applied.visit.file_changes
    assert not Child.objects.get(pk=child.pk).is_left_behind


def test_the_visit_page_saves_and_says_why_the_file_was_not_updated(round_: Round) -> None:
    child = _left_behind()
    client = Client()
    client.force_login(_director(child))
    url = reverse("visits:new", args=[child.child_id])
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data.update(
        visited_on=data["visited_on"].isoformat(), kind="home", father_status="在家",
        mother_status="在家", father_away_code="", mother_away_code="",
    )  # fmt: skip
    _foreign(round_)
    saved = client.post(url, data, follow=True)
    assert saved.status_code == 200
    page = saved.content.decode()
    assert NOT_APPLIED in page
    assert FOREIGN in page
    assert "已保存入户走访" in page
    _unchanged(child)


def test_a_database_restored_without_its_store_refuses_and_keeps_serving_the_ledger(
    round_: Round, synthetic_county: Path, tmp_path: Path
) -> None:
    child = _left_behind()
    shutil.rmtree(store_folder(round_))
    assert not round_store_ok(round_)
    outcome = _visit(_director(child), child)
    assert MISSING in outcome.not_applied
    _unchanged(child)  # not classified from the visit alone either
    # The next round, which builds on this one's results, is refused in Chinese.
    with pytest.raises(CommandError, match=MISSING):
        _run(synthetic_county, LATER, tmp_path / "later")
    assert not Round.objects.filter(as_of=LATER).exists()
    # The review queue reads the ledger only (its pairs were loaded with the round).
    client = Client()
    client.force_login(make_user("county", Role.COUNTY_STAFF, round_.county_id))
    assert client.get(reverse("linkage:queue")).status_code == 200


def test_the_next_round_and_the_export_use_only_the_rounds_own_results(
    round_: Round, synthetic_county: Path, tmp_path: Path
) -> None:
    first = (tmp_path / "out" / "children.csv").read_bytes()
    _foreign(round_)
    with pytest.raises(CommandError, match=FOREIGN):
        _run(synthetic_county, LATER, tmp_path / "later")
    # The same round again: the results in the store are not its own, so it is run again
    # (not exported from them) and its own results replace them.
    again = round_services.round_run(
        feeds_dir=synthetic_county / "feeds", as_of=AS_OF, export_dir=tmp_path / "again"
    )
    assert not again.unchanged
    round_.refresh_from_db()
    assert store_token_in(store_folder(round_)) == round_.store_token
    assert (tmp_path / "again" / "children.csv").read_bytes() == first
    # Now it is its own: a third run changes nothing and exports from the store.
    third = round_services.round_run(
        feeds_dir=synthetic_county / "feeds", as_of=AS_OF, export_dir=tmp_path / "third"
    )
    assert third.unchanged


def test_a_round_kept_before_tokens_is_recognised_by_its_summary(round_: Round) -> None:
    folder = store_folder(round_)
    (folder / STORE_FILE).unlink()
    Round.objects.filter(pk=round_.pk).update(store_token="")
    legacy = Round.objects.get(pk=round_.pk)
    assert open_round_store(legacy) == folder
    # Another run's summary (its step timings differ) names other results.
    other = Round.objects.get(pk=round_.pk)
    other.summary = {**other.summary, "timings": {"ingest": -1.0}}
    with pytest.raises(RoundStoreError, match=FOREIGN):
        open_round_store(other)
    # A folder with a token is a newer round's, never a round's kept without one.
    _foreign(round_)
    with pytest.raises(RoundStoreError, match=FOREIGN):
        open_round_store(legacy)
