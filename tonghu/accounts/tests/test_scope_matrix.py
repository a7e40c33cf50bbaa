"""Every role × every endpoint × in/out of scope, through the one gate.

A new URL or API operation fails ``test_every_url_is_in_the_matrix_or_allowed``
(test_endpoint_coverage.py, which walks the whole URL resolver) until it is added to
ENDPOINTS with the roles that may use it. test_idor.py reuses the "object" endpoints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from tonghu.accounts.roles import Department, Role
from tonghu.alerts.tests import matrix as alerts_matrix
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.cases.tests import matrix as cases_matrix
from tonghu.children.models import VerificationTask
from tonghu.conferences.tests import matrix as conferences_matrix
from tonghu.conftest import World, edu_upload
from tonghu.exchange.tests import matrix as exchange_matrix
from tonghu.guardianship.tests import matrix as guardianship_matrix
from tonghu.linkage.models import ReviewPair
from tonghu.privacy.tests import matrix as privacy_matrix
from tonghu.roster.tests import scope as roster_scope
from tonghu.rounds.models import Round, RoundStatus
from tonghu.services.models import Referral

ALL_ROLES = frozenset(Role)
SEE_CHILDREN = frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.COUNTY_STAFF, Role.CITY_STAFF})
UPLOADERS = frozenset({Role.COUNTY_STAFF, Role.DEPARTMENT_OFFICER})
TASK_ROLES = frozenset(
    {Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.COUNTY_STAFF, Role.DEPARTMENT_OFFICER}
)
STATS_ROLES = frozenset(
    {
        Role.CHILD_DIRECTOR,
        Role.SUPERVISOR,
        Role.COUNTY_STAFF,
        Role.CITY_STAFF,
        Role.DEPARTMENT_OFFICER,
    }
)


@dataclass(frozen=True)
class Endpoint:
    key: str  # URL name, or "METHOD /api/path" as in the OpenAPI document
    url: Callable[[World, Role, bool], str]  # (world, role, in_scope) -> URL
    allowed: frozenset[Role]
    # "object": out of scope is 404; "list": out-of-scope rows are absent; "place": a page
    # about one division (?division=), refused to a role without the share (403) and 404 for
    # a division outside the user's scope; "action": a form posted about no one object,
    # refused to a role without the share (403), else answering ``success``.
    kind: str
    marker: Callable[[World, Role, bool], str] | None = None  # text only in-scope pages show
    api: bool = False
    method: str = "get"
    payload: Callable[[], dict[str, object]] | None = None
    success: int = 200  # what an allowed in-scope "object" request answers (302: redirected on)
    # Roles that reach the object but whose action is then refused with a reason (400): a case
    # step only some of the case's staff may take (each step's roles are tested in cases).
    refused: frozenset[Role] = frozenset()
    refused_status: int = 400  # 403 where the role's share lacks the action (no reason to fix)


def _child(world: World, role: Role, inside: bool) -> str:
    return (world.child_in(role) if inside else world.child_out(role)).child_id


def _division(world: World, role: Role, inside: bool) -> str:
    return world.division_in(role) if inside else world.division_out(role)


def _round(world: World, role: Role, inside: bool) -> int:
    return world.round_for(role, inside=inside).pk


def _round_marker(world: World, role: Role, inside: bool) -> str:
    return reverse("rounds:detail", args=[_round(world, role, inside)])


def _import(world: World, role: Role, inside: bool) -> int:
    return world.import_for(role, inside=inside).pk


def _task(world: World, role: Role, inside: bool) -> int:
    """A 核实 task of the role's department for a child in (or just outside) its scope."""
    user = world.users[role]
    department = user.department or Department.CIVIL_AFFAIRS.value
    child = world.child_in(role) if inside else world.child_out(role)
    task = VerificationTask.objects.create(
        child=child, field="sex", department=department, detail="性别：请核实"
    )
    return task.pk


