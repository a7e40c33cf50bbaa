"""Exchanging packages with other counties: keys, export, import (all or nothing) and the
跨省通办 certification requests. Every action writes an audit entry; refusals too. Each kind
of package is imported by its function in importers.py.

Which county acts: the acting user's (a county civil-affairs officer), or for the command
line without a user the ``county`` given. Summaries name children by their child id only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404

from tonghu import clock
from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import within
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.children.models import Child
from tonghu.children.selectors import access_child
from tonghu.divisions.codes import pad
from tonghu.divisions.models import Division
from tonghu.exchange import keys as key_store
from tonghu.exchange.figures import figures_rows, superiors
from tonghu.exchange.importers import IMPORTERS, rows_check
from tonghu.exchange.models import (
    Certify,
    CertifyRequest,
    Direction,
    ExchangePackage,
    ExchangeRecord,
    Kind,
    LinkedBy,
    Side,
    summary_text,
)
from tonghu.exchange.packages import (
    Opened,
    PackageError,
    PublicEntry,
    build,
    decrypt,
    frame,
    new_header,
    package_uuid,
    verify,
)
from tonghu.exchange.selectors import hukou_statuses
from tonghu.services.lists import profile_in_force

if TYPE_CHECKING:
    from tonghu.accounts.models import User

CLI = "命令行"
SUFFIX = ".tonghu"
KIND_LABELS = dict(Kind.choices)


@dataclass
class Exported:
    package: ExchangePackage
    path: Path


@dataclass
class Imported:
    package: ExchangePackage
    lines: list[str] = field(default_factory=list)  # the Chinese summary, child ids only


# --- who acts -------------------------------------------------------------------------------


def acting_county(*, acting_user: User | None, county: str | None) -> str:
    """The 6-digit code acting: the user's (a county civil-affairs officer, or a city's staff
    receiving its counties' figures) or ``county``."""
    if acting_user is None:
        if not county:
            raise PackageError("请用 --county 指定本县代码，或用 --user 指定区县民政工作人员")
        return county
    if not acting_user.can(Capability.EXCHANGE_PACKAGES):
        raise PackageError("只有区县民政工作人员可以办理居住地与户籍地信息交换")
    own = acting_user.division_id[:6]
    if county and county != own:
        raise PackageError(f"您只能以本县（{own}）的名义交换，不能代 {county} 办理")
    return own


def _county_division(county: str) -> Division:
    division = Division.objects.filter(code=pad(county), level="county").first()
    if division is None:
        raise PackageError(f"区划表中没有县级区划 {county}：请先载入行政区划表")
    return division


def _own_division(code: str) -> Division:
    """The county, city or province a package is imported into (cities and provinces take
    only their counties' figures)."""
    division = Division.objects.filter(
        code=pad(code), level__in=("county", "city", "province")
    ).first()
    if division is None:
        raise PackageError(f"区划表中没有区县、市或省级区划 {code}：请先载入行政区划表")
    return division


def audit_exchange(
    acting_user: User | None,
    *,
    action: Action,
    object_type: str,
    detail: str,
    object_ids: Iterable[str] = (),
    child_ids: Iterable[str] = (),
) -> None:
    audit_record(
        actor=acting_user,
        username="" if acting_user else CLI,
        action=action,
        object_type=object_type,
        object_ids=object_ids,
        child_ids=child_ids,
        detail=detail,
    )


# --- keys and registry ----------------------------------------------------------------------


def exchange_keygen(*, county: str, acting_user: User | None = None) -> PublicEntry:
    """A new key pair for the county (private part in its key file, mode 0600); its public
    part is entered in the local registry and returned, to be sent to the other counties."""
    county = acting_county(acting_user=acting_user, county=county)
    division = Division.objects.filter(code=pad(county)).first()
    keys = key_store.keys_create(county)
    entry = keys.public(name=division.name if division else "")
    registry = key_store.registry_load()
    registry[county] = entry
    key_store.registry_save(registry)
    audit_exchange(
        acting_user,
        action=Action.CREATE,
        object_type="exchange_key",
        object_ids=[county],
        detail=f"生成本县（{county}）交换密钥并登记公钥",
    )
    return entry


