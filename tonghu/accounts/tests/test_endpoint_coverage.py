"""Every URL the project serves is either in the scope matrix or explicitly allowed here.

The whole URL resolver is walked (every include, every namespace, unnamed patterns too), so
a page or API operation added anywhere fails ``test_every_url_is_in_the_matrix_or_allowed``
by name until it is added to ``ENDPOINTS`` in test_scope_matrix.py (with the roles that may
use it and an in-scope and an out-of-scope object) or, if it shows nothing scoped, to the
short allow-list below with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from tonghu.accounts.roles import Role
from tonghu.accounts.tests.test_scope_matrix import BY_KEY
from tonghu.config.api import api
from tonghu.conftest import World

# URL names that are not in the matrix, each with why no scope applies.
ALLOWED: dict[str, str] = {
    "admin:login": "the admin's sign-in form: public, shows no data",
    "api:api-root": "django-ninja's root (/api/): answers 404 to everyone, shows no data",
}
# Whole namespaces allowed at once.
ALLOWED_NAMESPACES: dict[str, str] = {
    "admin": (
        "configuration for the 系统管理员 only: every page passes TonghuAdminSite.has_permission "
        "(admin:index is in the matrix; test_admin_pages_refuse_every_other_role checks each)"
    ),
}
# Unnamed patterns (no name to declare) by route prefix.
ALLOWED_UNNAMED: dict[str, str] = {
    "admin/": "the admin's redirect to an object's change page and its catch-all, both "
    "behind TonghuAdminSite.has_permission",
}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or "" for an unnamed pattern
    route: str  # the pattern as written, prefixes included ("children/<str:child_id>/")
    pattern: URLPattern


def all_routes(
    patterns: list[URLPattern | URLResolver] | None = None, namespace: str = "", prefix: str = ""
) -> Iterator[Route]:
    """Every URL pattern under the root URLconf, with its full name and route."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from all_routes(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        else:
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield Route(name, prefix + str(pattern.pattern), pattern)


def _openapi_path(route: str) -> str:
    """``api/children/<child_id>`` as OpenAPI writes it: ``/api/children/{child_id}``."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _api_operations() -> dict[str, list[str]]:
    """OpenAPI path -> the "METHOD path" keys of its operations."""
    return {
        path: [f"{method.upper()} {path}" for method in operations]
        for path, operations in api.get_openapi_schema()["paths"].items()
    }


def _missing(route: Route, operations: dict[str, list[str]]) -> list[str]:
    """What is not declared about ``route``: nothing, its name, or its API operations."""
    if not route.name:
        allowed = any(route.route.startswith(prefix) for prefix in ALLOWED_UNNAMED)
        return [] if allowed else [f"(unnamed) /{route.route}"]
    namespace = route.name.split(":", 1)[0] if ":" in route.name else ""
    if route.name in BY_KEY or route.name in ALLOWED or namespace in ALLOWED_NAMESPACES:
        return []
    keys = operations.get(_openapi_path(route.route))
    if route.name.startswith("api:") and keys:
        return [f"{key} ({route.name})" for key in keys if key not in BY_KEY]
    return [f"{route.name} /{route.route}"]


def test_every_url_is_in_the_matrix_or_allowed() -> None:
    operations = _api_operations()
    missing = [line for route in all_routes() for line in _missing(route, operations)]
    assert not missing, (
        "URLs neither in the scope matrix (tonghu/accounts/tests/test_scope_matrix.py) nor "
        "allowed in test_endpoint_coverage.py:\n  " + "\n  ".join(missing)
    )


def test_every_api_operation_is_in_the_matrix() -> None:
    """The OpenAPI document's operations, even one a URL pattern would hide."""
    keys = [key for keys in _api_operations().values() for key in keys]
    assert keys
    assert [key for key in keys if key not in BY_KEY] == []


def test_the_matrix_names_no_url_that_is_gone() -> None:
    """A stale matrix entry would test nothing: each key is a live URL name or operation."""
    names = {route.name for route in all_routes()}
    operations = {key for keys in _api_operations().values() for key in keys}
    stale = [key for key in BY_KEY if key.split("?", 1)[0] not in names and key not in operations]
    assert stale == []


def test_the_allow_list_names_live_urls_only() -> None:
    names = {route.name for route in all_routes()}
    routes = [route.route for route in all_routes() if not route.name]
    assert [name for name in ALLOWED if name not in names] == []
    assert [name for name in ALLOWED if name in BY_KEY] == []  # declared twice
    for namespace in ALLOWED_NAMESPACES:
        assert any(name.startswith(f"{namespace}:") for name in names)
    for prefix in ALLOWED_UNNAMED:
        assert any(route.startswith(prefix) for route in routes)


def test_the_walk_finds_nested_and_api_urls() -> None:
    """The walk reaches into includes and namespaces (a regression guard for the walker)."""
    routes = {route.name: route.route for route in all_routes()}
    assert routes["children:detail"] == "children/<str:child_id>/"
    assert routes["api:child_detail"] == "api/children/<child_id>"
    assert _openapi_path(routes["api:child_detail"]) == "/api/children/{child_id}"
    assert "admin:index" in routes


def _sample_url(route: Route) -> str:
    """A URL of ``route`` with made-up arguments (an app label for the admin's app index)."""
    regex = route.pattern.pattern.regex
    names = list(regex.groupindex) or re.findall(r"<(?:\w+:)?(\w+)>", str(route.pattern.pattern))
    for sample in ("1", "accounts"):
        try:
            return reverse(route.name, kwargs=dict.fromkeys(names, sample))
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot build a URL for {route.name}")


ADMIN_ROUTES = [route for route in all_routes() if route.name.startswith("admin:")]


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda route: route.name)
def test_admin_pages_refuse_every_other_role(world: World, route: Route) -> None:
    """Every admin page sends anyone but the 系统管理员 to the admin's sign-in (or, for
    logout, to the index), never showing anything; the sign-in form itself is public."""
    url = _sample_url(route)
    for role in (*(role for role in Role if role != Role.SYSADMIN), None):
        client = Client()
        if role is not None:
            client.force_login(world.users[role])
        response = client.get(url)
        if route.name == "admin:login":
            assert response.status_code in {200, 302}
            continue
        assert response.status_code == 302, (route.name, role)
        assert response["Location"].startswith(reverse("admin:login")) or (
            route.name == "admin:logout" and response["Location"] == reverse("admin:index")
        ), (route.name, role, response["Location"])
