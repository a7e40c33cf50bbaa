"""Taking a feed file into an open round: checked, ingested in DuckDB, stored, audited."""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.divisions.selectors import division_table
from tonghu.feeds.models import FeedImport
from tonghu.feeds.selectors import uploadable_sources
from tonghu.feeds.store import new_import_dir, round_files, store_root
from tonghu.feeds.uploads import SavedUpload, UploadError, save_upload
from tonghu.pipeline.ingest import IngestResult, NothingToIngestError, ingest
from tonghu.pipeline.read import FeedFile, source_for_name
from tonghu.pipeline.sources import SOURCES_BY_NAME, Source
from tonghu.rounds.models import Round

if TYPE_CHECKING:
    from tonghu.accounts.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportOutcome:
    feed_import: FeedImport
    created: bool  # False: this very file was imported into the round before


def feed_import(
    *, round_: Round, upload: UploadedFile[bytes], source_name: str, acting_user: User
) -> ImportOutcome:
    """Import one uploaded file into ``round_`` (already scope-checked by the caller).

    The whole file is taken or nothing is: any error leaves the round as it was.
    """
    if not round_.is_open:
        raise UploadError("该轮监测摸排已结束，不能再导入数据。")
    source = _source(upload, source_name, acting_user)
    with tempfile.TemporaryDirectory(prefix="upload-", dir=store_root()) as work:
        saved = save_upload(upload, folder=Path(work))
        with transaction.atomic():
            # One import at a time per round, so that duplicate keys are judged in order.
            locked = Round.objects.select_for_update().get(pk=round_.pk)
            earlier = locked.imports.filter(file_sha256=saved.sha256).first()
            if earlier is not None:
                return ImportOutcome(earlier, created=False)
            return ImportOutcome(_ingest(locked, source, saved, Path(work), acting_user), True)


def _source(upload: UploadedFile[bytes], source_name: str, user: User) -> Source:
    if source_name:
        source = SOURCES_BY_NAME.get(source_name)
        if source is None:
            raise UploadError(f"未知的数据来源：{source_name}")
    else:
        found = source_for_name(Path(upload.name or "").name)
        if found is None:
            raise UploadError("无法从文件名识别数据来源，请在“数据来源”中选择。")
        source = found
    if source.name not in uploadable_sources(user=user):
        raise UploadError(f"您所在的部门不能导入“{source.label}”数据。")
    return source


def _ingest(
    round_: Round, source: Source, saved: SavedUpload, work: Path, user: User
) -> FeedImport:
    records, rejects = round_files(round_)
    try:
        result = ingest(
            [FeedFile(saved.path, source)],
            divisions=division_table(),
            out_dir=work / "out",
            prior_records=records,
            prior_rejects=rejects,
        )
    except NothingToIngestError as exc:
        raise UploadError(
            exc.skipped[0].reason if exc.skipped else "文件中没有可读取的数据。"
        ) from None
    except duckdb.Error:
        # What a file holds can still stop the engine (memory, an absurd width): the file is
        # refused, and the cause is logged for the administrator.
        log.exception("Feed import of %s failed in DuckDB", saved.path.name)
        raise UploadError(
            "文件内容超出处理能力（数据量过大或列数异常），请检查或拆分后重新导入。"
        ) from None
    relative = new_import_dir(round_)
    created = _record(round_, source, saved=saved, result=result, relative=relative, user=user)
    target = store_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(saved.path, work / "out" / f"original{saved.path.suffix.lower()}")
    shutil.move(str(work / "out"), target)
    return created


def _record(
    round_: Round,
    source: Source,
    *,
    saved: SavedUpload,
    result: IngestResult,
    relative: str,
    user: User,
) -> FeedImport:
    created = FeedImport.objects.create(
        round=round_,
        source=source.name,
        file_name=saved.path.name,
        file_sha256=saved.sha256,
        file_size=saved.size,
        uploaded_by=user,
        rows_read=result.read,
        rows_accepted=result.accepted,
        rows_repeated=sum(part.repeated for part in result.parts),
        rows_rejected=result.rejected,
        warnings=sum(part.warnings.total() for part in result.parts),
        parts=[
            {
                "sheet": part.sheet,
                "read": part.read,
                "accepted": part.accepted,
                "repeated": part.repeated,
                "rejected": dict(part.rejected),
                "warnings": dict(part.warnings),
            }
            for part in result.parts
        ],
        store_dir=relative,
    )
    audit_record(
        actor=user,
        action=Action.IMPORT,
        object_type="feed_import",
        object_ids=[str(created.pk)],
        detail=f"{source.name}：读取{result.read}行，接收{result.accepted}行，拒收{result.rejected}行",
    )
    return created