def registry_trust(
    *, path: Path, acting_user: User | None = None, replace: bool = False
) -> list[PublicEntry]:
    """Enter the public keys in ``path`` (one entry, or a registry document) in the local
    registry. A county already registered with other keys is refused unless ``replace``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise PackageError(f"无法读取公钥文件 {path.name}（应为 JSON）") from None
    items = data.get("counties") if isinstance(data, dict) and "counties" in data else [data]
    if not isinstance(items, list) or not items:
        raise PackageError("公钥文件中没有县")
    entries = [PublicEntry.from_json(item, where=f"第 {n} 项") for n, item in enumerate(items, 1)]
    registry = key_store.registry_load()
    changed: list[PublicEntry] = []
    for entry in entries:
        known = registry.get(entry.county)
        if known is not None and known.to_json() | {"name": ""} == entry.to_json() | {"name": ""}:
            continue
        if known is not None and not replace:
            raise PackageError(
                f"县 {entry.county} 已登记了不同的公钥。确认对方已更换密钥后，加 --replace 替换"
            )
        registry[entry.county] = entry
        changed.append(entry)
    if changed:
        key_store.registry_save(registry)
        audit_exchange(
            acting_user,
            action=Action.UPDATE,
            object_type="exchange_registry",
            object_ids=[entry.county for entry in changed],
            detail="登记交换公钥：" + "、".join(entry.county for entry in changed),
        )
    return changed


# --- export ---------------------------------------------------------------------------------


def _recipient_entry(recipient: str) -> PublicEntry:
    entry = key_store.registry_load().get(recipient)
    if entry is None:
        raise PackageError(f"接收县 {recipient} 不在公钥登记表中：请先登记该县的公钥")
    return entry


def _export(
    *,
    county: str,
    recipient: str,
    kind: Kind,
    rows: list[dict[str, Any]],
    child_ids: list[str],
    out_dir: Path,
    acting_user: User | None,
    in_reply_to: str | None = None,
    summary: Mapping[str, Any] | None = None,
) -> Exported:
    """Write one package and keep its row; the caller holds a transaction."""
    if recipient == county:
        raise PackageError("不能向本县发送交换包")
    keys = key_store.keys_load(county)
    entry = _recipient_entry(recipient)
    division = _county_division(county)
    last = ExchangePackage.objects.filter(
        direction=Direction.OUT, sender=county, recipient=recipient
    ).aggregate(last=Max("sequence"))["last"]
    header = new_header(
        kind=kind.value,
        sender=county,
        recipient=recipient,
        sequence=(last or 0) + 1,
        created_at=clock.now(),
    )
    meta = {"in_reply_to": in_reply_to} if in_reply_to else {}
    data = build(header=header, rows=rows, sender=keys, recipient=entry, meta=meta)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = package_file_name(
        sender=county, recipient=recipient, sequence=header.sequence, kind=kind.value
    )
    path = out_dir / name
    try:
        package = ExchangePackage.objects.create(
            county=division,
            direction=Direction.OUT,
            package_id=uuid.UUID(header.package_id),
            kind=kind,
            sender=county,
            recipient=recipient,
            sequence=header.sequence,
            created_at=header.created_at,
            in_reply_to=uuid.UUID(in_reply_to) if in_reply_to else None,
            rows=len(rows),
            sha256=hashlib.sha256(data).hexdigest(),
            summary=dict(summary or {}),
            child_ids=child_ids,
            handled_by=acting_user,
        )
    except IntegrityError:
        raise PackageError("另一个交换包正在同时生成，请重试") from None
    temporary = path.with_name(name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    audit_exchange(
        acting_user,
        action=Action.EXPORT,
        object_type="exchange_package",
        object_ids=[str(package.pk)],
        child_ids=child_ids,
        detail=(
            f"导出{KIND_LABELS[kind]}交换包 {county}→{recipient} 第{header.sequence}号，"
            f"{len(rows)} 行"
        ),
    )
    return Exported(package, path)


def package_file_name(*, sender: str, recipient: str, sequence: int, kind: str) -> str:
    return f"{sender}-{recipient}-{sequence:06d}-{kind}{SUFFIX}"


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def migrants_export(
    *, county: str | None = None, recipient: str, out_dir: Path, acting_user: User | None = None
) -> Exported:
    """The residence county's migrant children whose hukou is in ``recipient``."""
    county = acting_county(acting_user=acting_user, county=county)
    children = list(
        Child.objects.filter(within("residence_division_id", county))
        .filter(present=True, is_migrant=True, hukou_code__startswith=recipient)
        .order_by("child_id")
    )
    rows = [
        {
            "child_id": child.child_id,
            "name": child.name,
            "sex": child.sex,
            "birth_date": _iso(child.birth_date),
            "id_number": child.id_number or "",
            "hukou_code": child.hukou_code,
            "residence_code": child.residence_code or child.residence_division_id,
            "residence_since": _iso(child.residence_since),
        }
        for child in children
    ]
    with transaction.atomic():
        return _export(
            county=county,
            recipient=recipient,
            kind=Kind.MIGRANTS,
            rows=rows,
            child_ids=[child.child_id for child in children],
            out_dir=out_dir,
            acting_user=acting_user,
        )


