"""IDOR: object URLs tell nothing about objects the user may not see, and change nothing.

For every "object" endpoint of the scope matrix (tonghu/accounts/tests/test_scope_matrix.py)
and every role allowed to use it:

* an id that does not exist answers exactly what an id out of the user's scope answers
  (404, the same page), so guessing ids cannot tell "exists elsewhere" from "missing";
* a POST to an out-of-scope object changes no row of the project's tables and writes no
  file (only the audit log may grow), while the same POST in scope does change something
  (so the comparison would see a write; a reveal's only write is its audit entry).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.http import HttpResponse, HttpResponseBase
from django.test import Client
from django.urls import resolve, reverse

from tonghu.accounts.roles import Role
from tonghu.accounts.tests.test_endpoint_coverage import all_routes
from tonghu.accounts.tests.test_scope_matrix import ENDPOINTS, Endpoint
from tonghu.audit.models import AuditEntry
from tonghu.conftest import World

OBJECT_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if endpoint.kind == "object"]
POST_ENDPOINTS = [endpoint for endpoint in OBJECT_ENDPOINTS if endpoint.method == "post"]
# URL arguments that pick an action, not an object.
NOT_IDS = frozenset({"step", "answer"})
# Ids no fixture makes: a plain miss, and (for integers) one past any database integer.
MISSING_INT = ("987654321", "9" * 20)
MISSING_STR = ("ZZ00000000",)
# Apps whose rows may change on a refused request: the audit log records the attempt.
MAY_CHANGE = frozenset({"audit"})
# POSTs whose only write, in scope too, is their audit entry.
AUDIT_ONLY = {"children:reveal": "shows the full ID numbers and phones; records that it did"}
# POSTs the matrix's world refuses to every role (with a reason, 400), each with the test that
# shows the in-scope write instead.
CONTROLLED_ELSEWHERE = {
    "exchange:certify_new": "needs a hukou code and exchange keys: "
    "tonghu/exchange/tests/test_pages.py sends a request from a child's file",
}


def _cases(endpoints: list[Endpoint]) -> list[Any]:
    return [
        pytest.param(endpoint, role, id=f"{endpoint.key}|{role.value}")
        for endpoint in endpoints
        for role in sorted(endpoint.allowed, key=lambda role: role.value)
    ]


@pytest.fixture
def files_here(settings: Any, tmp_path: Path) -> Path:
    """Every file the app writes goes under this test's folder (the matrix's own helpers
    point VAR_DIR at the same place)."""
    settings.VAR_DIR = tmp_path / "var"
    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    return tmp_path


def _ask(client: Client, endpoint: Endpoint, url: str) -> HttpResponseBase:
    if endpoint.method == "post":
        return client.post(url, endpoint.payload() if endpoint.payload else None)
    return client.get(url)


def _page(response: HttpResponseBase) -> str:
    """The answer's body without what differs between any two requests (CSRF tokens)."""
    assert isinstance(response, HttpResponse)  # a 404 page, never a streamed file
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return re.sub(r'(csrf[-_]?token["\']?\s*[:=]\s*["\'])[^"\']*', r"\1", text, flags=re.I)


def _missing_urls(url: str) -> Iterator[tuple[str, str]]:
    """``url`` with one object id at a time replaced by an id that exists nowhere."""
    match = resolve(url.split("?", 1)[0])
    for name, value in match.kwargs.items():
        if name in NOT_IDS:
            continue
        for missing in MISSING_INT if str(value).isdigit() else MISSING_STR:
            kwargs = {**match.kwargs, name: missing}
            yield f"{name}={missing}", reverse(match.view_name, kwargs=kwargs)


