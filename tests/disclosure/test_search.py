"""The search page: ranked Chinese search over public proposals and published disclosures,
with word segmentation and pinyin, on SQLite (FTS5) and PostgreSQL (GIN over tsvector)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from council.models import Community
from council.search import document_tokens, query_terms
from disclosure import services as disclosure_services
from proposals import services
from proposals.models import Proposal, Stage, SubKind
from tests.disclosure.conftest import Projects
from tests.disclosure.test_public import community_groups
from tests.factories import CommunityFactory
from tests.proposals.conftest import ProposalMaker
from tests.proposals.test_list import tags, texts

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LAMP = "更换小区路灯"  # the proposals fixture's title


@pytest.fixture
def client(client):
    """Pages in English, so that assertions read the msgids whatever the catalogue holds."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def search(client, q, **params):
    response = client.get(reverse("search"), {"q": q, **params})
    assert response.status_code == 200
    return response


def found(response) -> list[str]:
    return texts(response, "search-title")


def make(proposals, title, *, stage=Stage.SUBMITTED, minutes=0, **data):
    with clock.travel(dt.timedelta(minutes=minutes)):
        return proposals.make(stage, title=title, **data)


@pytest.fixture
def proposals(world):
    return ProposalMaker(world)


@pytest.fixture
def lamp(proposals):
    return make(proposals, LAMP)


# --- Finding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "路灯坏了",  # segmented: 路灯 / 坏 / 了 (a little word, dropped)
        "路灯",
        "小区的路灯",
        "ludeng",  # pinyin in full
        "ld",  # initials
        "LuDeng",
        "lu4deng1",  # pinyin with tone digits
        "lud",  # the start of a pinyin word
        "genghuanxiaoquludeng",  # the title's pinyin as a whole
        "xiaoquludeng",  # and any part of it
        "xqld",
        "灯",  # one character of a word
    ],
)
def test_a_resident_finds_a_proposal_by_its_words_or_their_pinyin(client, lamp, q):
    response = search(client, q)
    assert found(response) == [LAMP]
    assert texts(response, "result-count") == ["1 result"]


def test_words_typed_wrongly_or_unrelated_find_nothing(client, lamp):
    for q in ("游泳池", "youyongchi", "xyz", "2027"):
        response = search(client, q)
        assert found(response) == []
        assert "Nothing found" in response.content.decode()


def test_each_hit_shows_its_community_stage_and_a_marked_snippet(client, lamp, world):
    response = search(client, "线路")  # only in the description
    (row,) = texts(response, "search-row")
    assert world.a.name in row
    assert "gathering co-signs" in row
    html = response.content.decode()
    assert "<mark>线路</mark>" in html
    (link,) = [t for t in tags(response, "a") if t.get("href", "").endswith(f"/{lamp.pk}/")]
    assert link["href"] == reverse("proposal", args=[world.a.slug, lamp.pk])


@pytest.mark.parametrize("q", ["ludeng", "ld", "lud", "lu4deng1"])
def test_pinyin_marks_the_chinese_word_it_matched(client, lamp, q):
    html = search(client, q).content.decode()
    assert "更换小区<mark>路灯</mark>" in html


def test_initials_find_and_mark_a_word_the_segmenter_split(client, proposals):
    make(proposals, "加装电动车充电桩", summary="居民提出的建议。", body="详见附件。")
    response = search(client, "cdz")  # 电动车 / 充电 / 桩
    assert found(response) == ["加装电动车充电桩"]
    assert "加装电动车<mark>充电桩</mark>" in response.content.decode()


def test_a_title_match_ranks_above_a_body_match(client, proposals):
    make(proposals, LAMP, minutes=1)
    # Newer, and with the word twice, but only in its text: still second.
    make(
        proposals,
        "活动室添置折叠椅",
        minutes=2,
        summary="顺便检查活动室门口的路灯。",
        body="门口路灯不亮，晚上搬椅子不方便。",
    )
    assert found(search(client, "路灯")) == [LAMP, "活动室添置折叠椅"]
    assert found(search(client, "ld")) == [LAMP, "活动室添置折叠椅"]


def test_more_of_the_words_ranks_higher(client, proposals):
    other = {"summary": "居民提出的建议。", "body": "详见附件。"}
    make(proposals, "修补小区道路", minutes=1, **other)
    make(proposals, "小区路灯维修", minutes=2, **other)
    make(proposals, "加装儿童滑梯", minutes=3, **other)
    assert found(search(client, "小区路灯坏了"))[0] == "小区路灯维修"
    assert "加装儿童滑梯" not in found(search(client, "小区路灯坏了"))


