"""Re-saving sealed fields in batches: the data step that seals values written before a field
was sealed (and fills blind indexes), and the rotation's re-sealing under a new key. Sealing
is idempotent, so either can run again safely."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from tonghu.privacy.fields import BlindIndexField

BATCH_ROWS = 2_000


def resave_sealed(model: type[models.Model], fields: list[str]) -> int:
    """Read and write back ``fields`` (and every blind index) of each row of ``model``: the
    fields unseal on reading and seal with the newest key on writing. Returns the rows."""
    indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
    names = [*fields, *(field.name for field in indexes)]
    rows = model._default_manager.order_by("pk").only("pk", *names)
    last, done = 0, 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH_ROWS]):
        for row in batch:
            for field in indexes:
                field.pre_save(row, add=False)
        model._default_manager.bulk_update(batch, names)
        last, done = batch[-1].pk, done + len(batch)
    return done


def seal_existing(app_label: str, model_name: str, *fields: str) -> migrations.RunPython:
    """A RunPython sealing ``fields`` of ``app_label.model_name`` in existing rows."""

    def forward(apps: Any, schema_editor: Any) -> None:
        resave_sealed(apps.get_model(app_label, model_name), list(fields))

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)
