"""A package that was changed, replayed, sent to another county or signed by an unknown
county is refused with a Chinese reason, and nothing of it is imported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from tonghu.audit.models import AuditEntry
from tonghu.exchange import keys as key_store
from tonghu.exchange.packages import CountyKeys, PackageError, build, new_header
from tonghu.exchange.services import migrants_export, package_import
from tonghu.exchange.tests.conftest import HUKOU, OTHER, RESIDENCE, Counties, imported_counts


def exported(tmp_path: Path) -> Path:
    return migrants_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path / "out").path


def refused(path: Path, *, county: str = HUKOU) -> str:
    """The refusal's message; asserts that nothing was imported."""
    before = imported_counts()
    with pytest.raises(PackageError) as caught:
        package_import(path=path, county=county)
    assert imported_counts() == before
    return str(caught.value)


def flipped(path: Path, offset: int, out: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def line_offsets(path: Path) -> list[int]:
    """Where each of the four lines starts."""
    data = path.read_bytes()
    starts = [0]
    for index, byte in enumerate(data[:-1]):
        if byte == ord("\n"):
            starts.append(index + 1)
    assert len(starts) == 4
    return starts


def test_the_package_imports_when_untouched(counties: Counties, tmp_path: Path) -> None:
    imported = package_import(path=exported(tmp_path), county=HUKOU)
    assert imported.package.rows == 3
    assert imported_counts()[:2] == (1, 3)


def test_a_flipped_byte_of_the_header_is_refused(counties: Counties, tmp_path: Path) -> None:
    path = exported(tmp_path)
    header_start = line_offsets(path)[1]
    text = path.read_bytes()
    # A digit of the created_at time: the header still parses, the signature fails.
    at = text.index(b'"created_at":"', header_start) + len(b'"created_at":"') + 3
    message = refused(flipped(path, at, tmp_path / "header.tonghu"))
    assert "签名无效" in message


def test_a_flipped_byte_of_the_ciphertext_is_refused(counties: Counties, tmp_path: Path) -> None:
    path = exported(tmp_path)
    start, end = line_offsets(path)[2:4]
    for offset in range(start, end - 1, max(1, (end - start) // 20)):
        message = refused(flipped(path, offset, tmp_path / "cipher.tonghu"))
        assert "签名无效" in message


def test_a_flipped_byte_of_the_signature_is_refused(counties: Counties, tmp_path: Path) -> None:
    path = exported(tmp_path)
    start = line_offsets(path)[3]
    for offset in range(start, len(path.read_bytes()) - 1, 7):
        message = refused(flipped(path, offset, tmp_path / "sig.tonghu"))
        assert "签名无效" in message


def test_every_flipped_byte_is_refused(counties: Counties, tmp_path: Path) -> None:
    """Whatever the byte (layout, header, ciphertext, signature), the package is refused."""
    path = exported(tmp_path)
    size = len(path.read_bytes())
    for offset in range(0, size, max(1, size // 60)):
        refused(flipped(path, offset, tmp_path / "any.tonghu"))
    refused(flipped(path, size - 2, tmp_path / "last.tonghu"))


def test_a_truncated_or_extended_package_is_refused(counties: Counties, tmp_path: Path) -> None:
    path = exported(tmp_path)
    data = path.read_bytes()
    (tmp_path / "short.tonghu").write_bytes(data[:-20])
    (tmp_path / "long.tonghu").write_bytes(data + b"extra\n")
    assert "签名" in refused(tmp_path / "short.tonghu")
    assert "格式错误" in refused(tmp_path / "long.tonghu")


def test_a_replayed_package_is_refused(counties: Counties, tmp_path: Path) -> None:
    path = exported(tmp_path)
    package_import(path=path, county=HUKOU)
    message = refused(path)
    assert "已于" in message
    assert "不能重复导入" in message


def test_a_new_package_reusing_a_sequence_number_is_refused(
    counties: Counties, tmp_path: Path
) -> None:
    """Signed by the real sender but with a sequence already imported: replay or a sender
    whose state went back (a restored backup); refused either way."""
    package_import(path=exported(tmp_path), county=HUKOU)
    again = new_header(
        kind="migrants", sender=RESIDENCE, recipient=HUKOU, sequence=1, created_at=timezone.now()
    )
    data = build(
        header=again,
        rows=[],
        sender=key_store.keys_load(RESIDENCE),
        recipient=key_store.registry_load()[HUKOU],
    )
    (tmp_path / "again.tonghu").write_bytes(data)
    assert "序号重复" in refused(tmp_path / "again.tonghu")


def test_a_misaddressed_package_is_refused(counties: Counties, tmp_path: Path) -> None:
    """A package for 中原区 brought to 卫东区: refused before anything is decrypted."""
    path = migrants_export(county=RESIDENCE, recipient=OTHER, out_dir=tmp_path / "out").path
    message = refused(path, county=HUKOU)
    assert f"是发给 {OTHER} 的" in message
    assert f"不是本县（{HUKOU}）" in message


def test_an_unknown_sender_is_refused(counties: Counties, tmp_path: Path) -> None:
    stranger = CountyKeys.generate("410181")  # not in the registry
    header = new_header(
        kind="migrants", sender="410181", recipient=HUKOU, sequence=1, created_at=timezone.now()
    )
    data = build(
        header=header,
        rows=[],
        sender=stranger,
        recipient=key_store.registry_load()[HUKOU],
    )
    (tmp_path / "stranger.tonghu").write_bytes(data)
    message = refused(tmp_path / "stranger.tonghu")
    assert "410181 不在本县的公钥登记表中" in message


def test_a_registered_sender_impersonated_is_refused(counties: Counties, tmp_path: Path) -> None:
    """Someone else's key naming 新华区 as the sender: the registry's key does not verify."""
    impostor = CountyKeys.generate(RESIDENCE)
    header = new_header(
        kind="migrants",
        sender=RESIDENCE,
        recipient=HUKOU,
        sequence=1,
        created_at=timezone.now(),
    )
    data = build(
        header=header, rows=[], sender=impostor, recipient=key_store.registry_load()[HUKOU]
    )
    (tmp_path / "impostor.tonghu").write_bytes(data)
    assert "签名无效" in refused(tmp_path / "impostor.tonghu")


def test_not_a_package_is_refused(counties: Counties, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("姓名,身份证号\n", encoding="utf-8")
    assert "不是童护交换包" in refused(tmp_path / "notes.txt")


def test_a_refusal_is_audited_without_personal_data(counties: Counties, tmp_path: Path) -> None:
    path = exported(tmp_path)
    bad = flipped(path, line_offsets(path)[2] + 5, tmp_path / "bad.tonghu")
    refused(bad)
    entry = AuditEntry.objects.filter(object_type="exchange_package").first()
    assert entry is not None
    assert entry.detail.startswith("拒绝导入交换包 bad.tonghu：签名无效")
    assert counties.first.name not in entry.detail


def test_the_importing_user_decides_the_county(counties: Counties, tmp_path: Path) -> None:
    """A 新华区 officer cannot import 卫东区's mail, nor act for another county."""
    path = exported(tmp_path)
    before = imported_counts()
    with pytest.raises(PackageError, match="不是本县（410402）"):
        package_import(path=path, acting_user=counties.residence_staff)
    with pytest.raises(PackageError, match="只能以本县（410402）的名义"):
        package_import(path=path, acting_user=counties.residence_staff, county=HUKOU)
    assert imported_counts() == before
    imported = package_import(path=path, acting_user=counties.hukou_staff)
    assert imported.package.handled_by == counties.hukou_staff


def test_keys_are_private_files_outside_the_database(counties: Counties) -> None:
    path = key_store.key_path(RESIDENCE)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o077 == 0
    with pytest.raises(PackageError, match="交换密钥已存在"):
        key_store.keys_create(RESIDENCE)


def test_the_clock_of_the_header_is_aware(counties: Counties, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aware"):
        new_header(
            kind="migrants",
            sender=RESIDENCE,
            recipient=HUKOU,
            sequence=1,
            created_at=dt.datetime(2026, 1, 1),  # noqa: DTZ001  (the point of the test)
        )
