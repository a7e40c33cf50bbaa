"""The package format on its own (no database): layout, round trip, refusals by version."""

from __future__ import annotations

import base64
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from tonghu.exchange.packages import (
    MAGIC,
    CountyKeys,
    PackageError,
    PublicEntry,
    build,
    decrypt,
    frame,
    new_header,
    registry_parse,
    registry_text,
    verify,
)

AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROWS = [{"child_id": "41040200000001", "name": "测试甲", "id_number": "410403201503020010"}]


def _pair() -> tuple[CountyKeys, CountyKeys, dict[str, PublicEntry]]:
    sender, recipient = CountyKeys.generate("410402"), CountyKeys.generate("410403")
    registry = {keys.county: keys.public() for keys in (sender, recipient)}
    return sender, recipient, registry


def test_a_package_is_four_lines_with_the_header_in_clear() -> None:
    sender, recipient, registry = _pair()
    header = new_header(
        kind="migrants", sender="410402", recipient="410403", sequence=7, created_at=AT
    )
    data = build(header=header, rows=ROWS, sender=sender, recipient=registry["410403"])
    lines = data.split(b"\n")
    assert lines[0] == MAGIC
    assert len(lines) == 5
    assert lines[4] == b""
    shown = json.loads(lines[1])
    assert shown == {
        "format_version": 1,
        "package_id": header.package_id,
        "kind": "migrants",
        "sender": "410402",
        "recipient": "410403",
        "created_at": "2026-11-23T09:00:00+08:00",
        "sequence": 7,
    }
    assert "测试甲".encode() not in data
    assert b"410403201503020010" not in data
    assert len(base64.b64decode(lines[3])) == 64  # an Ed25519 signature

    framed = frame(data)
    opened = decrypt(framed, sender=verify(framed, registry=registry), own=recipient)
    assert opened.rows == ROWS
    assert opened.header == header


def test_only_the_recipient_can_open_it() -> None:
    sender, _, registry = _pair()
    intruder = CountyKeys.generate("410403")  # claims to be the recipient, wrong private key
    header = new_header(
        kind="migrants", sender="410402", recipient="410403", sequence=1, created_at=AT
    )
    framed = frame(build(header=header, rows=ROWS, sender=sender, recipient=registry["410403"]))
    with pytest.raises(PackageError, match="无法解密"):
        decrypt(framed, sender=verify(framed, registry=registry), own=intruder)


def test_a_newer_format_version_is_refused_by_name() -> None:
    sender, _, registry = _pair()
    header = new_header(
        kind="migrants", sender="410402", recipient="410403", sequence=1, created_at=AT
    )
    data = build(header=header, rows=[], sender=sender, recipient=registry["410403"])
    newer = data.replace(b'"format_version":1', b'"format_version":2', 1)
    with pytest.raises(PackageError, match="格式版本 2 不受支持"):
        frame(newer)


def test_the_registry_round_trips_and_refuses_bad_entries() -> None:
    _, _, registry = _pair()
    assert registry_parse(registry_text(registry.values())).keys() == registry.keys()
    entry = registry["410402"].to_json()
    with pytest.raises(PackageError, match="出现了两次"):
        registry_parse(json.dumps({"counties": [entry, entry]}))
    short = {**entry, "box_key": base64.b64encode(b"x" * 8).decode()}
    with pytest.raises(PackageError, match="应为32字节"):
        registry_parse(json.dumps({"counties": [short]}))
    with pytest.raises(PackageError, match="6位县级区划代码"):
        registry_parse(json.dumps({"counties": [{**entry, "county": "41"}]}))
