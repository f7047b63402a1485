"""The community's proposal list: what a visitor sees, filters, search, sorting, pagination, htmx
swaps, and query counts that do not grow with the data."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from council import clock
from proposals import services
from proposals.models import Attachment, AttachmentKind, CoSign, Proposal, Stage, SubKind
from tests.proposals.conftest import PROPOSAL_DATA

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(client):
    """Pages in English, so that assertions read the msgids whatever the catalogue holds."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# --- Reading the HTML -----------------------------------------------------------------------


class _Texts(HTMLParser):
    """The text of every element whose class list holds ``css_class``, in document order."""

    def __init__(self, css_class: str):
        super().__init__(convert_charrefs=True)
        self.css_class, self.found = css_class, []
        self.tag, self.level, self.buf = None, 0, []

    def handle_starttag(self, tag, attrs):
        if self.tag is None:
            if self.css_class in (dict(attrs).get("class") or "").split():
                self.tag, self.level, self.buf = tag, 1, []
        elif tag == self.tag:
            self.level += 1

    def handle_endtag(self, tag):
        if tag == self.tag:
            self.level -= 1
            if self.level == 0:
                self.found.append(" ".join("".join(self.buf).split()))
                self.tag = None

    def handle_data(self, data):
        if self.tag is not None:
            self.buf.append(data)


