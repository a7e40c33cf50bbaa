"""Importing an opened package, kind by kind: each row's contract, linking incoming rows to
this county's children, and what the import changed (in Chinese, child ids only).

Called by ``services.package_import`` inside its transaction, after the package has been
verified, decrypted and checked against replay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tonghu.accounts.scope import within
from tonghu.children.models import Child
from tonghu.exchange.figures import figures_check, figures_import
from tonghu.exchange.models import (
    HUKOU_STATUSES,
    Certify,
    CertifyRequest,
    Direction,
    ExchangePackage,
    ExchangeRecord,
    Kind,
    LinkedBy,
    Side,
)
from tonghu.exchange.packages import Opened, PackageError, package_uuid
from tonghu.exchange.selectors import hukou_statuses
from tonghu.privacy.crypto import blind_index

# Row contracts by kind: key -> (python types allowed, required non-empty).
_TEXT = (str,)
_DATE = (str, type(None))
_ROWS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "migrants": {
        "child_id": (_TEXT, True),
        "name": (_TEXT, False),
        "sex": (_TEXT, False),
        "birth_date": (_DATE, False),
        "id_number": (_TEXT, False),
        "hukou_code": (_TEXT, True),
        "residence_code": (_TEXT, False),
        "residence_since": (_DATE, False),
    },
    "hukou_status": {
        "child_id": (_TEXT, True),
        "hukou_child_id": (_TEXT, True),
        "statuses": ((list,), False),
        "since": ((dict,), False),
    },
    "certify_request": {
        "request_id": (_TEXT, True),
        "subject": (_TEXT, True),
        "child_id": (_TEXT, True),
        "hukou_child_id": (_TEXT, False),
        "name": (_TEXT, False),
        "sex": (_TEXT, False),
        "birth_date": (_DATE, False),
        "id_number": (_TEXT, False),
        "hukou_code": (_TEXT, False),
        "note": (_TEXT, False),
        "due_on": (_TEXT, True),
        "requested_at": (_TEXT, True),
    },
    "certify_answer": {
        "request_id": (_TEXT, True),
        "certified": ((bool,), True),
        "reference": (_TEXT, True),
        "note": (_TEXT, False),
        "hukou_child_id": (_TEXT, False),
        "answered_at": (_TEXT, True),
    },
}


def rows_check(opened: Opened) -> None:
    """Every row has the keys of its kind with the right types (values are never echoed)."""
    if opened.header.kind == Kind.FIGURES:
        figures_check(opened)
        return
    contract = _ROWS[opened.header.kind]
    for number, row in enumerate(opened.rows, start=1):
        for key, (types, required) in contract.items():
            value = row.get(key)
            if key not in row or not isinstance(value, types):
                raise PackageError(f"交换包第 {number} 行的 {key} 缺失或类型不对，拒绝导入")
            if required and value in ("", None):
                raise PackageError(f"交换包第 {number} 行的 {key} 为空，拒绝导入")
        for key in ("birth_date", "residence_since", "due_on"):
            if row.get(key):
                try:
                    dt.date.fromisoformat(str(row[key]))
                except ValueError:
                    raise PackageError(
                        f"交换包第 {number} 行的 {key} 不是有效日期，拒绝导入"
                    ) from None
        if opened.header.kind == "hukou_status":
            unknown = [code for code in row["statuses"] if code not in HUKOU_STATUSES]
            if unknown:
                raise PackageError(f"交换包第 {number} 行有不认识的状态代码，拒绝导入")
        if opened.header.kind in ("certify_request", "certify_answer"):
            package_uuid(row["request_id"])
        if opened.header.kind == "certify_request" and row["subject"] not in Certify.values:
            raise PackageError(f"交换包第 {number} 行的核实事项不认识，拒绝导入")


def _candidates(own: str) -> Any:
    return Child.objects.filter(within("residence_division_id", own))


def _link_person(
    own: str, *, hukou_child_id: str, id_number: str, name: str, birth: str | None, sex: str
) -> tuple[Child | None, str]:
    """This county's child for a row: by our own child id when the sender knows it, by ID
    number through the blind index, else by exact name, birth date and sex (only when that
    names exactly one child, and never one with a different ID number)."""
    candidates = _candidates(own)
    if hukou_child_id:
        found = candidates.filter(child_id=hukou_child_id).first()
        if found is not None:
            return found, LinkedBy.CHILD_ID
    if id_number:
        by_id = list(candidates.filter(id_number_index=blind_index(id_number))[:2])
        if len(by_id) == 1:
            return by_id[0], LinkedBy.ID_NUMBER
    if name and birth:
        same = candidates.filter(name=name, birth_date=dt.date.fromisoformat(birth), sex=sex)
        if id_number:
            same = same.filter(id_number_index="")
        found_list = list(same[:2])
        if len(found_list) == 1:
            return found_list[0], LinkedBy.NAME_BIRTH_SEX
    return None, LinkedBy.NONE


def _import_migrants(
    package: ExchangePackage, opened: Opened, own: str
) -> tuple[list[str], dict[str, int], list[str]]:
    records: list[ExchangeRecord] = []
    by: dict[str, int] = {}
    statuses = 0
    for number, row in enumerate(opened.rows, start=1):
        if not row["hukou_code"].startswith(own):
            raise PackageError(f"交换包第 {number} 行儿童的户籍地不在本县，拒绝导入")
        child, linked_by = _link_person(
            own,
            hukou_child_id="",
            id_number=row["id_number"],
            name=row["name"],
            birth=row["birth_date"],
            sex=row["sex"],
        )
        by[linked_by] = by.get(linked_by, 0) + 1
        if child is not None and hukou_statuses(child)[0]:
            statuses += 1
        records.append(
            ExchangeRecord(
                package=package,
                kind=Kind.MIGRANTS,
                sender=package.sender,
                remote_child_id=row["child_id"],
                child=child,
                linked_by=linked_by,
                values={key: row[key] for key in _ROWS["migrants"] if key != "child_id"},
            )
        )
    ExchangeRecord.objects.bulk_create(records)
    linked = [record.child.child_id for record in records if record.child is not None]
    unlinked = len(records) - len(linked)
    counts = {
        "rows": len(records),
        "linked": len(linked),
        "by_id_number": by.get(LinkedBy.ID_NUMBER, 0),
        "by_name_birth_sex": by.get(LinkedBy.NAME_BIRTH_SEX, 0),
        "unlinked": unlinked,
        "with_status": statuses,
    }
    lines = [
        (
            f"户籍在本县、居住在 {package.sender} 的流动儿童 {len(records)} 名："
            f"关联到本县台账 {len(linked)} 名（按身份证号 {counts['by_id_number']} 名，"
            f"按姓名、出生日期和性别 {counts['by_name_birth_sex']} 名），未能关联 {unlinked} 名"
        ),
        f"其中本县台账记载孤儿、事实无人抚养或低保的 {statuses} 名",
    ]
    if linked:
        lines.append(f"可用 tonghu exchange statuses --for {package.sender} 答复其保障状态")
    return lines, counts, linked


def _latest_statuses(child: Child, sender: str, *, before: ExchangePackage) -> list[str] | None:
    previous = (
        ExchangeRecord.objects.filter(child=child, kind=Kind.HUKOU_STATUS, sender=sender)
        .exclude(package=before)
        .order_by("-package__sequence", "-id")
        .first()
    )
    return None if previous is None else list(previous.values.get("statuses") or [])


def _import_hukou_status(
    package: ExchangePackage, opened: Opened, own: str
) -> tuple[list[str], dict[str, int], list[str]]:
    candidates = {child.child_id: child for child in _candidates(own).filter(
        child_id__in=[row["child_id"] for row in opened.rows]
    )}  # fmt: skip
    records: list[ExchangeRecord] = []
    changes: list[str] = []
    unlinked = 0
    for row in opened.rows:
        child = candidates.get(row["child_id"])
        if child is None:
            unlinked += 1
        else:
            before = _latest_statuses(child, package.sender, before=package)
            now = list(row["statuses"])
            added = [HUKOU_STATUSES[code] for code in now if code not in (before or [])]
            gone = [HUKOU_STATUSES[code] for code in (before or []) if code not in now]
            if added:
                changes.append(f"{child.child_id}：户籍地新报 {'、'.join(added)}")
            if gone:
                changes.append(f"{child.child_id}：户籍地不再记载 {'、'.join(gone)}")
        records.append(
            ExchangeRecord(
                package=package,
                kind=Kind.HUKOU_STATUS,
                sender=package.sender,
                remote_child_id=row["hukou_child_id"],
                child=child,
                linked_by=LinkedBy.CHILD_ID if child else LinkedBy.NONE,
                values={"statuses": row["statuses"], "since": row["since"]},
            )
        )
    ExchangeRecord.objects.bulk_create(records)
    linked = [record.child.child_id for record in records if record.child is not None]
    reply = (
        ExchangePackage.objects.filter(
            direction=Direction.OUT, package_id=package.in_reply_to, sender=own
        ).first()
        if package.in_reply_to
        else None
    )
    counts = {"rows": len(records), "linked": len(linked), "unlinked": unlinked}
    counts["changed"] = len(changes)
    lines = [f"户籍地找到并答复 {len(records)} 名，关联到本县儿童 {len(linked)} 名"]
    if reply is not None:
        missing = len(set(reply.child_ids) - {row["child_id"] for row in opened.rows})
        counts["not_found_there"] = missing
        lines.append(f"本县发出的名单中有 {missing} 名儿童户籍地未能找到")
    if unlinked:
        lines.append(f"未能关联 {unlinked} 行（儿童编号不在本县台账）")
    lines.extend(changes or ["保障状态没有变化"])
    return lines, counts, linked


def _import_certify_request(
    package: ExchangePackage, opened: Opened, own: str
) -> tuple[list[str], dict[str, int], list[str]]:
    created = 0
    repeated = 0
    child_ids: list[str] = []
    lines: list[str] = []
    for row in opened.rows:
        request_id = package_uuid(row["request_id"])
        if CertifyRequest.objects.filter(side=Side.ANSWERER, request_id=request_id).exists():
            repeated += 1
            continue
        if not row["hukou_code"].startswith(own):
            raise PackageError("核实请求中儿童的户籍地不在本县，拒绝导入")
        child, linked_by = _link_person(
            own,
            hukou_child_id=row["hukou_child_id"],
            id_number=row["id_number"],
            name=row["name"],
            birth=row["birth_date"],
            sex=row["sex"],
        )
        CertifyRequest.objects.create(
            request_id=request_id,
            side=Side.ANSWERER,
            county=package.county,
            residence_county=package.sender,
            hukou_county=own,
            child=child,
            linked_by=linked_by,
            remote_child_id=row["child_id"],
            subject=row["subject"],
            values={
                key: row[key]
                for key in ("name", "sex", "birth_date", "id_number", "hukou_code", "note")
            },
            status=CertifyRequest.Status.PENDING,
            due_on=dt.date.fromisoformat(row["due_on"]),
            requested_at=dt.datetime.fromisoformat(row["requested_at"]),
            request_package=package,
        )
        created += 1
        label = Certify(row["subject"]).label
        where = f"本县儿童 {child.child_id}" if child else "本县台账中未找到该儿童"
        lines.append(f"核实请求 {request_id}：{label}，{where}，须在 {row['due_on']} 前答复")
        if child is not None:
            child_ids.append(child.child_id)
    if repeated:
        lines.append(f"{repeated} 项请求此前已收到，未重复登记")
    return lines, {"created": created, "repeated": repeated}, child_ids


def _import_certify_answer(
    package: ExchangePackage, opened: Opened, own: str
) -> tuple[list[str], dict[str, int], list[str]]:
    answered = 0
    unknown = 0
    child_ids: list[str] = []
    lines: list[str] = []
    for row in opened.rows:
        request = CertifyRequest.objects.filter(
            side=Side.REQUESTER,
            county=package.county,
            hukou_county=package.sender,
            request_id=package_uuid(row["request_id"]),
        ).first()
        if request is None:
            unknown += 1
            continue
        request.status = CertifyRequest.Status.ANSWERED
        request.certified = row["certified"]
        request.reference = row["reference"]
        request.answer_note = row["note"]
        request.answered_at = dt.datetime.fromisoformat(row["answered_at"])
        request.answer_package = package
        if row["hukou_child_id"]:
            request.remote_child_id = row["hukou_child_id"]
        request.save()
        answered += 1
        child = request.child.child_id if request.child else "（儿童已不在台账）"
        lines.append(
            f"核实请求 {request.request_id}（{child}，{request.get_subject_display()}）："
            f"{request.answer_label}，文号 {request.reference}"
        )
        if request.child:
            child_ids.append(request.child.child_id)
    if unknown:
        lines.append(f"{unknown} 项答复找不到本县发出的对应请求，未登记")
    return lines, {"answered": answered, "unknown": unknown}, child_ids


IMPORTERS = {
    Kind.FIGURES: figures_import,
    Kind.MIGRANTS: _import_migrants,
    Kind.HUKOU_STATUS: _import_hukou_status,
    Kind.CERTIFY_REQUEST: _import_certify_request,
    Kind.CERTIFY_ANSWER: _import_certify_answer,
}
