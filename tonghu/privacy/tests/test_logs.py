"""Logs never carry a child's name, ID number or phone: a whole round, the pages that show a
child's file (with the reveal), a mandatory report and failed logins are run with every
logger at DEBUG, and everything logged or printed is scanned for the synthetic values."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tonghu.accounts.roles import Role
from tonghu.children.models import Child, ChildRecord
from tonghu.conftest import make_user
from tonghu.divisions.services import divisions_load
from tonghu.privacy.sensitive import ID_FIELDS, PHONE_FIELDS

NAME_FIELDS = ("name", "guardian_name", "father_name", "mother_name")


def _secrets() -> set[str]:
    """Every name, ID number and phone the round put in the ledger (plain, via the ORM)."""
    found: set[str] = set()
    for child in Child.objects.only("name", "id_number"):
        found.update({child.name, child.id_number})
    for record in ChildRecord.objects.only("values"):
        for field in (*ID_FIELDS, *PHONE_FIELDS, *NAME_FIELDS):
            value = record.values.get(field)
            if isinstance(value, str):
                found.add(value)
    # Two-character names could occur by chance in Chinese log text (区划 names, labels).
    return {value for value in found if len(value) >= 3}


@pytest.mark.django_db
def test_a_round_and_the_file_pages_log_no_names_ids_or_phones(
    synthetic_county: Path,
    settings: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    caplog.set_level(logging.DEBUG)  # the root logger and every logger below it
    divisions_load(path=synthetic_county / "divisions.csv")
    call_command(
        "round_run", str(synthetic_county / "feeds"), as_of="2025-06-30", export=str(tmp_path)
    )
    secrets = _secrets()
    assert len(secrets) > 300  # names and numbers of the synthetic county's children

    staff = make_user("clerk", Role.COUNTY_STAFF, "410402000000")
    client = Client()
    client.force_login(staff)
    some = list(Child.objects.order_by("child_id")[:20])
    for child in some:
        assert client.get(reverse("children:detail", args=[child.child_id])).status_code == 200
        assert client.post(reverse("children:reveal", args=[child.child_id])).status_code == 200
        client.get(reverse("children:list"), {"id_number": child.id_number})
        client.get(reverse("children:list"), {"name": child.name})
        client.get(f"/api/children/{child.child_id}")
    client.get(reverse("children:detail", args=["NO-SUCH-CHILD"]))  # a 404 is logged
    for child in some[:3]:  # wrong passwords for usernames that look like personal data
        Client().post(reverse("accounts:login"), {"username": child.id_number, "password": "x"})

    logged = caplog.text + "".join(capfd.readouterr())
    # The capture did see the run: Django logs the 404 (with the path, never the file).
    assert any("NO-SUCH-CHILD" in record.getMessage() for record in caplog.records)
    leaked = sorted(value for value in secrets if value in logged)
    assert leaked == []
