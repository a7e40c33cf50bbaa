from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tonghu.policy import load_profile

CODES = [item.code for item in load_profile().assessment.indicators]


@pytest.fixture(autouse=True)
def care_files(settings: Any, tmp_path: Path) -> Path:
    """Every test keeps scanned agreements under its own temporary VAR_DIR."""
    var_dir = tmp_path / "var"
    settings.VAR_DIR = var_dir
    return var_dir / "care_files"


def answers(**changed: str) -> dict[str, str]:
    """All indicators answered 好, with the given ones changed."""
    return {**dict.fromkeys(CODES, "好"), **changed}
