"""Step 8, match (政策找人): the services of the profile's list each child is eligible for.

Each service's rule (tonghu.policy.rules) compiles to one SQL condition over the facts of
``classified``; all of them are evaluated in a single pass over the children.
"""

from __future__ import annotations

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.policy.profile import Profile

_ELIGIBLE = """
CREATE OR REPLACE TEMP TABLE eligible_services AS
SELECT child_id, service_code FROM (
    SELECT child_id, unnest([{checks}]) AS service_code
    FROM {children} WHERE {applies_to}
) WHERE service_code IS NOT NULL
ORDER BY child_id, service_code
"""
APPLIES_TO = {"migrant": "is_migrant"}


def match_services(con: Connection, *, children: str, profile: Profile) -> str:
    """Write ``eligible_services`` (child_id, service_code) and return its name."""
    checks = ", ".join(
        f"CASE WHEN {item.who.to_sql()} THEN {quote(item.code)} END"
        for item in profile.services.items
    )
    run(
        con,
        _ELIGIBLE.format(
            checks=checks,
            children=ident(children),
            applies_to=APPLIES_TO[profile.services.applies_to],
        ),
    )
    return "eligible_services"
