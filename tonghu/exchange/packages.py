"""The exchange package: one file a county sends another, signed and encrypted (no Django here).

A package is UTF-8 text of exactly four lines, each ending in a newline::

    TONGHU-EXCHANGE 1
    {"created_at":"2026-11-22T19:30:00+08:00","format_version":1,"kind":"migrants",...}
    <base64 of the encrypted payload>
    <base64 of the Ed25519 signature>

- Line 2, the header, is in clear: format version, package id (UUID), kind, sender and
  recipient county (6-digit codes), when it was made (aware ISO 8601) and the sender's
  sequence number for that recipient (1, 2, 3 ...).
- Line 3 is the payload, JSON lines (a meta line repeating the package id and kind, then one
  row per line) compressed with zlib and encrypted with ``nacl.public.Box(sender's X25519
  private key, recipient's X25519 public key)``: authenticated encryption, so only the
  recipient can read it and it opens only with the named sender's public key.
- Line 4 is the sender's Ed25519 signature over the exact bytes of lines 1 to 3, newlines
  included. Any changed byte of the first line, the header or the ciphertext breaks it, and so
  does any changed byte of the signature itself.

Opening a package checks, in this order: the layout, the header, that the sender is in the
registry of public keys, the signature with the registry's key, that the recipient is the
opening county, then decrypts and checks that the payload repeats the header's id and kind.
Every refusal is a ``PackageError`` with a Chinese message; nothing is trusted before the
signature has been verified except what is needed to find the sender's key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import Box, PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

MAGIC = b"TONGHU-EXCHANGE 1"
FORMAT_VERSION = 1
MAX_PACKAGE_BYTES = 1 << 30  # a package larger than this is refused unread
MAX_PAYLOAD_BYTES = 1 << 30  # nor may its payload unpack to more (a zlib bomb)
KINDS = {
    "migrants": "流动儿童名单（居住地→户籍地）",
    "hukou_status": "户籍地保障状态（户籍地→居住地）",
    "certify_request": "跨省通办核实请求（居住地→户籍地）",
    "certify_answer": "跨省通办核实答复（户籍地→居住地）",
    "figures": "监测统计报送（区县→市、省）",
}
HEADER_KEYS = frozenset(
    {"format_version", "package_id", "kind", "sender", "recipient", "created_at", "sequence"}
)
_COUNTY = re.compile(r"\d{6}")
_KEY_BYTES = 32


class PackageError(ValueError):
    """A package (or key, or registry) that cannot be used; the message says why, in Chinese."""


def package_uuid(text: str) -> uuid.UUID:
    """A package's or request's id, refused in Chinese when it is not a UUID."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise PackageError(f"编号 {text!r} 不是有效的 UUID") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str | bytes, *, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PackageError(f"{what}不是有效的 Base64 编码") from None


def _county(value: object, *, what: str) -> str:
    if not isinstance(value, str) or not _COUNTY.fullmatch(value):
        raise PackageError(f"{what}应为6位县级区划代码，实为 {value!r}")
    return value


# --- keys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicEntry:
    """One county of the registry: its name and its two public keys."""

    county: str
    name: str
    signing_key: VerifyKey  # Ed25519: verifies the county's packages
    box_key: PublicKey  # X25519: packages to the county are encrypted to it

    def to_json(self) -> dict[str, str]:
        return {
            "county": self.county,
            "name": self.name,
            "signing_key": _b64(bytes(self.signing_key)),
            "box_key": _b64(bytes(self.box_key)),
        }

    @classmethod
    def from_json(cls, data: object, *, where: str = "") -> PublicEntry:
        at = f"{where}：" if where else ""
        if not isinstance(data, Mapping):
            raise PackageError(f"{at}每个县应为一个对象（county、name、signing_key、box_key）")
        missing = [key for key in ("county", "signing_key", "box_key") if key not in data]
        if missing:
            raise PackageError(f"{at}缺少 {'、'.join(missing)}")
        county = _county(data["county"], what=f"{at}county ")
        name = data.get("name", "")
        if not isinstance(name, str):
            raise PackageError(f"{at}name 应为文字")
        keys = []
        for key in ("signing_key", "box_key"):
            raw = data[key]
            if not isinstance(raw, str):
                raise PackageError(f"{at}{key} 应为 Base64 文字")
            value = _unb64(raw, what=f"{at}{key} ")
            if len(value) != _KEY_BYTES:
                raise PackageError(f"{at}{key} 应为32字节的公钥，实为 {len(value)} 字节")
            keys.append(value)
        return cls(county, name, VerifyKey(keys[0]), PublicKey(keys[1]))


