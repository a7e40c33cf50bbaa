"""End to end between two counties with two real databases and two sets of keys.

新华区 (410402, where the children live) is this test process and its test database (SQLite
or PostgreSQL, whichever the run uses). 卫东区 (410403, their hukou county) is another process
per step: ``python -m tonghu ...`` with ``DATABASE_URL=sqlite:////<tmp>/b.sqlite3`` and its own
``TONGHU_VAR_DIR``/``TONGHU_KEY_DIR``, so its field keys, blind-index key and exchange keys are
its own. The only things that pass between them are the public-key files and the packages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import World
from tonghu.exchange.models import CertifyRequest, ExchangeRecord
from tonghu.exchange.selectors import overdue_q
from tonghu.exchange.services import (
    certify_request_send,
    exchange_keygen,
    migrants_export,
    package_import,
    registry_trust,
)
from tonghu.exchange.tests import county_b
from tonghu.exchange.tests.conftest import HUKOU, ID_FIRST, ID_THIRD, RESIDENCE, migrant
from tonghu.policy import load_profile

TIMEOUT = 600


def hukou_county(folder: Path, *args: str) -> str:
    """Run ``tonghu ARGS`` as 卫东区: its own database and key folder. Returns stdout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TONGHU_FIELD_KEYS", "TONGHU_INDEX_KEY", "TONGHU_EXCHANGE_REGISTRY"}
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{folder / 'b.sqlite3'}",
        "TONGHU_VAR_DIR": str(folder),
        "TONGHU_KEY_DIR": str(folder / "keys"),
        "TONGHU_FEED_DIR": str(folder / "feeds"),
        "TONGHU_ROUND_DIR": str(folder / "rounds"),
    }
    done = subprocess.run(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, "-m", "tonghu", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"tonghu {args[:2]} failed:\n{done.stderr[-3000:]}"
    return done.stdout


@dataclass
class Residence:
    """新华区: this process, its database and three migrant children from 卫东区."""

    staff: User
    first: Child
    second: Child
    third: Child
    out: Path


def test_two_county_databases_exchange_end_to_end(world: World, tmp_path: Path) -> None:
    b = tmp_path / "county_b"
    b.mkdir()
    a = Residence(
        staff=world.users[Role.COUNTY_STAFF],
        first=migrant("41040200000001", name="测试甲", sex="男", birth_date=dt.date(2015, 3, 2),
                      id_number=ID_FIRST),
        second=migrant("41040200000002", name="测试乙", sex="女", birth_date=dt.date(2016, 5, 20)),
        third=migrant("41040200000003", name="测试丙", sex="男", birth_date=dt.date(2016, 9, 11),
                      id_number=ID_THIRD),
        out=tmp_path / "a_out",
    )  # fmt: skip
    # 卫东区's database: schema and its own ledger (another process, another database file).
    hukou_county(
        b, "shell", "-c",
        "from django.core.management import call_command; call_command('migrate', verbosity=0); "
        f"from tonghu.exchange.tests.county_b import seed; seed(first_id_number='{ID_FIRST}')",
    )  # fmt: skip
    exchange_public_keys(a, b, tmp_path)
    exchange_migrants_and_statuses(a, b)
    certify_round_trip(a, b)


def exchange_public_keys(a: Residence, b: Path, tmp_path: Path) -> None:
    """Each county makes its own keys and registers the other's public key."""
    b_entry = tmp_path / "b_public.json"
    b_entry.write_text(hukou_county(b, "exchange", "keygen", "--county", HUKOU), "utf-8")
    a_entry = tmp_path / "a_public.json"
    a_entry.write_text(json.dumps(exchange_keygen(county=RESIDENCE).to_json()), "utf-8")
    assert [entry.county for entry in registry_trust(path=b_entry)] == [HUKOU]
    assert "已登记" in hukou_county(b, "exchange", "trust", str(a_entry))
    assert not (b / "keys" / "exchange" / f"{RESIDENCE}.key").exists()  # only public keys move


def exchange_migrants_and_statuses(a: Residence, b: Path) -> None:
    """新华区 sends its migrants from 卫东区; 卫东区 links them in its own ledger and answers
    with its statuses; 新华区's child file then shows them."""
    migrants = migrants_export(recipient=HUKOU, out_dir=a.out, acting_user=a.staff)
    assert migrants.package.rows == 3
    out = hukou_county(b, "exchange", "import", str(migrants.path), "--county", HUKOU)
    linked = "关联到本县台账 2 名（按身份证号 1 名，按姓名、出生日期和性别 1 名），未能关联 1 名"
    assert linked in out
    assert a.first.name not in out
    assert ID_FIRST not in out

    hukou_county(
        b, "exchange", "statuses", "--for", RESIDENCE, "--out", str(b / "out"),
        "--user", county_b.STAFF,
    )  # fmt: skip
    (statuses,) = (b / "out").glob("*-hukou_status.tonghu")
    imported = package_import(path=statuses, acting_user=a.staff)
    assert f"{a.first.child_id}：户籍地新报 孤儿" in imported.lines
    assert f"{a.second.child_id}：户籍地新报 事实无人抚养" in imported.lines
    assert "本县发出的名单中有 1 名儿童户籍地未能找到" in imported.lines
    record = ExchangeRecord.objects.get(child=a.first)
    assert record.remote_child_id == county_b.FIRST_ID
    assert record.values["since"] == {"orphan": "2021-03-01"}
    assert not ExchangeRecord.objects.filter(child=a.third).exists()

    client = Client()
    client.force_login(a.staff)
    page = client.get(reverse("children:detail", args=[a.first.child_id])).content.decode()
    assert "居住地与户籍地信息交换" in page
    assert "孤儿" in page
    assert county_b.FIRST_ID in page


def certify_round_trip(a: Residence, b: Path) -> None:
    """跨省通办: two requests; one answered, the other left to run past its due date."""
    days = load_profile().exchange.certify_within_days
    answered, sent_one = certify_request_send(
        acting_user=a.staff, child_id=a.second.child_id, subject="fuc", out_dir=a.out
    )
    late, sent_two = certify_request_send(
        acting_user=a.staff, child_id=a.first.child_id, subject="orphan", out_dir=a.out
    )
    assert answered.due_on == clock.today() + dt.timedelta(days=days)
    assert late.remote_child_id == county_b.FIRST_ID  # known from the statuses answer
    out = hukou_county(
        b, "exchange", "import", str(sent_one.path), str(sent_two.path), "--user", county_b.STAFF
    )
    assert f"核实请求 {answered.request_id}：事实无人抚养儿童，本县儿童 {county_b.SECOND_ID}" in out
    assert f"核实请求 {late.request_id}：孤儿，本县儿童 {county_b.FIRST_ID}" in out
    hukou_county(
        b, "exchange", "answer", "--user", county_b.STAFF, "--request", str(answered.request_id),
        "--yes", "--reference", "卫民证〔2026〕12号", "--out", str(b / "answers"),
    )  # fmt: skip
    after_due = late.due_on + dt.timedelta(days=1)
    overdue_there = hukou_county(
        b, "exchange", "requests", "--county", HUKOU, "--overdue", "--today", after_due.isoformat()
    )
    assert str(late.request_id) in overdue_there
    assert "已逾期" in overdue_there
    assert str(answered.request_id) not in overdue_there

    (answer,) = (b / "answers").glob("*-certify_answer.tonghu")
    back = package_import(path=answer, acting_user=a.staff)
    assert any("属实，文号 卫民证〔2026〕12号" in line for line in back.lines)
    answered.refresh_from_db()
    assert answered.status == CertifyRequest.Status.ANSWERED
    assert answered.certified is True
    assert answered.remote_child_id == county_b.SECOND_ID
    assert list(CertifyRequest.objects.filter(overdue_q(after_due))) == [late]
    client = Client()
    client.force_login(a.staff)
    page = client.get(reverse("children:detail", args=[a.second.child_id])).content.decode()
    assert "已答复" in page
    assert "卫民证〔2026〕12号" in page