def _pair(world: World, role: Role, inside: bool) -> int:
    """A review pair of the completed round of the role's county (or the neighbour's)."""
    round_ = world.round_for(role, inside=inside)
    Round.objects.filter(pk=round_.pk).update(status=RoundStatus.DONE)
    pair, _ = ReviewPair.objects.get_or_create(
        round=round_,
        record_id_l="edu_migrant|G1",
        record_id_r="health_child|H1",
        defaults={
            "child_id_l": "",
            "child_id_r": "",
            "match_probability": 0.6,
            "reason": "uncertain",
        },
    )
    return pair.pk


def _pair_marker(world: World, role: Role, inside: bool) -> str:
    return reverse("linkage:pair", args=[_pair(world, role, inside)])


def _referral(world: World, role: Role, inside: bool) -> int:
    """An education referral for a child in (or just outside) the role's scope."""
    child = world.child_in(role) if inside else world.child_out(role)
    referral, _ = Referral.objects.get_or_create(
        child=child,
        service_code="S03",
        department=Department.EDUCATION.value,
        defaults={"round": world.round_for(role, inside=True), "due_on": dt.date(2030, 1, 1)},
    )
    return referral.pk


def _referral_marker(world: World, role: Role, inside: bool) -> str:
    return f'id="referral-{_referral(world, role, inside)}"'


def _audit_marker(world: World, role: Role, inside: bool) -> str:
    return f"MARK-{'IN' if inside else 'OUT'}"