@dataclass(frozen=True)
class CountyKeys:
    """A county's private keys (kept in a file outside the database, mode 0600)."""

    county: str
    signing_key: SigningKey
    box_key: PrivateKey

    @classmethod
    def generate(cls, county: str) -> CountyKeys:
        return cls(
            _county(county, what="县级区划代码"), SigningKey.generate(), PrivateKey.generate()
        )

    def public(self, name: str = "") -> PublicEntry:
        return PublicEntry(self.county, name, self.signing_key.verify_key, self.box_key.public_key)

    def to_json(self) -> dict[str, str]:
        return {
            "county": self.county,
            "signing_key": _b64(bytes(self.signing_key)),
            "box_key": _b64(bytes(self.box_key)),
        }

    @classmethod
    def from_json(cls, data: object) -> CountyKeys:
        if not isinstance(data, Mapping) or not {"county", "signing_key", "box_key"} <= set(data):
            raise PackageError("交换密钥文件格式错误（应含 county、signing_key、box_key）")
        county = _county(data["county"], what="密钥文件的 county ")
        seeds = [
            _unb64(str(data[key]), what=f"密钥文件的 {key} ") for key in ("signing_key", "box_key")
        ]
        if any(len(seed) != _KEY_BYTES for seed in seeds):
            raise PackageError("交换密钥文件中的密钥长度不对（应为32字节）")
        return cls(county, SigningKey(seeds[0]), PrivateKey(seeds[1]))


def registry_parse(text: str) -> dict[str, PublicEntry]:
    """The registry file (JSON ``{"counties": [entry, ...]}``) as county code -> entry."""
    try:
        data = json.loads(text)
    except ValueError:
        raise PackageError("公钥登记表不是有效的 JSON") from None
    entries = data.get("counties") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise PackageError('公钥登记表应为 {"counties": [...]}')
    found: dict[str, PublicEntry] = {}
    for number, item in enumerate(entries, start=1):
        entry = PublicEntry.from_json(item, where=f"公钥登记表第 {number} 项")
        if entry.county in found:
            raise PackageError(f"公钥登记表中县 {entry.county} 出现了两次")
        found[entry.county] = entry
    return found


def registry_text(entries: Iterable[PublicEntry]) -> str:
    ordered = sorted(entries, key=lambda entry: entry.county)
    document = {"format": "tonghu-exchange-registry", "counties": [e.to_json() for e in ordered]}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# --- packages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    package_id: str
    kind: str
    sender: str
    recipient: str
    created_at: dt.datetime
    sequence: int
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "package_id": self.package_id,
            "kind": self.kind,
            "sender": self.sender,
            "recipient": self.recipient,
            "created_at": self.created_at.isoformat(),
            "sequence": self.sequence,
        }

    @classmethod
    def from_json(cls, data: object) -> Header:
        if not isinstance(data, dict):
            raise PackageError("交换包包头格式错误")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise PackageError(
                f"交换包格式版本 {version!r} 不受支持（本系统支持版本 {FORMAT_VERSION}）"
            )
        if set(data) != HEADER_KEYS:
            raise PackageError("交换包包头内容不完整或有多余的项")
        try:
            package_id = str(uuid.UUID(str(data["package_id"])))
        except ValueError:
            raise PackageError("交换包编号不是有效的 UUID") from None
        kind = data["kind"]
        if kind not in KINDS:
            raise PackageError(f"不认识的交换包类型 {kind!r}")
        try:
            created_at = dt.datetime.fromisoformat(str(data["created_at"]))
        except ValueError:
            raise PackageError("交换包的生成时间格式错误") from None
        if created_at.tzinfo is None:
            raise PackageError("交换包的生成时间缺少时区")
        sequence = data["sequence"]
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise PackageError("交换包序号应为正整数")
        return cls(
            package_id=package_id,
            kind=kind,
            sender=_county(data["sender"], what="发送县"),
            recipient=_county(data["recipient"], what="接收县"),
            created_at=created_at,
            sequence=sequence,
        )


@dataclass(frozen=True)
class Opened:
    """A verified, decrypted package."""

    header: Header
    meta: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Framed:
    """A package split into its parts, the header parsed but nothing verified yet."""

    header: Header
    signed: bytes  # the exact bytes the signature covers
    ciphertext_line: bytes  # Base64, decoded only once the signature has been verified
    signature: bytes


def new_header(
    *, kind: str, sender: str, recipient: str, sequence: int, created_at: dt.datetime
) -> Header:
    if created_at.tzinfo is None:
        raise ValueError("created_at must be aware")
    return Header(
        package_id=str(uuid.uuid4()),
        kind=kind,
        sender=sender,
        recipient=recipient,
        created_at=created_at,
        sequence=sequence,
    )