def test_search_within_one_community(client, world, lamp):
    community_b = {"community": world.b.slug}
    assert found(search(client, "路灯", **community_b)) == []
    assert found(search(client, "路灯", community=world.a.slug)) == [LAMP]
    assert found(search(client, "路灯", community="nowhere")) == [LAMP]  # ignored


def test_the_community_filter_is_grouped_by_district_and_street(client, world, lamp):
    def page():
        with CaptureQueriesContext(connection) as queries:
            html = search(client, "路灯", community=world.a.slug).content.decode()
        return html, len(queries.captured_queries)

    _html, before = page()
    CommunityFactory.create_batch(8, sub_district__district=world.other_district)
    html, after = page()
    assert after == before
    groups = community_groups(html)
    assert world.a.name in groups[f"{world.district.name} · {world.a.sub_district.name}"]
    assert sum(map(len, groups.values())) == Community.objects.count()
    assert f'<option value="{world.a.slug}" selected>{world.a.name}</option>' in html


def test_a_revised_title_is_found_by_its_new_words_only(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    services.proposal_revise(
        actor=world.a_resident.user,
        proposal=proposal,
        title="加装太阳能庭院灯",
        summary=proposal.summary,
        body=proposal.body,
    )
    assert found(search(client, "太阳能")) == ["加装太阳能庭院灯"]
    assert found(search(client, "jztyn")) == ["加装太阳能庭院灯"]  # the title's initials
    assert found(search(client, "genghuanxiaoqu")) == []  # the old title's pinyin


# --- What is never found ----------------------------------------------------------------------


def test_drafts_are_never_found(client, proposals, world):
    proposals.make(Stage.DRAFT, title="草稿楼道声控灯")
    assert found(search(client, "声控灯")) == []
    assert found(search(client, "shengkongdeng")) == []
    # Not by its author either.
    client.force_login(world.a_resident.user)
    assert found(search(client, "声控灯")) == []


def test_a_proposal_made_public_is_found_from_then_on(client, world):
    proposal = services.proposal_create(
        actor=world.a_resident.user,
        community=world.a,
        data={
            "title": "增设快递柜",
            "summary": "小区没有快递柜。",
            "body": "居民取件不便。",
            "project_type": "goods",
            "sub_kind": SubKind.CONVENIENCE,
            "location": "北门",
            "beneficiaries": "全体居民",
            "estimated_cost": Decimal("9000.00"),
        },
    )
    assert found(search(client, "快递柜")) == []
    services.proposal_submit(actor=world.a_resident.user, proposal=proposal)
    assert found(search(client, "快递柜")) == ["增设快递柜"]


def test_a_stale_index_row_of_a_draft_shows_nothing(client, lamp):
    """Whatever the index holds, the page shows only what is public now."""
    Proposal.objects.filter(pk=lamp.pk).update(stage=Stage.DRAFT)
    response = search(client, "路灯")
    assert found(response) == []


def test_private_data_of_the_proposer_never_appears(client, world, lamp):
    private = world.a_resident.private_data
    response = search(client, "路灯")
    html = response.content.decode()
    assert found(response) == [LAMP]
    for value in (private.phone, private.id_number, private.address):
        assert value not in html
    assert found(search(client, private.phone)) == []
    assert found(search(client, private.phone[-4:])) == []


# --- Disclosures ------------------------------------------------------------------------------


@pytest.fixture
def projects(world):
    return Projects(world)


def test_published_disclosures_are_found_drafts_are_not(client, projects):
    drafted = projects.decided()  # its decision disclosure is a draft
    draft = projects.decision(drafted)
    assert found(search(client, "决议结果公开")) == []
    disclosure_services.disclosure_publish(actor=projects.staff, disclosure=draft)
    draft.refresh_from_db()
    response = search(client, "决议")
    assert draft.title in found(response)
    row = next(r for r in texts(response, "search-row") if draft.title in r)
    assert "Disclosure" in row
    assert reverse("disclosure", args=[draft.pk]) in response.content.decode()


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "",
        "   ",
        "路" * 1000,
        "ludeng" * 200,
        "lu4deng1",
        "！？。，、；：“”",
        "...---!!!",
        '"',
        '"路灯',
        "*",
        "路灯*",
        "NEAR",
        "NEAR(路灯 小区)",
        "AND",
        "路灯 AND OR NOT 小区",
        "-",
        "-路灯",
        ":",
        "title:路灯",
        "body : ludeng",
        "^路灯",
        "路灯 & | ! <-> :*",
        "'; DROP TABLE council_searchentry; --",
        "(",
        "{路灯}",
        "\x00",
        "%",
        "_",
    ],
)
def test_any_input_gives_a_page_never_an_error(client, lamp, q):
    response = search(client, q)
    assert "errorlist" not in response.content.decode()
    (box,) = tags(response, "input", name="q")
    assert len(box.get("value", "")) <= 100
    response = client.get(reverse("search"), {"q": q}, **HTMX)
    assert response.status_code == 200


