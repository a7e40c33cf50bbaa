"""What a restore must bring back, as plain JSON: every child, case, report, case file, care
agreement and audit entry with all their values, and the bytes of every stored file.

``python -m tonghu.backup.tests.ledger`` prints it for the database and folders the
environment points at (DATABASE_URL, TONGHU_VAR_DIR), so a test can read a restored
installation from outside its own test database.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

# The stores as laid out under a fresh VAR_DIR (the restore target's defaults).
STORE_FOLDERS = ("feeds", "rounds", "case_files", "care_files")


def _plain(value: Any) -> Any:
    from django.core.serializers.json import DjangoJSONEncoder  # noqa: PLC0415

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def ledger() -> dict[str, Any]:
    """The rows, read through the models (sealed fields come back opened)."""
    from tonghu.audit.models import AuditChild, AuditEntry  # noqa: PLC0415
    from tonghu.cases.models import Case, CaseFile, Report  # noqa: PLC0415
    from tonghu.children.models import Child  # noqa: PLC0415
    from tonghu.guardianship.models import CareAgreement  # noqa: PLC0415

    found: dict[str, Any] = _plain(
        {
            "children": {row["child_id"]: row for row in Child.objects.order_by("pk").values()},
            "cases": {row["number"]: row for row in Case.objects.order_by("pk").values()},
            "reports": list(Report.objects.order_by("pk").values()),
            "case_files": list(CaseFile.objects.order_by("pk").values()),
            "care_agreements": list(CareAgreement.objects.order_by("pk").values()),
            "audit": list(AuditEntry.objects.order_by("pk").values()),
            "audit_children": list(AuditChild.objects.order_by("pk").values()),
        }
    )
    return found


def stored_files(roots: dict[str, Path]) -> dict[str, str]:
    """``store/relative path`` -> SHA-256 of the bytes, for every file under the stores."""
    found: dict[str, str] = {}
    for store, root in roots.items():
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    relative = path.relative_to(root).as_posix()
                    found[f"{store}/{relative}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def main() -> None:
    import django  # noqa: PLC0415

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tonghu.config.settings")
    django.setup()
    from django.conf import settings  # noqa: PLC0415

    var_dir = Path(settings.VAR_DIR)
    files = stored_files({name: var_dir / name for name in STORE_FOLDERS})
    sys.stdout.write(json.dumps({"ledger": ledger(), "files": files}, ensure_ascii=False))


if __name__ == "__main__":
    main()
