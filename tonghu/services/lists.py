"""District service lists (区县清单): loaded with an effective date, refused when they drop or
narrow a base item (policy.md §7), and the one in force at a date chosen for a round."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tonghu.divisions.selectors import county_division
from tonghu.policy import Profile, ProfileError, load_profile, profile_from_text
from tonghu.services.models import ServiceList

if TYPE_CHECKING:
    from tonghu.accounts.models import User


@transaction.atomic
def service_list_load(
    *, county_code: str, path: Path, effective_from: dt.date, acting_user: User | None = None
) -> ServiceList:
    county = county_division(county_code)
    if county is None:
        raise ValidationError(f"区划表中没有县级区划 {county_code}。")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ValidationError(f"无法以 UTF-8 读取清单文件 {path.name}。") from None
    _validated(text, path.name)
    kept, _ = ServiceList.objects.update_or_create(
        county=county,
        effective_from=effective_from,
        defaults={"file_name": path.name, "content": text, "loaded_by": acting_user},
    )
    return kept


def _validated(text: str, name: str) -> Profile:
    try:
        return profile_from_text(text, name)
    except ProfileError as error:
        raise ValidationError("；".join(error.problems)) from None


def profile_in_force(*, county_code: str, day: dt.date) -> Profile:
    """The county's list in force at ``day`` (the latest effective on or before it), else the
    deployment's profile."""
    kept = (
        ServiceList.objects.filter(county_id=f"{county_code}000000", effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )
    if kept is None:
        return load_profile(settings.TONGHU_PROFILE)
    return _validated(kept.content, kept.file_name)


def profiles_in_force(*, day: dt.date) -> Callable[[str], Profile]:
    """``profile_in_force`` on ``day`` for many counties (6-digit code), each read once."""
    return cache(lambda county_code: profile_in_force(county_code=county_code, day=day))


def lists_fingerprint() -> str:
    rows = ServiceList.objects.order_by("county_id", "effective_from")
    digest = hashlib.sha256()
    for county, day, content in rows.values_list("county_id", "effective_from", "content"):
        digest.update(f"{county}|{day}|{content}".encode())
    return digest.hexdigest()


def county_has_list(county_code: str) -> bool:
    return ServiceList.objects.filter(county_id=f"{county_code}000000").exists()


def only_county_with_lists() -> str | None:
    """The county code, when exactly one county of this deployment has its own list."""
    counties = list(ServiceList.objects.values_list("county_id", flat=True).distinct()[:2])
    return counties[0][:6] if len(counties) == 1 else None


def profile_for(user: User) -> Profile:
    """The list in force today for the user's county (the deployment's profile above it)."""
    return profile_in_force(county_code=user.division_id[:6], day=timezone.localdate())
