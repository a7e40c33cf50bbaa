"""The public service list (宣传解读): anyone, without logging in, in plain Chinese."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tonghu.policy import load_profile


def test_anyone_reads_the_service_list_without_logging_in(db: None) -> None:
    response = Client().get(reverse("services:public"))
    assert response.status_code == 200
    page = response.content.decode()
    for item in load_profile("default").services.items:
        assert item.name in page
        assert item.content in page
    assert "6周岁及以下" in page  # S01's 服务对象 from its rule
    assert "在读小学、初中；或7至15周岁，且未在读" in page  # S03
    assert "孤儿、艾滋病病毒感染、事实无人抚养儿童" in page  # S10
    assert "卫生健康委" in page


def test_the_list_follows_the_deployments_profile(db: None, settings: object) -> None:
    settings.TONGHU_PROFILE = "pingdingshan"  # type: ignore[attr-defined]
    page = Client().get(reverse("services:public")).content.decode()
    assert "健康和托育(3岁以下)服务" in page
    assert "身高1.2米以下儿童免费乘坐市区公交车" in page