@pytest.mark.parametrize(("endpoint", "role"), _cases(OBJECT_ENDPOINTS))
def test_a_missing_id_answers_like_an_out_of_scope_one(
    world: World, files_here: Path, endpoint: Endpoint, role: Role
) -> None:
    client = Client()
    client.force_login(world.users[role])
    outside = _ask(client, endpoint, endpoint.url(world, role, False))
    assert outside.status_code == 404
    variants = list(_missing_urls(endpoint.url(world, role, True)))
    assert variants, f"{endpoint.key}: no object id in the URL"
    for label, url in variants:
        missing = _ask(client, endpoint, url)
        assert missing.status_code == 404, (label, url)
        assert missing.get("Content-Type") == outside.get("Content-Type"), (label, url)
        assert _page(missing) == _page(outside), (label, url)


def _text_ids(route: str) -> list[str]:
    """The URL arguments of ``route`` that take any text (``<str:…>`` or ``<…>``)."""
    return [name for name in re.findall(r"<(?:str:)?(\w+)>", route) if name not in NOT_IDS]


def _text_id_cases() -> list[Any]:
    """Object endpoints with a text id (child, case, receipt numbers, division codes), one
    role each. PostgreSQL text cannot hold NUL: the JSON API refuses it (422), the pages'
    middleware before any view (400)."""
    routes = {route.name: route.route for route in all_routes()}
    cases = []
    for endpoint in OBJECT_ENDPOINTS:
        if not (endpoint.api or _text_ids(routes[endpoint.key])):
            continue
        role = sorted(endpoint.allowed, key=lambda role: role.value)[0]
        cases.append(pytest.param(endpoint, role, id=f"{endpoint.key}|{role.value}"))
    return cases


@pytest.mark.parametrize(("endpoint", "role"), _text_id_cases())
def test_a_nul_in_a_text_id_is_refused_not_a_server_error(
    world: World, files_here: Path, endpoint: Endpoint, role: Role
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.users[role])
    match = resolve(endpoint.url(world, role, True).split("?", 1)[0])
    names = _text_ids(match.route)
    assert names
    for name in names:
        url = reverse(match.view_name, kwargs={**match.kwargs, name: f"C{chr(0)}1"})
        status = _ask(client, endpoint, url).status_code
        assert status == 422 if endpoint.api else status in {400, 404}, (name, status)


_PROJECT_APPS = frozenset(
    config.label for config in apps.get_app_configs() if config.name.startswith("tonghu.")
)


def _rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the project's own tables (the audit log aside), by model."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in _PROJECT_APPS - MAY_CHANGE
    }


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _changed(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]
) -> list[str]:
    return [label for label in before if before[label] != after[label]]


@pytest.mark.parametrize(("endpoint", "role"), _cases(POST_ENDPOINTS))
def test_an_out_of_scope_post_changes_nothing(
    world: World, files_here: Path, endpoint: Endpoint, role: Role
) -> None:
    client = Client()
    client.force_login(world.users[role])
    url = endpoint.url(world, role, False)
    rows, files = _rows(), _files(files_here)
    response = _ask(client, endpoint, url)
    assert response.status_code == 404
    assert _changed(rows, _rows()) == []
    assert _files(files_here) == files


def _control_cases() -> list[Any]:
    """Each POST endpoint once, with a role that may take the action in scope."""
    cases = []
    for endpoint in POST_ENDPOINTS:
        if endpoint.key in CONTROLLED_ELSEWHERE:
            continue
        roles = sorted(endpoint.allowed - endpoint.refused, key=lambda role: role.value)
        cases.append(pytest.param(endpoint, roles[0], id=f"{endpoint.key}|{roles[0].value}"))
    return cases


@pytest.mark.parametrize(("endpoint", "role"), _control_cases())
def test_the_same_post_in_scope_does_change_something(
    world: World, files_here: Path, endpoint: Endpoint, role: Role
) -> None:
    """The control for the test above: the snapshot sees the in-scope write."""
    client = Client()
    client.force_login(world.users[role])
    url = endpoint.url(world, role, True)
    rows, files, entries = _rows(), _files(files_here), AuditEntry.objects.count()
    response = _ask(client, endpoint, url)
    assert response.status_code == endpoint.success
    if endpoint.key in AUDIT_ONLY:
        assert AuditEntry.objects.count() > entries
    else:
        assert _changed(rows, _rows()) or _files(files_here) != files
