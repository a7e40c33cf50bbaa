"""Schemathesis against the JSON API, in process: every operation, generated inputs, checks.

The schema is the NinjaAPI's own OpenAPI document (the one /api/openapi.json serves) and
requests go through Django's WSGI handler, the whole middleware stack included,
authenticated with a real bearer token of a user who has children, divisions and audit
entries in scope. Whatever the input, an operation must never answer 5xx, and every answer
must match the document: a documented status code, the documented content type and a body
of the documented schema. ``ignored_auth`` also probes each operation without the token and
with a wrong one (401 both).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from tonghu.accounts.models import ApiToken
from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditEntry
from tonghu.audit.services import audit_record
from tonghu.config.api import api
from tonghu.conftest import World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The county's staff see children and divisions (the audit log is refused, 403); the
# auditor sees the audit log (children refused); a village's child director sees a village.
ROLES = (Role.COUNTY_STAFF, Role.AUDITOR, Role.CHILD_DIRECTOR)
# Values of the fixture world (tonghu/conftest.py), offered as explicit examples so that
# the examples phase reaches objects in scope, just outside it and missing, not only random
# misses. Children are numbered by village: C000001 郑州 (another city), C000002 东湾村,
# C000003 西湾村, C000004 北渡村 (all in 新华区), C000005 卫东区 (the neighbouring county).
PATH_EXAMPLES: dict[str, list[object]] = {
    "code": ["410402000000", "410402100201", "410403000000", "41040", "000000000000"],
    "child_id": ["C000002", "C000003", "C000001", "C000005", "C999999"],
}
QUERY_EXAMPLES: dict[str, list[object]] = {
    "name": ["测试儿童", "测试", ""],
    "page": [1, 2, 0, -1, 999999],
    "child_id": ["C000002", "C000005"],
    "username": ["u_county_staff"],
    "action": [Action.VIEW.value],
    "since": ["2020-01-01T00:00:00+08:00"],
    "until": ["2100-01-01T00:00:00Z"],
}
PLACEHOLDER = "token-of-the-test-user"


def _with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the fixture world's values as parameter examples."""
    document = copy.deepcopy(document)
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                table = PATH_EXAMPLES if parameter["in"] == "path" else QUERY_EXAMPLES
                values = table.get(parameter["name"], [])
                if values:
                    parameter["examples"] = {
                        f"e{number}": {"value": value} for number, value in enumerate(values)
                    }
    return document


schema = schemathesis.openapi.from_dict(_with_examples(api.get_openapi_schema()))
# Requests (and the checks' own probes) go through Django's WSGI handler, in process.
schema.app = WSGIHandler()


@schema.auth(refresh_interval=None)
class BearerToken:
    """Marks the cases as explicitly authenticated, so that ``ignored_auth`` takes the token
    for a valid one and probes the API without it and with a wrong one. Some cases are built
    at collection, before any user exists: the test sends its user's real token instead of
    the placeholder."""

    def get(self, case: schemathesis.Case[Any], context: schemathesis.AuthContext) -> str:
        return PLACEHOLDER

    def set(
        self, case: schemathesis.Case[Any], data: str, context: schemathesis.AuthContext
    ) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


@pytest.fixture
def keep_connection() -> Iterator[None]:
    """Requests through the WSGI handler must not close the test's connection at their
    start and end (the test database lives in the test's transaction); django.test.Client
    does the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _seed_audit(world: World) -> None:
    child = world.child_in(Role.COUNTY_STAFF)
    audit_record(
        actor=world.users[Role.COUNTY_STAFF],
        action=Action.VIEW,
        object_type="child",
        object_ids=[child.child_id],
        child_ids=[child.child_id],
        detail="查看儿童档案",
    )


def _token(world: World, role: Role) -> str:
    _, plain = ApiToken.issue(user=world.users[role], name="fuzz")
    return plain


@pytest.fixture(params=ROLES, ids=lambda role: role.value)
def bearer(request: pytest.FixtureRequest, world: World) -> str:
    """A bearer token of the role's user; the audit log holds an entry about a child in the
    county (so the auditor's answers are not all empty)."""
    _seed_audit(world)
    return _token(world, request.param)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_operations_conform(
    case: schemathesis.Case[Any], bearer: str, keep_connection: None
) -> None:
    # Cases testing the API without (or with generated) credentials carry no placeholder.
    if case.headers.get("Authorization") == f"Bearer {PLACEHOLDER}":
        case.call_and_validate(
            headers={"Authorization": f"Bearer {bearer}"}, checks=[*CHECKS, ignored_auth]
        )
    else:
        case.call_and_validate(checks=CHECKS)


def test_the_fuzzed_document_is_the_served_one(world: World) -> None:
    client = Client()
    client.force_login(world.users[Role.COUNTY_STAFF])
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(api.get_openapi_schema()))