def _stats_url(name: str, **query: str) -> Callable[[World, Role, bool], str]:
    """A statistics page of the role's own division, or of the nearest one outside its scope."""

    def url(world: World, role: Role, inside: bool) -> str:
        return f"{reverse(name)}?{urlencode({'division': _division(world, role, inside), **query})}"

    return url


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("web:home", lambda w, r, i: reverse("web:home"), ALL_ROLES, "list", _child),
    Endpoint(
        "children:list", lambda w, r, i: reverse("children:list"), SEE_CHILDREN, "list", _child
    ),
    Endpoint(
        "children:detail",
        lambda w, r, i: reverse("children:detail", args=[_child(w, r, i)]),
        SEE_CHILDREN,
        "object",
    ),
    Endpoint(
        "children:correct",
        lambda w, r, i: reverse("children:correct", args=[_child(w, r, i)]),
        frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.COUNTY_STAFF}),
        "object",
        method="post",
        payload=lambda: {"field": "stage", "value": "小学", "reason": "走访核实", "version": "1"},
    ),
    Endpoint(
        "children:reveal",
        lambda w, r, i: reverse("children:reveal", args=[_child(w, r, i)]),
        SEE_CHILDREN,
        "object",
        method="post",
        # privacy.reveal_roles of the default profile: city staff see masked values only.
        refused=frozenset({Role.CITY_STAFF}),
        refused_status=403,
    ),
    Endpoint(
        "children:national_export",
        lambda w, r, i: reverse("children:national_export"),
        frozenset({Role.COUNTY_STAFF}),
        "list",
    ),
    Endpoint(
        "children:tasks",
        lambda w, r, i: reverse("children:tasks"),
        TASK_ROLES,
        "list",
    ),
    Endpoint(
        "children:task_answer",
        lambda w, r, i: reverse("children:task_answer", args=[_task(w, r, i)]),
        TASK_ROLES,
        "object",
        method="post",
        payload=lambda: {"answer": "已与户籍核对，本部门记录有误"},
    ),
    Endpoint(
        "linkage:queue",
        # Both pairs exist before the page is asked for: only the in-scope one may show.
        lambda w, r, i: (_pair(w, r, True), _pair(w, r, False), reverse("linkage:queue"))[-1],
        frozenset({Role.COUNTY_STAFF}),
        "list",
        _pair_marker,
    ),
    Endpoint(
        "linkage:pair",
        lambda w, r, i: reverse("linkage:pair", args=[_pair(w, r, i)]),
        frozenset({Role.COUNTY_STAFF}),
        "object",
    ),
    Endpoint(
        "linkage:decide",
        lambda w, r, i: reverse("linkage:decide", args=[_pair(w, r, i)]),
        frozenset({Role.COUNTY_STAFF}),
        "object",
        method="post",
        payload=lambda: {"same": "0", "note": "双胞胎"},
    ),
    Endpoint("divisions:mine", lambda w, r, i: reverse("divisions:mine"), ALL_ROLES, "redirect"),
    Endpoint(
        "divisions:detail",
        lambda w, r, i: reverse("divisions:detail", args=[_division(w, r, i)]),
        ALL_ROLES,
        "object",
    ),
    Endpoint(
        "audit:search",
        lambda w, r, i: reverse("audit:search"),
        frozenset({Role.AUDITOR}),
        "list",
        _audit_marker,
    ),
    Endpoint(
        "admin:index", lambda w, r, i: reverse("admin:index"), frozenset({Role.SYSADMIN}), "admin"
    ),
    Endpoint("accounts:login", lambda w, r, i: reverse("accounts:login"), ALL_ROLES, "redirect"),
    Endpoint("accounts:logout", lambda w, r, i: reverse("accounts:logout"), ALL_ROLES, "logout"),
    # The user's own 双因素认证 device (no jurisdiction data): every role may set one up;
    # without a device, verifying and turning it off send the user on.
    Endpoint(
        "accounts:two_factor", lambda w, r, i: reverse("accounts:two_factor"), ALL_ROLES, "list"
    ),
    Endpoint(
        "accounts:two_factor_verify",
        lambda w, r, i: reverse("accounts:two_factor_verify"),
        ALL_ROLES,
        "redirect",
    ),
    Endpoint(
        "accounts:two_factor_disable",
        lambda w, r, i: reverse("accounts:two_factor_disable"),
        ALL_ROLES,
        "redirect",
        method="post",
        payload=lambda: {"code": "123456"},
    ),
    Endpoint(
        "GET /api/accounts/me", lambda w, r, i: "/api/accounts/me", ALL_ROLES, "list", api=True
    ),
    Endpoint(
        "GET /api/divisions/{code}",
        lambda w, r, i: f"/api/divisions/{_division(w, r, i)}",
        ALL_ROLES,
        "object",
        api=True,
    ),
    Endpoint(
        "GET /api/divisions/{code}/children",
        lambda w, r, i: f"/api/divisions/{_division(w, r, i)}/children",
        ALL_ROLES,
        "object",
        api=True,
    ),
    Endpoint(
        "GET /api/children",
        lambda w, r, i: "/api/children",
        SEE_CHILDREN,
        "list",
        _child,
        api=True,
    ),
    Endpoint(
        "GET /api/children/{child_id}",
        lambda w, r, i: f"/api/children/{_child(w, r, i)}",
        SEE_CHILDREN,
        "object",
        api=True,
    ),
    Endpoint(
        "GET /api/audit",
        lambda w, r, i: "/api/audit",
        frozenset({Role.AUDITOR}),
        "list",
        _audit_marker,
        api=True,
    ),
    Endpoint(
        "rounds:list",
        lambda w, r, i: reverse("rounds:list"),
        UPLOADERS,
        "list",
        _round_marker,
    ),
    Endpoint(
        "rounds:detail",
        lambda w, r, i: reverse("rounds:detail", args=[_round(w, r, i)]),
        UPLOADERS,
        "object",
    ),
    Endpoint(
        "feeds:upload",
        lambda w, r, i: reverse("feeds:upload", args=[_round(w, r, i)]),
        UPLOADERS,
        "object",
        method="post",
        payload=lambda: {"file": edu_upload(), "source": ""},
    ),
    Endpoint(
        "feeds:detail",
        lambda w, r, i: reverse("feeds:detail", args=[_import(w, r, i)]),
        UPLOADERS,
        "object",
    ),
    Endpoint(
        "feeds:report",
        lambda w, r, i: reverse("feeds:report", args=[_import(w, r, i)]),
        UPLOADERS,
        "object",
    ),
    Endpoint(
        "services:inbox",
        # Both referrals exist before the page is asked for: only the in-scope one may show.
        lambda w, r, i: (_referral(w, r, True), _referral(w, r, False), reverse("services:inbox"))[
            -1
        ],
        frozenset({Role.DEPARTMENT_OFFICER}),
        "list",
        _referral_marker,
    ),
    Endpoint(
        "services:act",
        lambda w, r, i: reverse("services:act", args=[_referral(w, r, i)]),
        frozenset({Role.DEPARTMENT_OFFICER}),
        "object",
        method="post",
        payload=lambda: {"action": "accept"},
    ),
    Endpoint(
        "services:coverage", lambda w, r, i: reverse("services:coverage"), SEE_CHILDREN, "list"
    ),
    Endpoint("services:public", lambda w, r, i: reverse("services:public"), ALL_ROLES, "public"),
    Endpoint(
        "notifications:inbox", lambda w, r, i: reverse("notifications:inbox"), ALL_ROLES, "list"
    ),
    Endpoint(
        "notifications:read",
        lambda w, r, i: reverse("notifications:read"),
        ALL_ROLES,
        "redirect",
        method="post",
    ),
    Endpoint(
        "roster:list", roster_scope.roster_url, SEE_CHILDREN, "list", roster_scope.worker_marker
    ),
    Endpoint("roster:export", lambda w, r, i: reverse("roster:export"), SEE_CHILDREN, "list"),
    Endpoint("roster:worker", roster_scope.worker_url("roster:worker"), SEE_CHILDREN, "object"),
    Endpoint(
        "roster:training_add",
        roster_scope.worker_url("roster:training_add"),
        frozenset({Role.COUNTY_STAFF, Role.SUPERVISOR}),
        "object",
        method="post",
        payload=lambda: {"on": "2025-03-01", "topic": "儿童主任业务培训", "hours": "4"},
    ),
    Endpoint(
        "roster:worker_edit",
        roster_scope.worker_url("roster:worker_edit"),
        frozenset({Role.COUNTY_STAFF}),
        "object",
        method="post",
        payload=lambda: {"phone": "13812345678", "appointed_on": "2024-01-01", "note": ""},
    ),
    Endpoint(
        "guardianship:child",
        lambda w, r, i: reverse("guardianship:child", args=[_child(w, r, i)]),
        SEE_CHILDREN,
        "object",
    ),
    Endpoint(
        "guardianship:assess",
        lambda w, r, i: reverse("guardianship:assess", args=[_child(w, r, i)]),
        guardianship_matrix.EDITORS,
        "object",
        method="post",
        payload=guardianship_matrix.assessment_payload,
    ),
    Endpoint(
        "guardianship:agreement_add",
        lambda w, r, i: reverse("guardianship:agreement_add", args=[_child(w, r, i)]),
        guardianship_matrix.EDITORS,
        "object",
        method="post",
        payload=guardianship_matrix.agreement_payload,
    ),
    Endpoint(
        "guardianship:agreement_unfit",
        guardianship_matrix.agreement_url("guardianship:agreement_unfit"),
        guardianship_matrix.EDITORS,
        "object",
        method="post",
        payload=lambda: {"reason": "长期在外务工，无法照护"},
    ),
    Endpoint(
        "guardianship:agreement_file",
        guardianship_matrix.agreement_url("guardianship:agreement_file", with_file=True),
        SEE_CHILDREN,
        "object",
    ),
    Endpoint(
        "guardianship:contact_add",
        lambda w, r, i: reverse(
            "guardianship:contact_add", args=[guardianship_matrix.left_behind(w, r, i)]
        ),
        guardianship_matrix.EDITORS,
        "object",
        method="post",
        payload=guardianship_matrix.contact_payload,
    ),
    Endpoint(
        "guardianship:tasks",
        guardianship_matrix.tasks_url,
        frozenset({Role.COUNTY_STAFF}),
        "list",
        guardianship_matrix.task_marker,
    ),
    Endpoint(
        "guardianship:task_handle",
        lambda w, r, i: reverse(
            "guardianship:task_handle", args=[guardianship_matrix.task(w, r, i)]
        ),
        frozenset({Role.COUNTY_STAFF}),
        "object",
        method="post",
        payload=lambda: {"note": "已入户核查并落实临时监护"},
    ),
    Endpoint(
        "visits:worklist",
        lambda w, r, i: reverse("visits:worklist"),
        frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.COUNTY_STAFF}),
        "list",
    ),
    Endpoint(
        "visits:child",
        lambda w, r, i: reverse("visits:child", args=[_child(w, r, i)]),
        SEE_CHILDREN,
        "object",
    ),
    Endpoint(
        "visits:new",
        lambda w, r, i: reverse("visits:new", args=[_child(w, r, i)]),
        frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.COUNTY_STAFF}),
        "object",
    ),
    Endpoint("api:openapi-json", lambda w, r, i: "/api/openapi.json", ALL_ROLES, "public"),
    Endpoint(
        "conferences:new",
        conferences_matrix.new_url,
        conferences_matrix.RECORDERS,
        "object",
    ),
    Endpoint(
        "conferences:tasks",
        conferences_matrix.tasks_url,
        conferences_matrix.VIEWERS,
        "list",
        conferences_matrix.task_marker,
    ),
    Endpoint(
        "conferences:task",
        conferences_matrix.task_url("conferences:task"),
        conferences_matrix.VIEWERS,
        "object",
    ),
    Endpoint(
        "conferences:task_accept",
        conferences_matrix.task_url("conferences:task_accept"),
        conferences_matrix.HANDLERS,
        "object",
        method="post",
    ),
    Endpoint(
        "conferences:task_done",
        conferences_matrix.task_url("conferences:task_done"),
        conferences_matrix.HANDLERS,
        "object",
        method="post",
        payload=lambda: {"answer": "已安排儿童复学"},
    ),
    Endpoint(
        "conferences:task_decline",
        conferences_matrix.task_url("conferences:task_decline"),
        conferences_matrix.HANDLERS,
        "object",
        method="post",
        payload=lambda: {"reason": "不属于本部门职责"},
    ),
    Endpoint(
        "alerts:list",
        alerts_matrix.list_url,
        alerts_matrix.HANDLERS,
        "list",
        alerts_matrix.alert_marker,
    ),
    Endpoint(
        "alerts:dismiss",
        alerts_matrix.dismiss_url,
        alerts_matrix.HANDLERS,
        "object",
        method="post",
        payload=lambda: {"reason": "经核实与祖父母同住"},
        success=302,
    ),
    Endpoint(
        "alerts:to_case",
        alerts_matrix.case_url,
        alerts_matrix.HANDLERS,
        "object",
        method="post",
        payload=lambda: {"police_needed": "on", "note": "夜间独自在家"},
        success=302,
    ),
    Endpoint(
        "cases:list",
        lambda w, r, i: reverse("cases:list"),
        cases_matrix.VIEWERS,
        "list",
    ),
    Endpoint(
        "cases:overdue",
        cases_matrix.overdue_url,
        frozenset({Role.SUPERVISOR, Role.COUNTY_STAFF}),
        "list",
        cases_matrix.overdue_marker,
    ),
    Endpoint(
        "cases:detail",
        cases_matrix.case_url("cases:detail"),
        cases_matrix.CASE_ROLES,
        "object",
    ),
    Endpoint(
        "cases:step",
        cases_matrix.step_url,
        cases_matrix.CASE_ROLES,
        "object",
        method="post",
        payload=cases_matrix.step_payload,
        success=302,
        refused=frozenset({Role.CHILD_DIRECTOR, Role.CITY_STAFF}),
    ),
    Endpoint(
        "cases:file_add",
        cases_matrix.file_add_url,
        cases_matrix.CASE_ROLES,
        "object",
        method="post",
        payload=cases_matrix.file_payload,
        success=302,
        refused=frozenset({Role.CITY_STAFF}),
    ),
    Endpoint("cases:file", cases_matrix.file_url, cases_matrix.CASE_ROLES, "object"),
    Endpoint(
        "cases:link",
        cases_matrix.case_url("cases:link"),
        cases_matrix.CASE_ROLES,
        "object",
        method="post",
        payload=lambda: {"child_id": "C000002"},  # 东湾村: in the supervisor's town
        success=302,
        refused=frozenset({Role.CHILD_DIRECTOR, Role.CITY_STAFF}),
    ),
    Endpoint(
        "cases:transfer",
        cases_matrix.case_url("cases:transfer"),
        cases_matrix.CASE_ROLES,
        "object",
        method="post",
        payload=lambda: {"to_county": "410403000000", "reason": "迁居"},
        success=302,
        refused=frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.CITY_STAFF}),
    ),
    Endpoint(
        "cases:transfers",
        lambda w, r, i: reverse("cases:transfers"),
        cases_matrix.VIEWERS,
        "list",
    ),
    Endpoint(
        "cases:transfer_answer",
        cases_matrix.transfer_answer_url,
        frozenset({Role.COUNTY_STAFF}),
        "object",
        method="post",
        payload=lambda: {"division": "410402100201"},
        success=302,
    ),
    Endpoint(
        "reports:mine", lambda w, r, i: reverse("reports:mine"), cases_matrix.REPORTERS, "list"
    ),
    Endpoint("reports:new", lambda w, r, i: reverse("reports:new"), cases_matrix.REPORTERS, "list"),
    Endpoint("reports:receipt", cases_matrix.receipt_url, cases_matrix.REPORTERS, "object"),
    Endpoint(
        "privacy:emergency",
        lambda w, r, i: reverse("privacy:emergency"),
        privacy_matrix.BREAKERS,
        "list",
    ),
    Endpoint(
        "privacy:review",
        privacy_matrix.reviews_url,
        privacy_matrix.REVIEWERS,
        "list",
        privacy_matrix.review_marker,
    ),
    Endpoint(
        "privacy:review_one",
        privacy_matrix.review_url,
        privacy_matrix.REVIEWERS,
        "object",
        method="post",
        payload=lambda: {"note": ""},
        success=302,
    ),
    Endpoint(
        "exchange:home",
        exchange_matrix.packages_url,
        exchange_matrix.EXCHANGERS,
        "list",
        lambda w, r, i: f'href="{exchange_matrix.download_url(w, r, i)}"',
    ),
    Endpoint(
        "exchange:download",
        exchange_matrix.download_url,
        exchange_matrix.EXCHANGERS,
        "object",
    ),
    # An empty form: refused with its reason (400) to the roles that may import.
    Endpoint(
        "exchange:import",
        lambda w, r, i: reverse("exchange:import"),
        exchange_matrix.EXCHANGERS,
        "action",
        method="post",
        success=400,
    ),
    Endpoint(
        "exchange:export",
        lambda w, r, i: reverse("exchange:export"),
        exchange_matrix.COUNTY_OFFICE,
        "action",
        method="post",
        payload=lambda: {"kind": "migrants", "recipient": "410403"},
        success=400,  # no county in the registry yet
    ),
    Endpoint(
        "exchange:certify_list",
        exchange_matrix.certify_list_url,
        exchange_matrix.COUNTY_OFFICE,
        "list",
        exchange_matrix.certify_marker,
    ),
    Endpoint(
        "exchange:certify",
        exchange_matrix.certify_url,
        exchange_matrix.COUNTY_OFFICE,
        "object",
    ),
    # The world's children have no hukou code: the request is refused with that reason.
    Endpoint(
        "exchange:certify_new",
        exchange_matrix.certify_new_url,
        exchange_matrix.COUNTY_OFFICE,
        "object",
        method="post",
        payload=lambda: {"subject": "orphan"},
        refused=exchange_matrix.COUNTY_OFFICE,
    ),
    Endpoint("stats:dashboard", _stats_url("stats:dashboard"), STATS_ROLES, "place"),
    Endpoint("stats:tables", _stats_url("stats:tables"), STATS_ROLES, "place"),
    Endpoint(
        "stats:tables?format=xlsx", _stats_url("stats:tables", format="xlsx"), STATS_ROLES, "place"
    ),
    Endpoint("stats:annual", _stats_url("stats:annual"), STATS_ROLES, "place"),
    Endpoint(
        "stats:annual?format=xlsx", _stats_url("stats:annual", format="xlsx"), STATS_ROLES, "place"
    ),
    Endpoint(
        "stats:annual?format=pdf", _stats_url("stats:annual", format="pdf"), STATS_ROLES, "place"
    ),
)
BY_KEY = {endpoint.key: endpoint for endpoint in ENDPOINTS}


