"""Which values are sensitive personal information (敏感个人信息) and how they are masked.

ID numbers and phones are sealed at rest and shown masked; health and disability facts are
sealed at rest and shown only in the file groups a role may see (the profile's
``privacy.ledger_groups``).
"""

from __future__ import annotations

from tonghu.pipeline.sources import Kind, all_fields

_FIELDS = all_fields()
ID_FIELDS = frozenset(name for name, kind in _FIELDS.items() if kind is Kind.ID)
PHONE_FIELDS = frozenset(name for name, kind in _FIELDS.items() if kind is Kind.PHONE)
HEALTH_FIELDS = frozenset(
    {
        "family_doctor",
        "first_vaccinated_on",
        "last_vaccinated_on",
        "disabled",
        "psych",
        "disability_category",
        "disability_grade",
        "help_needs",
    }
)
# A department record's keys sealed at rest (ChildRecord.values).
SEALED_RECORD_KEYS = ID_FIELDS | PHONE_FIELDS | HEALTH_FIELDS
MASKED_FIELDS = ID_FIELDS | PHONE_FIELDS


def mask_id_number(value: str) -> str:
    """4104**********1234: the first four and last four characters of an ID number."""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits of a mobile number."""
    if len(phone) != 11:
        return "****" if phone else ""
    return f"{phone[:3]}****{phone[-4:]}"


def masked(field: str, value: str) -> str:
    """The value as a reader without the reveal right sees it."""
    if field in ID_FIELDS:
        return mask_id_number(value)
    if field in PHONE_FIELDS:
        return mask_phone(value)
    return value
