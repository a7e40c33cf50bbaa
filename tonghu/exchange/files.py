"""The files behind the exchange pages: packages made into a county's outbox to download and
send on, and uploaded packages imported and kept in its inbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404

from tonghu.audit.models import Action
from tonghu.exchange.models import Kind
from tonghu.exchange.packages import PackageError
from tonghu.exchange.selectors import access_outgoing_package
from tonghu.exchange.services import (
    KIND_LABELS,
    SUFFIX,
    Exported,
    Imported,
    acting_county,
    audit_exchange,
    figures_export,
    hukou_status_export,
    migrants_export,
    package_file_name,
    package_import,
)

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def outbox(county: str) -> Path:
    """Where the web pages write a county's packages, to be downloaded and sent on."""
    return Path(settings.EXCHANGE_DIR) / "out" / county


def inbox(county: str) -> Path:
    """Where packages uploaded through the web pages are kept once imported."""
    return Path(settings.EXCHANGE_DIR) / "in" / county


_EXPORTERS: dict[str, Callable[..., Exported]] = {
    Kind.MIGRANTS: migrants_export,
    Kind.HUKOU_STATUS: hukou_status_export,
    Kind.FIGURES: figures_export,
}


def package_make(*, acting_user: User, kind: str, recipient: str) -> Exported:
    """A package made from the exchange page, written to the county's outbox."""
    exporter = _EXPORTERS.get(kind)
    if exporter is None:
        raise PackageError("请选择要生成的交换包类型")
    own = acting_county(acting_user=acting_user, county=None)
    return exporter(recipient=recipient, out_dir=outbox(own), acting_user=acting_user)


def package_upload_import(*, acting_user: User, upload: UploadedFile[bytes]) -> Imported:
    """Import an uploaded package (all or nothing). The file is kept in the inbox once
    imported; a refused one is not kept (the sender still has it)."""
    own = acting_county(acting_user=acting_user, county=None)
    folder = inbox(own)
    folder.mkdir(parents=True, exist_ok=True)
    received = folder / f"upload-{uuid.uuid4().hex}{SUFFIX}.part"
    with received.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    try:
        imported = package_import(path=received, acting_user=acting_user)
    except PackageError:
        received.unlink(missing_ok=True)
        raise
    package = imported.package
    received.replace(
        folder
        / package_file_name(
            sender=package.sender,
            recipient=package.recipient,
            sequence=package.sequence,
            kind=package.kind,
        )
    )
    return imported


def outgoing_package_open(*, acting_user: User, pk: int) -> Path:
    """A package the county made, to download; the download is audited."""
    package = access_outgoing_package(user=acting_user, pk=pk)
    name = package_file_name(
        sender=package.sender,
        recipient=package.recipient,
        sequence=package.sequence,
        kind=package.kind,
    )
    path = outbox(package.sender) / name
    if not path.is_file():
        raise Http404("该交换包由命令行生成，文件不在网页的交换目录中。")
    audit_exchange(
        acting_user,
        action=Action.EXPORT,
        object_type="exchange_package",
        object_ids=[str(package.pk)],
        child_ids=package.child_ids,
        detail=f"下载{KIND_LABELS[package.kind]}交换包 {package.sender}→{package.recipient} "
        f"第{package.sequence}号",
    )
    return path