def test_query_syntax_is_searched_as_words(client, lamp):
    assert found(search(client, '"路灯" NEAR 小区')) == [LAMP]
    assert found(search(client, "title:路灯")) == [LAMP]
    assert found(search(client, "-路灯*")) == [LAMP]


def test_an_empty_search_asks_for_words(client, lamp):
    response = search(client, "")
    assert found(response) == []
    assert texts(response, "result-count") == []
    assert "Type what you are looking for" in response.content.decode()


def test_a_long_search_is_cut(client, lamp):
    response = search(client, "路灯" + "好" * 1000)
    assert found(response) == [LAMP]
    (box,) = tags(response, "input", name="q")
    assert len(box["value"]) == 100


def test_a_title_with_markup_is_shown_escaped(client, proposals):
    make(proposals, "<b>路灯</b>&<script>x</script>")
    html = search(client, "路灯").content.decode()
    assert "<script>x" not in html
    assert "&lt;b&gt;<mark>路灯</mark>&lt;/b&gt;&amp;&lt;script&gt;" in html


# --- Pages, htmx, query counts ----------------------------------------------------------------


def bulk_public(world, count: int, *, start: int = 0) -> None:
    """``count`` submitted proposals about 路灯, bulk-written, then the index rebuilt."""
    base = clock.now() - dt.timedelta(days=1)
    Proposal.objects.bulk_create(
        Proposal(
            community=world.a,
            proposer=world.a_resident.user,
            title=f"第{n}号路灯维修",
            summary=f"第{n}号：路灯不亮。",
            body=f"第{n}号提议的说明。",
            body_html=f"<p>第{n}号提议的说明。</p>",
            project_type="engineering",
            sub_kind=SubKind.FACILITIES,
            location="幸福路",
            beneficiaries="全体居民",
            estimated_cost=Decimal(1000),
            stage=Stage.SUBMITTED,
            submitted_at=base + dt.timedelta(seconds=n),
        )
        for n in range(start, start + count)
    )
    call_command("search_index_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115


def page_queries(client, **params) -> int:
    search(client, "路灯", **params)  # untimed: whatever loads lazily once
    with CaptureQueriesContext(connection) as captured:
        response = search(client, "路灯", **params)
    return len(captured.captured_queries), response


def test_the_query_count_does_not_grow_with_the_matches(
    client, world, projects, django_assert_max_num_queries
):
    proposal = projects.decided()
    disclosure_services.disclosure_publish(
        actor=projects.staff, disclosure=projects.decision(proposal)
    )
    bulk_public(world, 5)
    few, response = page_queries(client)
    # The five, the decided proposal (about 路灯 too) and its decision disclosure.
    assert len(found(response)) == 7
    bulk_public(world, 45, start=5)
    many, response = page_queries(client)
    assert len(found(response)) == 20
    assert texts(response, "result-count") == ["52 results"]
    assert many <= few  # the page's disclosures need no query when it shows none
    with django_assert_max_num_queries(few):
        search(client, "路灯 决议", page=2)


def test_results_are_paged_and_htmx_swaps_only_the_results(client, world):
    bulk_public(world, 25)
    response = search(client, "ludeng")
    assert len(found(response)) == 20
    (next_link,) = tags(response, "a", rel="next")
    assert "q=ludeng" in next_link["href"]
    assert next_link["hx-get"] == next_link["href"]
    response = client.get(next_link["href"], **HTMX)
    assert len(found(response)) == 5
    assert "<html" not in response.content.decode()
    assert tags(response, "a", rel="prev")


def test_the_header_and_the_proposal_list_lead_to_the_search(client, world, lamp):
    community_page = client.get(reverse("community", args=[world.a.slug]))
    (form,) = [t for t in tags(community_page, "form") if t.get("action") == reverse("search")]
    assert form["method"] == "get"
    listing = client.get(reverse("proposal_list", args=[world.a.slug]), {"q": "路灯"})
    (link,) = [t for t in tags(listing, "a") if t.get("href", "").startswith(reverse("search"))]
    assert found(client.get(link["href"])) == [LAMP]


# --- The index's words ------------------------------------------------------------------------


def test_the_index_holds_words_pinyin_and_initials():
    tokens = document_tokens("更换小区路灯", title=True).split()
    assert {"更换", "小区", "路灯", "ludeng", "ld", "genghuanxiaoquludeng", "灯"} <= set(tokens)
    assert [t.token for t in query_terms("路灯坏了")] == ["路灯", "坏"]
    assert [(t.token, t.prefix) for t in query_terms("lu4deng1 LD")] == [
        ("ludeng", True),
        ("ld", True),
    ]
    assert query_terms('"*:-') == []