class _Tags(HTMLParser):
    """The attributes of every start tag, with its name under ``"<tag>"``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append({"<tag>": tag, **{k: v or "" for k, v in attrs}})


def texts(response, css_class: str) -> list[str]:
    parser = _Texts(css_class)
    parser.feed(response.content.decode())
    return parser.found


def tags(response, tag: str | None = None, /, **attrs) -> list[dict]:
    parser = _Tags()
    parser.feed(response.content.decode())
    return [
        t
        for t in parser.found
        if (tag is None or t["<tag>"] == tag) and all(t.get(k) == v for k, v in attrs.items())
    ]


def titles(response) -> list[str]:
    return texts(response, "proposal-title")


def query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


# --- Data -----------------------------------------------------------------------------------


def list_url(world) -> str:
    return reverse("proposal_list", args=[world.a.slug])


def make(proposals, title, *, stage=Stage.SUBMITTED, minutes=0, **data):
    """A proposal walked to ``stage`` through the services, submitted ``minutes`` from now."""
    with clock.travel(dt.timedelta(minutes=minutes)):
        return proposals.make(stage, title=title, **data)


LAMP, READING, SHADE, REPAIR, CHAIRS, DRAFT = (
    PROPOSAL_DATA["title"],  # 更换小区路灯
    "周末儿童读书会",
    "菜市场旁长椅遮阳棚",
    "便民维修服务日",
    "活动室折叠椅",
    "草稿：楼道灯",
)


@pytest.fixture
def mixed(world, proposals):
    """Five public proposals in four stages, submitted a minute apart (LAMP first), and a draft.

    costs that count: REPAIR 5,000 < READING 8,000 < CHAIRS 11,800 (staff's feasibility
    estimate; the proposer said 50,000) < LAMP 12,000 < SHADE 30,000.
    co-signs: CHAIRS, REPAIR, SHADE 5 each (the threshold), LAMP 2, READING 1.
    """
    made = {
        LAMP: make(proposals, LAMP, minutes=1),
        READING: make(
            proposals, READING, minutes=2,
            summary="每周六上午在社区图书室为孩子们读绘本。",
            body="招募志愿者家长轮流讲故事，准备 LED 护眼台灯。",
            project_type="service", sub_kind="activities", estimated_cost=Decimal("8000.00"),
        ),
        SHADE: make(
            proposals, SHADE, stage=Stage.UNDER_REVIEW, minutes=3,
            summary="在菜市场旁的长椅上方加装遮阳棚。", body="夏天长椅暴晒，老人无法休息。",
            project_type="engineering", sub_kind="facilities", estimated_cost=Decimal("30000.00"),
        ),
        REPAIR: make(
            proposals, REPAIR, stage=Stage.CONSULTATION, minutes=4,
            summary="每月一次上门修理小家电、磨剪刀。", body="请社会组织派师傅到社区广场。",
            project_type="service", sub_kind="convenience", estimated_cost=Decimal("5000.00"),
        ),
        CHAIRS: make(
            proposals, CHAIRS, stage=Stage.VOTING, minutes=5,
            summary="活动室的旧椅子坏了一半。", body="购买五十把折叠椅。",
            project_type="goods", sub_kind="other", estimated_cost=Decimal("50000.00"),
        ),
        DRAFT: make(proposals, DRAFT, stage=Stage.DRAFT, minutes=6),
    }  # fmt: skip
    services.cosign_add(actor=proposals.cosigner(0), proposal=made[LAMP])
    services.cosign_add(actor=proposals.cosigner(1), proposal=made[LAMP])
    services.cosign_add(actor=proposals.cosigner(0), proposal=made[READING])
    return made


def bulk_proposals(world, count: int, *, start: int = 0, **fields) -> list[Proposal]:
    """``count`` submitted proposals in community ``a``, written with ``bulk_create``: bulk data
    for read tests only (the proposals the assertions are about go through the services).

    Numbered from ``start``, each submitted a second after the one before; every third has a
    photo (and every fifth a document), each has ``n % 4`` co-signs.
    """
    base = clock.now() - dt.timedelta(days=1)
    proposer = world.a_resident.user
    types = ["engineering", "service", "goods"]
    rows = Proposal.objects.bulk_create(
        [
            Proposal(
                **{
                    "community": world.a,
                    "proposer": proposer,
                    "title": f"提议{n:04d}",
                    "summary": f"第{n}号提议的摘要。",
                    "body": f"第{n}号提议的说明。",
                    "body_html": f"<p>第{n}号提议的说明。</p>",
                    "project_type": types[n % 3],
                    "sub_kind": SubKind.values[n % len(SubKind.values)],
                    "location": "幸福路",
                    "beneficiaries": "全体居民",
                    "estimated_cost": Decimal(1000 + (n * 37) % 9000),
                    "stage": Stage.SUBMITTED,
                    "submitted_at": base + dt.timedelta(seconds=n),
                    "stage_changed_at": base + dt.timedelta(seconds=n),
                    **fields,
                }
            )
            for n in range(start, start + count)
        ]
    )
    people = [world.a_member.user, world.a_staff, world.a_worker1]
    CoSign.objects.bulk_create(
        CoSign(proposal=p, user=people[i]) for n, p in enumerate(rows, start) for i in range(n % 4)
    )
    Attachment.objects.bulk_create(
        Attachment(
            proposal=p,
            kind=AttachmentKind.PHOTO if n % 3 == 0 else AttachmentKind.DOCUMENT,
            file=f"proposals/bulk/{n}.jpg" if n % 3 == 0 else f"proposals/bulk/{n}.pdf",
            thumbnail=f"proposals/thumbs/bulk/{n}.jpg" if n % 3 == 0 else "",
            name=f"{n}.jpg" if n % 3 == 0 else f"{n}.pdf",
            size=1000,
            uploaded_by=proposer,
        )
        for n, p in enumerate(rows, start)
        if n % 3 == 0 or n % 5 == 0
    )
    return rows


# --- What a visitor sees --------------------------------------------------------------------


def test_a_visitor_sees_the_public_proposals_newest_first_and_no_draft(client, world, mixed):
    response = client.get(list_url(world))
    assert response.status_code == 200
    assert titles(response) == [CHAIRS, REPAIR, SHADE, READING, LAMP]
    assert DRAFT not in response.content.decode()
    assert texts(response, "result-count") == ["5 proposals"]


def test_an_unknown_community_is_404(client, world):
    assert client.get(reverse("proposal_list", args=["no-such-place"])).status_code == 404


def test_a_row_shows_title_stage_kind_summary_cost_cosigns_date_and_first_photo(
    client, world, mixed
):
    lamp = mixed[LAMP]
    photos = Attachment.objects.bulk_create(
        Attachment(
            proposal=lamp, kind=AttachmentKind.PHOTO, file=f"p/{i}.jpg", thumbnail=f"t/{i}.jpg",
            name=f"{i}.jpg", size=10, uploaded_by=world.a_resident.user,
        )
        for i in range(2)
    )  # fmt: skip
    response = client.get(list_url(world), {"q": "路灯"})
    html = response.content.decode()
    link = reverse("proposal", args=[world.a.slug, lamp.pk])
    assert f'<a href="{link}">{LAMP}</a>' in html
    (img,) = tags(response, "img", **{"class": "thumb"})
    assert img["src"] == reverse("attachment_thumbnail", args=[photos[0].pk])
    assert img["alt"] == LAMP
    assert texts(response, "stage") == [str(Stage.SUBMITTED.label)]
    assert texts(response, "summary") == [PROPOSAL_DATA["summary"]]
    assert "Engineering (工程类) · public facilities (公共设施)" in texts(response, "row-kind")[0]
    assert texts(response, "cost") == ["¥12,000.00"]
    assert texts(response, "cosigns") == ["2"]
    submitted = timezone.localtime(lamp.submitted_at)
    (time,) = tags(response, "time")
    assert time["datetime"] == submitted.isoformat()
    assert texts(response, "row-facts")[0].endswith(date_format(submitted, "DATE_FORMAT"))


def test_a_row_without_a_photo_has_no_image(client, world, mixed):
    assert tags(client.get(list_url(world)), "img") == []


def test_the_cost_shown_and_sorted_is_the_one_that_counts(client, world, mixed):
    response = client.get(list_url(world), {"q": CHAIRS})
    assert texts(response, "cost") == ["¥11,800.00"]  # staff's estimate, not the proposer's


def test_stage_counts_are_quick_filter_links(client, world, mixed):
    response = client.get(list_url(world))
    html = response.content.decode()
    url = list_url(world)
    for stage, n in [
        (Stage.SUBMITTED, 2),
        (Stage.UNDER_REVIEW, 1),
        (Stage.CONSULTATION, 1),
        (Stage.VOTING, 1),
    ]:
        assert re.search(
            rf'<a href="{re.escape(url)}\?stage={stage.value}">{stage.label} '
            rf'<span class="n">{n}</span></a>',
            html,
        ), stage
    assert re.search(rf'<a href="{re.escape(url)}" aria-current="true">\w+ <span class="n">5', html)
    assert "?stage=draft" not in html and "?stage=approved" not in html  # none: no link

    response = client.get(url, {"stage": "submitted"})
    (current,) = tags(response, "a", **{"aria-current": "true"})
    assert current["href"] == f"{url}?stage=submitted"
    assert titles(response) == [READING, LAMP]


def test_there_is_a_link_to_propose_a_project(client, world):
    response = client.get(list_url(world))
    assert tags(response, "a", href=reverse("proposal_create", args=[world.a.slug]))
    assert "No proposals yet" in response.content.decode()


# --- Filters, search, sorting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "under_review"}, [SHADE]),
        ({"stage": "voting"}, [CHAIRS]),
        ({"stage": "approved"}, []),
        ({"project_type": "service"}, [REPAIR, READING]),
        ({"sub_kind": "facilities"}, [SHADE, LAMP]),
        ({"project_type": "engineering", "stage": "submitted"}, [LAMP]),
        ({"project_type": "goods", "sub_kind": "other"}, [CHAIRS]),
    ],
)
def test_filters(client, world, mixed, params, expected):
    response = client.get(list_url(world), params)
    assert titles(response) == expected
    n = len(expected)
    assert texts(response, "result-count") == [f"{n} proposal{'' if n == 1 else 's'}"]
    for value in params.values():  # the form shows the filter in force
        (option,) = tags(response, "option", value=value, selected="")
        assert option


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", [CHAIRS, REPAIR, SHADE, READING, LAMP]),
        # ties (5 co-signs each) go to the newer
        ("cosigns", [CHAIRS, REPAIR, SHADE, LAMP, READING]),
        ("cost_low", [REPAIR, READING, CHAIRS, LAMP, SHADE]),
        ("cost_high", [SHADE, LAMP, CHAIRS, READING, REPAIR]),
    ],
)
def test_sorting(client, world, mixed, sort, expected):
    response = client.get(list_url(world), {"sort": sort})
    assert titles(response) == expected
    if sort == "cosigns":
        assert texts(response, "cosigns") == ["5", "5", "5", "2", "1"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("路灯", [LAMP]),  # a Chinese word inside a Chinese title (更换小区路灯)
        ("志愿者", [READING]),  # only in the description
        ("暴晒", [SHADE]),  # only in the description
        ("读绘本", [READING]),  # only in the summary
        ("路灯 线路", [LAMP]),  # both words must match: title and description
        ("路灯 绘本", []),  # each matches a different proposal: none has both
        ("  长椅   遮阳  ", [SHADE]),
        ("led", [READING]),  # Latin letters ignore case
        ("楼道灯", []),  # only in a draft
        ("100%", []),  # wildcards are literal
        ("a_b", []),
    ],
)
def test_search_finds_words_inside_chinese_text(client, world, mixed, q, expected):
    response = client.get(list_url(world), {"q": q})
    assert titles(response) == expected
    (box,) = tags(response, "input", name="q")
    assert box["value"] == q.strip()


def test_unknown_or_invalid_params_are_ignored(client, world, mixed):
    bulk_proposals(world, 20)  # older than the five: a second page
    params = {
        "stage": "draft",  # not a public stage
        "project_type": "rocket",
        "sub_kind": "<script>",
        "sort": "random()",
        "page": "abc",
        "utm_source": "wechat",
        "q": "\x00",
    }
    response = client.get(list_url(world), params)
    assert response.status_code == 200
    assert titles(response)[:5] == [CHAIRS, REPAIR, SHADE, READING, LAMP]
    assert texts(response, "result-count") == ["25 proposals"]
    assert "errorlist" not in response.content.decode()
    # The form shows the defaults, not the ignored values.
    assert tags(response, "option", value="", selected="")  # "all stages" etc.
    assert tags(response, "option", value="newest", selected="")
    assert tags(response, "input", name="q")[0].get("value", "") == ""
    # Links carry the filter in force only.
    (next_link,) = tags(response, "a", rel="next")
    assert query(next_link["href"]) == {"page": ["2"]}
    # Combined with a valid value, the valid one applies.
    response = client.get(list_url(world), {"stage": "bogus", "project_type": "service"})
    assert titles(response)[:2] == [REPAIR, READING]
    assert {Proposal.objects.get(title=t).project_type for t in titles(response)} == {"service"}


def test_a_long_search_is_cut_not_refused(client, world, mixed):
    response = client.get(list_url(world), {"q": "路灯" + "x" * 500})
    assert response.status_code == 200
    assert titles(response) == []


# --- Pagination -----------------------------------------------------------------------------


def test_pagination_twenty_a_page(client, world):
    bulk_proposals(world, 45)  # 提议0000 (oldest) … 提议0044 (newest)
    url = list_url(world)
    page1 = client.get(url)
    assert titles(page1) == [f"提议{n:04d}" for n in range(44, 24, -1)]
    assert texts(page1, "page-of") == ["Page 1 of 3"]
    assert texts(page1, "result-count") == ["45 proposals"]
    assert not tags(page1, "a", rel="prev")
    (next_link,) = tags(page1, "a", rel="next")
    assert next_link["href"] == f"{url}?page=2"

    page2 = client.get(next_link["href"])
    assert titles(page2) == [f"提议{n:04d}" for n in range(24, 4, -1)]
    assert texts(page2, "page-of") == ["Page 2 of 3"]
    assert tags(page2, "a", rel="prev")[0]["href"] == f"{url}?page=1"

    page3 = client.get(url, {"page": 3})
    assert titles(page3) == [f"提议{n:04d}" for n in range(4, -1, -1)]
    assert not tags(page3, "a", rel="next")


@pytest.mark.parametrize(
    ("page", "shown"), [("99", 3), ("0", 3), ("-1", 3), ("abc", 1), ("", 1), ("2.5", 1)]
)
def test_a_page_out_of_range_shows_the_last_and_junk_the_first(client, world, page, shown):
    bulk_proposals(world, 45)
    response = client.get(list_url(world), {"page": page})
    assert response.status_code == 200
    assert texts(response, "page-of") == [f"Page {shown} of 3"]


def test_pagination_links_keep_the_filter_and_drop_ignored_values(client, world):
    bulk_proposals(world, 25, project_type="service", sub_kind="activities")
    bulk_proposals(world, 25, start=100, project_type="engineering", sub_kind="facilities")
    params = {"project_type": "service", "q": "提议", "sort": "cost_low", "stage": "nonsense"}
    response = client.get(list_url(world), params)
    assert texts(response, "result-count") == ["25 proposals"]
    (next_link,) = tags(response, "a", rel="next")
    expected = {"project_type": ["service"], "q": ["提议"], "sort": ["cost_low"], "page": ["2"]}
    assert query(next_link["href"]) == expected
    assert query(next_link["hx-get"]) == expected
    page2 = client.get(next_link["href"])
    assert len(titles(page2)) == 5
    costs = [Decimal(c.lstrip("¥").replace(",", "")) for c in texts(page2, "cost")]
    assert costs == sorted(costs)
    assert {p.project_type for p in Proposal.objects.filter(title__in=titles(page2))} == {"service"}
    assert query(tags(page2, "a", rel="prev")[0]["href"])["page"] == ["1"]


# --- htmx -----------------------------------------------------------------------------------


def test_the_form_and_the_links_swap_the_results_with_htmx(client, world, mixed):
    response = client.get(list_url(world))
    url = list_url(world)
    (form,) = tags(response, "form", id="proposal-filters")
    assert form["method"] == "get" and form["action"] == url
    assert form["hx-get"] == url
    assert form["hx-target"] == "#proposal-results" and form["hx-push-url"] == "true"
    assert "submit" in form["hx-trigger"] and "change" in form["hx-trigger"]
    (box,) = tags(response, "input", name="q")
    assert box["hx-trigger"] == "input changed delay:400ms, search"
    assert box["hx-get"] == url and box["hx-include"] == "closest form"
    assert box["type"] == "search"
    for name in ("stage", "project_type", "sub_kind", "sort"):
        (select,) = tags(response, "select", name=name)
        assert select["class"] == "filter-select"  # what the form's trigger listens to
    assert tags(response, "div", id="proposal-results")


def test_an_htmx_request_gets_only_the_results(client, world, mixed):
    response = client.get(list_url(world), {"project_type": "service"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html and "stage-links" not in html
    assert titles(response) == [REPAIR, READING]
    # The result count, a live region outside the results, is updated out of band.
    (count,) = tags(response, "p", id="proposal-count")
    assert count["hx-swap-oob"] == "innerHTML" and count["role"] == "status"
    assert "HX-Request" in response["Vary"]


def test_a_full_load_of_a_pushed_url_renders_the_same_state(client, world):
    """The back button and reload: the URL htmx pushed, loaded in full, shows the same rows,
    the same pager and the form set to the same filter."""
    bulk_proposals(world, 30, project_type="goods")
    bulk_proposals(world, 10, start=100, project_type="service")
    params = {"project_type": "goods", "sort": "cost_high", "q": "提议", "page": "2"}
    fragment = client.get(list_url(world), params, **HTMX)
    page = client.get(list_url(world), params)
    assert "<html" in page.content.decode()
    assert titles(page) == titles(fragment) and len(titles(page)) == 10
    assert texts(page, "cost") == texts(fragment, "cost")
    assert texts(page, "page-of") == texts(fragment, "page-of") == ["Page 2 of 2"]
    assert tags(page, "a", rel="prev") == tags(fragment, "a", rel="prev")
    assert tags(page, "option", value="goods", selected="")
    assert tags(page, "option", value="cost_high", selected="")
    assert tags(page, "input", name="q")[0]["value"] == "提议"


def test_a_history_restore_request_gets_the_whole_page(client, world, mixed):
    response = client.get(
        list_url(world), {"stage": "voting"}, **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()
    assert titles(response) == [CHAIRS]


# --- Accessibility and CSP ------------------------------------------------------------------


def test_every_control_has_a_label_and_nothing_is_inline(client, world, mixed):
    response = client.get(list_url(world))
    labelled = {t["for"] for t in tags(response, "label") if "for" in t}
    controls = [
        t
        for t in tags(response)
        if t["<tag>"] in ("select", "textarea")
        or (t["<tag>"] == "input" and t.get("type") not in ("hidden", "submit"))
    ]
    assert {t["name"] for t in controls} >= {"q", "stage", "project_type", "sub_kind", "sort"}
    for control in controls:
        assert control.get("id") in labelled or control.get("aria-label"), control
    html = response.content.decode()
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    for script in tags(response, "script"):
        assert script.get("src"), script  # no inline scripts


# --- Query counts do not grow with the data -------------------------------------------------


def count_queries(client, url: str, params=None, **headers) -> tuple[int, int]:
    client.get(url, params, **headers)  # whatever a first request loads lazily
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params, **headers)
    return response.status_code, len(captured.captured_queries)


LIST_VARIANTS = [
    {},
    {"sort": "cosigns"},
    {"sort": "cost_low"},
    {"q": "提议", "project_type": "service"},
    {"stage": "submitted", "page": "2"},
]


def test_the_list_query_count_is_the_same_with_50_and_5000_proposals(client, world, proposals):
    made = proposals.make(Stage.UNDER_REVIEW)  # through the services, with its 5 co-signs
    url = list_url(world)
    bulk_proposals(world, 50)
    small = [count_queries(client, url, p) for p in LIST_VARIANTS]
    small.append(count_queries(client, url, {}, **HTMX))
    first = client.get(url)
    assert titles(first)[0] == made.title and len(titles(first)) == 20
    assert tags(first, "img")  # rows with photos are on the page

    bulk_proposals(world, 4950, start=50)
    assert Proposal.objects.filter(community=world.a).count() == 5001
    big = [count_queries(client, url, p) for p in LIST_VARIANTS]
    big.append(count_queries(client, url, {}, **HTMX))
    assert all(status == 200 for status, _ in small + big)
    assert big == small
    response = client.get(url)
    assert texts(response, "result-count") == ["5001 proposals"]
    assert texts(response, "page-of") == ["Page 1 of 251"]
    # Signed in, the same.
    client.force_login(world.a_member.user)
    signed_in = count_queries(client, url)
    bulk_proposals(world, 100, start=10_000)
    assert count_queries(client, url) == signed_in


def test_the_proposal_page_query_count_is_the_same_with_50_and_5000_proposals(
    client, world, proposals
):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    url = reverse("proposal", args=[world.a.slug, proposal.pk])
    bulk_proposals(world, 50)
    small = count_queries(client, url)
    bulk_proposals(world, 4950, start=50)
    # and more of its own: photos and co-signs (the page must not read them one by one)
    Attachment.objects.bulk_create(
        Attachment(
            proposal=proposal, kind=AttachmentKind.PHOTO, file=f"p/{i}.jpg",
            thumbnail=f"t/{i}.jpg", name=f"{i}.jpg", size=10, uploaded_by=world.a_resident.user,
        )
        for i in range(5)
    )  # fmt: skip
    CoSign.objects.bulk_create(
        CoSign(proposal=proposal, user=u) for u in (world.a_staff, world.a_worker1, world.a_worker2)
    )
    big = count_queries(client, url)
    assert small[0] == 200
    assert big == small


def test_a_resident_follows_the_community_from_the_list_and_hears_of_its_proposals(
    client, world, proposals, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from council.models import Notification
    from proposals.lifecycle import Move, proposal_move

    follower = world.b_resident.user  # not even of this community: anyone signed in may follow
    client.force_login(follower)
    list_url = reverse("proposal_list", args=[world.a.slug])
    assert (
        "Follow this community" in client.get(list_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    client.post(reverse("community_follow", args=[world.a.slug]), {"next": list_url})
    page = client.get(list_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Following this community" in page
    proposal = proposals.make("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.TAKE_UP)
    assert Notification.objects.filter(recipient=follower).count() == 1
