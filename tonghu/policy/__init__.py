"""Policy profiles (认定规则、服务清单、走访要求): the numbers and lists of policy.md as data.

Pure Python (no Django), read by the batch pipeline and the web app alike. A profile is a YAML
file under ``profiles/`` (or a path), parsed into typed objects and validated on load.
"""

from tonghu.policy.profile import (
    PROFILE_DIR,
    Profile,
    ProfileError,
    load_profile,
    profile_from_text,
    shipped_profiles,
)

__all__ = [
    "PROFILE_DIR",
    "Profile",
    "ProfileError",
    "load_profile",
    "profile_from_text",
    "shipped_profiles",
]
