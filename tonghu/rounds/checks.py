"""System check: every shipped policy profile (and the deployment's) loads and names only
departments the system knows, so a bad profile stops the start-up, not a round."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from tonghu.accounts.roles import Department
from tonghu.policy import Profile, ProfileError, load_profile, shipped_profiles


@register()
def check_policy_profiles(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in dict.fromkeys([*shipped_profiles(), settings.TONGHU_PROFILE]):
        try:
            profile = load_profile(name)
        except ProfileError as error:
            errors.append(Error(str(error), id="tonghu.E001"))
            continue
        errors += _unknown_departments(profile)
    return errors


def _unknown_departments(profile: Profile) -> list[CheckMessage]:
    known = set(Department.values)
    return [
        Error(
            f"政策配置 {profile.key}：服务 {item.code} 的责任部门 {department} 不是系统中的部门"
            f"（可用：{'、'.join(sorted(known))}）",
            id="tonghu.E002",
        )
        for item in profile.services.items
        for department in item.departments
        if department not in known
    ]