def build(
    *,
    header: Header,
    rows: Iterable[Mapping[str, Any]],
    sender: CountyKeys,
    recipient: PublicEntry,
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """The package file's bytes: ``rows`` encrypted to ``recipient`` and signed by ``sender``."""
    if sender.county != header.sender or recipient.county != header.recipient:
        raise ValueError("the keys do not belong to the header's counties")
    rows = list(rows)
    first = {**(meta or {}), "package_id": header.package_id, "kind": header.kind}
    first["rows"] = len(rows)
    lines = [_json_line(first), *(_json_line(row) for row in rows)]
    plain = zlib.compress(("\n".join(lines) + "\n").encode("utf-8"), level=6)
    ciphertext = bytes(Box(sender.box_key, recipient.box_key).encrypt(plain))
    header_line = _json_line(header.to_json()).encode("utf-8")
    signed = MAGIC + b"\n" + header_line + b"\n" + _b64(ciphertext).encode("ascii") + b"\n"
    signature = sender.signing_key.sign(signed).signature
    return signed + _b64(signature).encode("ascii") + b"\n"


def _json_line(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def frame(data: bytes) -> Framed:
    """The parts of a package file and its parsed header (not yet verified)."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageError("交换包文件过大，拒绝读取")
    if not data.startswith(MAGIC + b"\n"):
        raise PackageError("不是童护交换包（文件开头的标识不符）")
    lines = data.split(b"\n")
    if len(lines) != 5 or lines[4] != b"":
        raise PackageError("交换包格式错误：应恰好有四行（标识、包头、密文、签名）")
    _, header_line, cipher_line, signature_line, _ = lines
    try:
        header_data = json.loads(header_line.decode("utf-8"))
    except ValueError:
        raise PackageError("交换包包头无法读取（不是有效的 JSON）") from None
    header = Header.from_json(header_data)
    signed = data[: len(data) - len(signature_line) - 1]
    try:
        signature = base64.b64decode(signature_line, validate=True)
    except (binascii.Error, ValueError):
        raise PackageError("签名无效：交换包的签名已损坏") from None
    return Framed(header, signed, cipher_line, signature)


def verify(framed: Framed, *, registry: Mapping[str, PublicEntry]) -> PublicEntry:
    """The sender's registry entry, once the signature has been verified with its key."""
    sender = registry.get(framed.header.sender)
    if sender is None:
        raise PackageError(
            f"发送县 {framed.header.sender} 不在本县的公钥登记表中，不能导入"
            "（请先核实并登记该县的公钥）"
        )
    try:
        sender.signing_key.verify(framed.signed, framed.signature)
    except (BadSignatureError, ValueError, TypeError):
        raise PackageError(
            f"签名无效：交换包在发出后被改动过，或不是由发送县 {sender.county} 签发的"
        ) from None
    return sender


def decrypt(framed: Framed, *, sender: PublicEntry, own: CountyKeys) -> Opened:
    """The payload of a verified package addressed to ``own.county``."""
    header = framed.header
    if header.recipient != own.county:
        raise PackageError(
            f"该交换包是发给 {header.recipient} 的，不是本县（{own.county}），不能导入"
        )
    ciphertext = _unb64(framed.ciphertext_line, what="交换包密文")
    try:
        packed = Box(own.box_key, sender.box_key).decrypt(ciphertext)
    except (CryptoError, ValueError):
        raise PackageError("无法解密交换包：发送县登记的加密公钥或本县的私钥不匹配") from None
    try:
        unpacker = zlib.decompressobj()
        plain = unpacker.decompress(packed, MAX_PAYLOAD_BYTES)
        if unpacker.unconsumed_tail:
            raise PackageError("交换包内容解压后过大，拒绝导入")
        lines = plain.decode("utf-8").splitlines()
        parsed = [json.loads(line) for line in lines if line]
    except (zlib.error, UnicodeDecodeError, ValueError):
        raise PackageError("交换包内容无法读取（不是有效的 JSON 行）") from None
    if not parsed or not all(isinstance(item, dict) for item in parsed):
        raise PackageError("交换包内容格式错误：每行应为一个对象")
    meta, rows = parsed[0], parsed[1:]
    if meta.get("package_id") != header.package_id or meta.get("kind") != header.kind:
        raise PackageError("交换包内容与包头不符（编号或类型不同）")
    if meta.get("rows") != len(rows):
        raise PackageError("交换包内容不完整：行数与说明不符")
    return Opened(header, meta, rows)