def _seed_audit(world: World) -> None:
    """One entry by a user inside the auditor's county and one by a user outside it."""
    audit_record(
        actor=world.users[Role.COUNTY_STAFF], action=Action.VIEW, object_type="t", detail="MARK-IN"
    )
    outsider = world.users[Role.CITY_STAFF]
    outsider.division_id = "410403000000"
    outsider.role = Role.COUNTY_STAFF
    outsider.save()
    audit_record(actor=outsider, action=Action.VIEW, object_type="t", detail="MARK-OUT")


CASES = [
    pytest.param(
        endpoint, role, inside, id=f"{endpoint.key}|{role.value}|{'in' if inside else 'out'}"
    )
    for endpoint in ENDPOINTS
    for role in Role
    for inside in (True, False)
]


@pytest.mark.parametrize(("endpoint", "role", "inside"), CASES)
def test_scope_matrix(world: World, endpoint: Endpoint, role: Role, inside: bool) -> None:
    if endpoint.marker is _audit_marker:
        _seed_audit(world)
    user = world.users[role]
    client = Client()
    client.force_login(user)
    url = endpoint.url(world, role, inside)
    if endpoint.kind == "logout":
        assert client.post(url).status_code == 302
        assert "_auth_user_id" not in client.session
        return
    payload = endpoint.payload() if endpoint.payload else None
    response = client.post(url, payload) if endpoint.method == "post" else client.get(url)
    allowed = role in endpoint.allowed
    if endpoint.kind in {"redirect", "public"}:
        assert response.status_code == (302 if endpoint.kind == "redirect" else 200)
        return
    if endpoint.kind == "admin":
        assert response.status_code == (200 if allowed else 302)
        return
    if not allowed:
        assert response.status_code == (404 if endpoint.kind == "object" else 403)
        return
    if endpoint.kind == "action":
        assert response.status_code == endpoint.success
        return
    if endpoint.kind in {"object", "place"}:
        expected = endpoint.refused_status if role in endpoint.refused else endpoint.success
        assert response.status_code == (expected if inside else 404)
        return
    assert response.status_code == 200
    if endpoint.marker is not None and (endpoint.marker is not _child or role in SEE_CHILDREN):
        text = response.content.decode()
        assert endpoint.marker(world, role, True) in text
        assert endpoint.marker(world, role, False) not in text


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_anonymous_is_sent_to_login_or_refused(db: None, endpoint: Endpoint, world: World) -> None:
    url = endpoint.url(world, Role.COUNTY_STAFF, True)
    payload = endpoint.payload() if endpoint.payload else None
    response = Client().post(url, payload) if endpoint.method == "post" else Client().get(url)
    if endpoint.kind == "public" or endpoint.key == "accounts:login":
        assert response.status_code == 200
    elif endpoint.kind == "logout":
        assert response.status_code == 405
    elif endpoint.api:
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert "/login/" in response["Location"]