def figures_export(
    *, county: str | None = None, recipient: str, out_dir: Path, acting_user: User | None = None
) -> Exported:
    """The county's round figures (no child's data) for its city's or province's instance."""
    county = acting_county(acting_user=acting_user, county=county)
    city, province = superiors(county)
    if recipient not in (city, province):
        raise PackageError(f"监测统计只能报送本县所属的市（{city}）或省（{province}）")
    _county_division(county)
    rows, summary = figures_rows(county)
    with transaction.atomic():
        return _export(
            county=county,
            recipient=recipient,
            kind=Kind.FIGURES,
            rows=rows,
            child_ids=[],
            out_dir=out_dir,
            acting_user=acting_user,
            summary=summary,
        )


def hukou_status_export(
    *,
    county: str | None = None,
    recipient: str,
    out_dir: Path,
    acting_user: User | None = None,
    package_id: str | None = None,
) -> Exported:
    """The hukou county's answer to the latest migrants package from ``recipient`` (or the
    one named): for each child it linked, its statuses and its own child id."""
    county = acting_county(acting_user=acting_user, county=county)
    received = ExchangePackage.objects.filter(
        county_id=pad(county), direction=Direction.IN, kind=Kind.MIGRANTS, sender=recipient
    )
    if package_id:
        received = received.filter(package_id=package_uuid(package_id))
    source = received.order_by("-sequence").first()
    if source is None:
        raise PackageError(f"尚未收到 {recipient} 发来的流动儿童名单，无从答复")
    records = source.records.select_related("child").order_by("id")
    rows: list[dict[str, Any]] = []
    child_ids: list[str] = []
    for record in records:
        if record.child is None:
            continue
        codes, since = hukou_statuses(record.child)
        rows.append(
            {
                "child_id": record.remote_child_id,
                "hukou_child_id": record.child.child_id,
                "statuses": codes,
                "since": since,
            }
        )
        child_ids.append(record.child.child_id)
    summary = {"received": source.rows, "linked": len(rows)}
    with transaction.atomic():
        return _export(
            county=county,
            recipient=recipient,
            kind=Kind.HUKOU_STATUS,
            rows=rows,
            child_ids=child_ids,
            out_dir=out_dir,
            acting_user=acting_user,
            in_reply_to=str(source.package_id),
            summary=summary,
        )


# --- 跨省通办 certification -----------------------------------------------------------------


