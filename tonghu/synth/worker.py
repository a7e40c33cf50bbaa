"""Worker process of one shard: ``python -m tonghu.synth.worker WORK``, where WORK/spec.json
holds the shard's spec.

Kept apart from ``tonghu.synth.shard`` so that running it does not import the module it runs
twice. Progress goes to WORK/progress.txt, the result to WORK/result.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tonghu.synth.shard import (
    PROGRESS_FILE,
    RESULT_FILE,
    SPEC_FILE,
    result_to_json,
    run_shard,
    spec_from_json,
)


def main(argv: list[str] | None = None) -> None:
    (work,) = argv if argv is not None else sys.argv[1:]
    spec = spec_from_json((Path(work) / SPEC_FILE).read_text(encoding="utf-8"))
    progress_file = spec.work / PROGRESS_FILE

    def report(done: int) -> None:
        progress_file.write_text(str(done), encoding="ascii")

    result = run_shard(spec, report)
    (spec.work / RESULT_FILE).write_text(result_to_json(result), encoding="utf-8")


if __name__ == "__main__":
    main()