# Inputs found by hand or by fuzzing that once failed: (operation, role, path parameters,
# query, expected status). A NUL character failed in PostgreSQL (500); a bare or zone-less
# time warned about a naive datetime; a time off the calendar once in UTC overflowed (500);
# a refused role got Django's HTML 403 page instead of JSON.
NUL = "\x00"
ATTACKS: list[tuple[str, Role, dict[str, str], dict[str, object], int]] = [
    ("GET /api/children", Role.COUNTY_STAFF, {}, {"name": NUL}, 422),
    ("GET /api/children", Role.COUNTY_STAFF, {}, {"name": f"测试{NUL}儿童"}, 422),
    ("GET /api/children", Role.COUNTY_STAFF, {}, {"name": "测" * 10_000}, 200),
    ("GET /api/children", Role.COUNTY_STAFF, {}, {"page": "9" * 30}, 200),
    ("GET /api/children", Role.COUNTY_STAFF, {}, {"page": "-5"}, 200),
    ("GET /api/children", Role.COUNTY_STAFF, {}, {"page": "第二页"}, 422),
    ("GET /api/children", Role.AUDITOR, {}, {}, 403),
    ("GET /api/children/{child_id}", Role.COUNTY_STAFF, {"child_id": f"C000002{NUL}"}, {}, 422),
    (
        "GET /api/children/{child_id}",
        Role.COUNTY_STAFF,
        {"child_id": "C000002' OR '1'='1"},
        {},
        404,
    ),
    ("GET /api/children/{child_id}", Role.COUNTY_STAFF, {"child_id": "%"}, {}, 404),
    ("GET /api/divisions/{code}", Role.COUNTY_STAFF, {"code": f"410402{NUL}"}, {}, 422),
    ("GET /api/divisions/{code}", Role.COUNTY_STAFF, {"code": "4104%"}, {}, 404),
    ("GET /api/divisions/{code}/children", Role.COUNTY_STAFF, {"code": NUL}, {}, 422),
    ("GET /api/audit", Role.AUDITOR, {}, {"username": NUL}, 422),
    ("GET /api/audit", Role.AUDITOR, {}, {"child_id": NUL}, 422),
    ("GET /api/audit", Role.AUDITOR, {}, {"action": NUL}, 422),
    ("GET /api/audit", Role.AUDITOR, {}, {"since": "9999-12-31T23:59:59-23:59"}, 422),
    ("GET /api/audit", Role.AUDITOR, {}, {"until": "0001-01-01T00:00:00+14:00"}, 422),
    ("GET /api/audit", Role.AUDITOR, {}, {"since": "明天"}, 422),
    # An offset Python takes but PostgreSQL does not (found by schemathesis): read in UTC.
    ("GET /api/audit", Role.AUDITOR, {}, {"since": "0305-03-21T12:59:57-16:19"}, 200),
    ("GET /api/audit", Role.COUNTY_STAFF, {}, {}, 403),
]


def _attack_id(attack: tuple[str, Role, dict[str, str], dict[str, object], int]) -> str:
    label, role, path, query, _ = attack
    return f"{label}|{role.value}|{path or query}"[:80]


@pytest.mark.parametrize("attack", ATTACKS, ids=_attack_id)
def test_attacker_inputs_are_answered_as_documented(
    world: World,
    keep_connection: None,
    attack: tuple[str, Role, dict[str, str], dict[str, object], int],
) -> None:
    label, role, path, query, status = attack
    operation = schema.find_operation_by_label(label)
    assert operation is not None
    case = operation.Case(path_parameters=path, query=query)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {_token(world, role)}"}, checks=CHECKS
    )
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("since", "until", "found"),
    [
        ("2020-01-01", "", True),  # a bare date: midnight, Beijing time
        ("2020-01-01T08:00:00", "", True),  # no zone: Beijing time
        ("", "2020-01-01T00:00:00", False),
        ("2100-01-01T00:00:00Z", "", False),
    ],
)
def test_audit_times_without_a_zone_are_beijing_time(
    world: World, keep_connection: None, since: str, until: str, found: bool
) -> None:
    _seed_audit(world)
    query = {name: value for name, value in (("since", since), ("until", until)) if value}
    operation = schema.find_operation_by_label("GET /api/audit")
    assert operation is not None
    response = operation.Case(query=query).call_and_validate(
        headers={"Authorization": f"Bearer {_token(world, Role.AUDITOR)}"}, checks=CHECKS
    )
    assert response.status_code == 200
    assert bool(response.json()) is found


def test_a_naive_time_is_read_in_the_site_zone(world: World) -> None:
    """Half an hour before the entry on Beijing's wall clock, without a zone, finds it; half
    an hour after does not (read as UTC, both would be 7.5 hours after it)."""
    _seed_audit(world)
    at = timezone.localtime(AuditEntry.objects.get().at).replace(tzinfo=None)
    assert timezone.get_current_timezone_name() == "Asia/Shanghai"
    client = Client()
    client.force_login(world.users[Role.AUDITOR])
    half_hour = dt.timedelta(minutes=30)
    viewed = Action.VIEW.value  # not the auditor's own login
    before = client.get("/api/audit", {"since": (at - half_hour).isoformat(), "action": viewed})
    after = client.get("/api/audit", {"since": (at + half_hour).isoformat(), "action": viewed})
    assert [entry["detail"] for entry in before.json()] == ["查看儿童档案"]
    assert after.json() == []