def certify_request_send(
    *,
    acting_user: User,
    child_id: str,
    subject: str,
    out_dir: Path,
    note: str = "",
) -> tuple[CertifyRequest, Exported]:
    """A residence-county officer asks the child's hukou county to certify ``subject``; the
    request leaves at once in a certify_request package and is due by the profile's
    ``exchange.certify_within_days``."""
    county = acting_county(acting_user=acting_user, county=None)
    if subject not in Certify.values:
        choices = "、".join(f"{value}（{label}）" for value, label in Certify.choices)
        raise PackageError(f"核实事项应为 {choices} 之一")
    try:
        child = access_child(user=acting_user, child_id=child_id)
    except Http404:
        raise PackageError(f"未找到儿童 {child_id}，或该儿童不在您的辖区") from None
    hukou = child.hukou_code[:6]
    if len(hukou) != 6 or not hukou.isdigit():
        raise PackageError(f"儿童 {child_id} 没有户籍地区划代码，无法确定向哪个县核实")
    if hukou == county:
        raise PackageError(f"儿童 {child_id} 的户籍地就在本县，无须跨县核实")
    today = clock.today()
    days = profile_in_force(county_code=county, day=today).exchange.certify_within_days
    due_on = today + dt.timedelta(days=days)
    known = (
        ExchangeRecord.objects.filter(child=child, kind=Kind.HUKOU_STATUS, sender=hukou)
        .order_by("-id")
        .first()
    )
    request_id = uuid.uuid4()
    requested_at = clock.now()
    row = {
        "request_id": str(request_id),
        "subject": subject,
        "child_id": child.child_id,
        "hukou_child_id": known.remote_child_id if known else "",
        "name": child.name,
        "sex": child.sex,
        "birth_date": _iso(child.birth_date),
        "id_number": child.id_number or "",
        "hukou_code": child.hukou_code,
        "note": note.strip(),
        "due_on": due_on.isoformat(),
        "requested_at": requested_at.isoformat(),
    }
    with transaction.atomic():
        request = CertifyRequest.objects.create(
            request_id=request_id,
            side=Side.REQUESTER,
            county=_county_division(county),
            residence_county=county,
            hukou_county=hukou,
            child=child,
            linked_by=LinkedBy.CHILD_ID,
            remote_child_id=known.remote_child_id if known else "",
            subject=subject,
            values={"note": note.strip()} if note.strip() else {},
            status=CertifyRequest.Status.SENT,
            due_on=due_on,
            requested_at=requested_at,
            requested_by=acting_user,
        )
        exported = _export(
            county=county,
            recipient=hukou,
            kind=Kind.CERTIFY_REQUEST,
            rows=[row],
            child_ids=[child.child_id],
            out_dir=out_dir,
            acting_user=acting_user,
        )
        request.request_package = exported.package
        request.save(update_fields=["request_package"])
    return request, exported


def certify_answer_send(
    *,
    acting_user: User,
    request_id: str,
    certified: bool,
    reference: str,
    out_dir: Path,
    note: str = "",
) -> tuple[CertifyRequest, Exported]:
    """The hukou county's answer (属实/不属实, its reference number, a note), sent back at once
    in a certify_answer package."""
    county = acting_county(acting_user=acting_user, county=None)
    reference = reference.strip()
    if not reference:
        raise PackageError("请填写答复文号（如证明编号或审批文号）")
    request = CertifyRequest.objects.filter(
        side=Side.ANSWERER, county_id=pad(county), request_id=package_uuid(request_id)
    ).first()
    if request is None:
        raise PackageError(f"本县没有待答复的核实请求 {request_id}")
    if request.status == CertifyRequest.Status.ANSWERED:
        raise PackageError(f"核实请求 {request_id} 已于 {request.answered_at:%Y-%m-%d} 答复")
    answered_at = clock.now()
    row = {
        "request_id": str(request.request_id),
        "certified": certified,
        "reference": reference,
        "note": note.strip(),
        "hukou_child_id": request.child.child_id if request.child else "",
        "answered_at": answered_at.isoformat(),
    }
    with transaction.atomic():
        exported = _export(
            county=county,
            recipient=request.residence_county,
            kind=Kind.CERTIFY_ANSWER,
            rows=[row],
            child_ids=[request.child.child_id] if request.child else [],
            out_dir=out_dir,
            acting_user=acting_user,
            in_reply_to=str(request.request_package.package_id)
            if request.request_package
            else None,
        )
        request.status = CertifyRequest.Status.ANSWERED
        request.certified = certified
        request.reference = reference
        request.answer_note = note.strip()
        request.answered_at = answered_at
        request.answered_by = acting_user
        request.answer_package = exported.package
        request.save()
    return request, exported


# --- import ---------------------------------------------------------------------------------


