"""The review queue (人工核实) in a real chromium: a county clerk sees both records side by
side with the evidence in Chinese, decides, and the decision is kept."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.conftest import make_user
from tonghu.linkage.models import LinkDecision, ReviewPair
from tonghu.rounds.models import Round
from tonghu.rounds.store import open_round_store
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

pytestmark = pytest.mark.browser


def _queue_a_decided_pair() -> ReviewPair:
    round_ = Round.objects.get()
    stored = pq.read_table(open_round_store(round_) / "review.parquet").to_pylist()
    row = next(row for row in stored if row["evidence"] and row["child_id_l"] != row["child_id_r"])
    fields = ("record_id_l", "record_id_r", "child_id_l", "child_id_r", "match_probability")
    return ReviewPair.objects.create(
        round=round_, reason="uncertain", evidence=row["evidence"], **{f: row[f] for f in fields}
    )


def test_a_clerk_decides_a_review_pair(
    live_server: LiveServer, county_round: Path, page: Page
) -> None:
    pair = ReviewPair.objects.order_by("priority", "-match_probability", "id").first()
    if pair is None:
        # The synthetic county leaves no open question; put one of the pairs the rules
        # decided (kept in the round's store, with its evidence) to the clerk instead.
        pair = _queue_a_decided_pair()
    clerk = with_password(make_user("clerk", Role.COUNTY_STAFF, "410402000000"))
    errors = collect_errors(page)
    log_in(page, live_server.url, clerk)

    page.goto(f"{live_server.url}/linkage/")
    expect(page.locator("main, body").first).to_contain_text(pair.record_l_text)
    assert pair.record_id_l not in page.content()  # sources by their Chinese names
    page.get_by_role("link", name="查看并判断").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("是同一名儿童吗")
    table = page.locator("table.side-by-side")
    expect(table).to_contain_text(pair.record_l_text)
    expect(table).to_contain_text(pair.record_r_text)
    expect(table).to_contain_text("姓名")
    evidence = page.locator("#evidence")
    expect(evidence).to_contain_text("出生日期")
    expect(evidence).to_contain_text(pair.evidence[0]["level"])
    screenshot(page, "review_pair.png")

    page.fill("input[name=note]", "入户核实为双胞胎")
    page.get_by_role("button", name="不是同一名儿童").click()
    expect(page.locator("#decision")).to_contain_text("已判断：不是同一名儿童")
    decision = LinkDecision.objects.get()
    assert decision.same is False
    assert decision.note == "入户核实为双胞胎"
    assert (decision.record_id_l, decision.record_id_r) == (pair.record_id_l, pair.record_id_r)
    assert errors == []
