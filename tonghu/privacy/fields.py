"""Model fields whose values are sealed at rest (see ``crypto``): the ORM reads and writes
plain values; the database holds only ``enc1:`` tokens. Sealed values cannot be searched
or sorted in SQL: search by the blind index instead."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.db import models

from tonghu.privacy.crypto import blind_index, is_sealed, seal, unseal

ALL_KEYS = "*"


class SealedTextField(models.TextField):  # type: ignore[type-arg]
    """A text value kept sealed (ID numbers, phones, case narratives). ``plain_max_length``
    limits the plain value (the sealed one is longer) and makes its form field one line."""

    def __init__(self, *args: Any, plain_max_length: int | None = None, **kwargs: Any) -> None:
        self.plain_max_length = plain_max_length
        super().__init__(*args, **kwargs)
        if plain_max_length is not None:
            self.validators.append(MaxLengthValidator(plain_max_length))

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["plain_max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def formfield(self, **kwargs: Any) -> Any:
        if self.plain_max_length is not None:
            kwargs = {"max_length": self.plain_max_length, "widget": forms.TextInput, **kwargs}
        return super().formfield(**kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else unseal(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value if value is None else seal(str(value))


class SealedJSONField(models.JSONField):
    """A JSON object whose sensitive keys are sealed one by one; the other keys stay plain
    and can still be queried (``values__lives_alone=True``). ``sealed_keys="*"`` seals the
    value of every key (a case step's record)."""

    def __init__(self, *args: Any, sealed_keys: Iterable[str] | str = (), **kwargs: Any) -> None:
        self.seal_every_key = sealed_keys == ALL_KEYS
        self.sealed_keys = frozenset(() if isinstance(sealed_keys, str) else sealed_keys)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["sealed_keys"] = ALL_KEYS if self.seal_every_key else sorted(self.sealed_keys)
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        decoded = super().from_db_value(value, expression, connection)
        return self._mapped(decoded, _unseal_json)

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(self._mapped(value, _seal_json))

    def _mapped(self, value: Any, how: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            key: how(item) if self._sealed(key) and item not in (None, "") else item
            for key, item in value.items()
        }

    def _sealed(self, key: str) -> bool:
        return self.seal_every_key or key in self.sealed_keys


def _seal_json(item: Any) -> str:
    """A JSON value sealed with its type (strings, numbers, booleans, lists)."""
    return seal(json.dumps(item, ensure_ascii=False))


def _unseal_json(item: Any) -> Any:
    """The value of a sealed one; a value stored before sealing comes back as it is."""
    if isinstance(item, str) and is_sealed(item):
        return json.loads(unseal(item))
    return item


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """The keyed digest of another field of the same row, computed on every save and bulk
    insert, so that row can be found by that value without the value being readable."""

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        digest = blind_index(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, digest)
        return digest