def package_import(
    *, path: Path, acting_user: User | None = None, county: str | None = None
) -> Imported:
    """Verify and import one package addressed to this county, all or nothing.

    Refused with a ``PackageError`` (and nothing imported) when the file is not a package,
    the sender is not in the registry, the signature does not verify with the registry's key
    (any changed byte), the package is addressed to another county, or it was imported
    before (same package id, or the same sequence number from that sender)."""
    try:
        own = acting_county(acting_user=acting_user, county=county)
        try:
            data = path.read_bytes()
        except OSError:
            raise PackageError(f"无法读取交换包文件 {path.name}") from None
        framed = frame(data)
        sender = verify(framed, registry=key_store.registry_load())
        if framed.header.recipient != own:
            raise PackageError(
                f"该交换包是发给 {framed.header.recipient} 的，不是本县（{own}），不能导入"
            )
        opened = decrypt(framed, sender=sender, own=key_store.keys_load(own))
        rows_check(opened)
        with transaction.atomic():
            imported = _import_opened(
                opened, own=own, data=data, acting_user=acting_user, division=_own_division(own)
            )
    except PackageError as error:
        audit_exchange(
            acting_user,
            action=Action.IMPORT,
            object_type="exchange_package",
            detail=f"拒绝导入交换包 {path.name}：{error}",
        )
        raise
    return imported


def _import_opened(
    opened: Opened, *, own: str, data: bytes, acting_user: User | None, division: Division
) -> Imported:
    header = opened.header
    if header.sender == own:
        raise PackageError("这是本县自己发出的交换包，不能导入")
    if (header.kind == Kind.FIGURES) != (division.level != "county"):
        raise PackageError(
            "监测统计报送只能由市、省导入；其他交换包只能由区县导入"
            f"（本级为{division.get_level_display()}）"
        )
    seen = ExchangePackage.objects.filter(direction=Direction.IN, sender=header.sender)
    earlier = seen.filter(package_id=uuid.UUID(header.package_id)).first()
    if earlier is not None:
        raise PackageError(
            f"该交换包（{header.sender} 第{header.sequence}号）已于 "
            f"{earlier.handled_at:%Y-%m-%d %H:%M} 导入过，不能重复导入"
        )
    if seen.filter(recipient=header.recipient, sequence=header.sequence).exists():
        raise PackageError(
            f"已导入过 {header.sender} 发给本县的第{header.sequence}号交换包："
            "序号重复，疑为重放或对方系统状态异常，拒绝导入"
        )
    reply_to = opened.meta.get("in_reply_to")
    try:
        package = ExchangePackage.objects.create(
            county=division,
            direction=Direction.IN,
            package_id=uuid.UUID(header.package_id),
            kind=header.kind,
            sender=header.sender,
            recipient=header.recipient,
            sequence=header.sequence,
            created_at=header.created_at,
            in_reply_to=package_uuid(reply_to) if isinstance(reply_to, str) else None,
            rows=len(opened.rows),
            sha256=hashlib.sha256(data).hexdigest(),
            handled_by=acting_user,
        )
    except IntegrityError:
        raise PackageError("该交换包刚被同时导入过，不能重复导入") from None
    handler = IMPORTERS[Kind(header.kind)]
    lines, counts, child_ids = handler(package, opened, own)
    last = seen.filter(recipient=header.recipient).exclude(pk=package.pk)
    previous = last.aggregate(last=Max("sequence"))["last"] or 0
    if header.sequence > previous + 1:
        lines.append(
            f"注意：上次收到的是第{previous}号，本次是第{header.sequence}号，"
            "中间的交换包可能尚未收到"
        )
    package.summary = counts
    package.child_ids = child_ids
    package.save(update_fields=["summary", "child_ids"])
    head = (
        f"已导入 {header.sender} 发来的{KIND_LABELS[header.kind]}（第{header.sequence}号，"
        f"{len(opened.rows)} 行）"
    )
    audit_exchange(
        acting_user,
        action=Action.IMPORT,
        object_type="exchange_package",
        object_ids=[str(package.pk)],
        child_ids=child_ids,
        detail=f"{head}：{summary_text(counts)}",
    )
    return Imported(package, [head, *lines])
