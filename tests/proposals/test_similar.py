"""While a resident writes a proposal, similar public proposals of the same community are
shown (htmx on the title field), so they co-sign one instead of proposing it again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from proposals.models import Stage
from tests.proposals.test_list import tags, texts

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
OTHER = {"summary": "居民提出的建议。", "body": "详见附件。"}


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def similar(client, world, title, community=None):
    url = reverse("proposal_similar", args=[(community or world.a).slug])
    response = client.get(url, {"title": title}, **HTMX)
    assert response.status_code == 200
    return response


def listed(response) -> list[str]:
    return texts(response, "similar-title")


def make(proposals, title, stage=Stage.SUBMITTED, minutes=0, **data):
    with clock.travel(dt.timedelta(minutes=minutes)):
        return proposals.make(stage, title=title, **{**OTHER, **data})


def test_the_title_field_asks_for_similar_proposals_as_it_is_typed(client, world):
    client.force_login(world.a_resident.user)
    response = client.get(reverse("proposal_create", args=[world.a.slug]))
    (title,) = tags(response, "input", name="title")
    assert title["hx-get"] == reverse("proposal_similar", args=[world.a.slug])
    assert title["hx-trigger"] == "load, input changed delay:500ms"
    assert title["hx-target"] == "#similar-proposals"
    assert tags(response, "div", id="similar-proposals")


def test_similar_proposals_are_listed_with_a_link_to_co_sign(client, world, proposals):
    lamp = make(proposals, "更换小区路灯")
    response = similar(client, world, "路灯坏了")
    assert listed(response) == ["更换小区路灯"]
    (link,) = tags(response, "a", **{"class": "cosign-link"})
    assert link["href"] == reverse("proposal", args=[world.a.slug, lamp.pk]) + "#cosign-box"
    assert "Co-sign it" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_a_proposal_past_co_signing_is_listed_without_the_co_sign_link(client, world, proposals):
    make(proposals, "更换小区路灯", stage=Stage.CONSULTATION)
    response = similar(client, world, "小区路灯")
    assert listed(response) == ["更换小区路灯"]
    assert not tags(response, "a", **{"class": "cosign-link"})


def test_at_most_five_best_first_of_the_same_community_only(client, world, proposals):
    for n in range(7):
        make(proposals, f"第{n}处路灯维修", minutes=n)
    make(proposals, "小区路灯全面更换", minutes=10)
    make(proposals, "草稿路灯", stage=Stage.DRAFT)
    response = similar(client, world, "小区路灯更换")
    shown = listed(response)
    assert len(shown) == 5
    assert shown[0] == "小区路灯全面更换"
    assert "草稿路灯" not in shown
    assert listed(similar(client, world, "小区路灯更换", community=world.b)) == []


def test_a_title_like_nothing_shows_nothing(client, world, proposals):
    make(proposals, "更换小区路灯")
    for title in ("", "游泳池", '"*NEAR:-', "x" * 1000):
        response = similar(client, world, title)
        assert listed(response) == []
        assert response.content.decode().strip() == ""


def test_the_query_count_does_not_grow_with_the_matches(client, world, proposals):
    for n in range(2):
        make(proposals, f"第{n}处路灯维修", minutes=n)
    similar(client, world, "路灯")
    with CaptureQueriesContext(connection) as few:
        similar(client, world, "路灯")
    for n in range(2, 8):
        make(proposals, f"第{n}处路灯维修", minutes=n)
    with CaptureQueriesContext(connection) as many:
        assert len(listed(similar(client, world, "路灯"))) == 5
    assert len(many.captured_queries) == len(few.captured_queries)
