"""The public pages of the disclosure app: index, disclosure, project, provider, photos, feed,
statistics — what anyone can follow without signing in, and what they never see."""

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from council import clock
from council.models import Community, PrivateData
from disclosure import services
from disclosure.models import Disclosure, Kind
from proposals.models import Proposal, Stage
from tests.factories import CommunityFactory, SubDistrictFactory
from voting import services as voting_services

ATOM = "{http://www.w3.org/2005/Atom}"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def quick_pdf(monkeypatch):
    """WeasyPrint takes a second a PDF; these tests read pages, not PDFs."""
    monkeypatch.setattr(
        "disclosure.services.publishing._render_pdf", lambda disclosure: b"%PDF-1.7 test\n"
    )


def publish_drafts(projects, proposal):
    for draft in Disclosure.objects.filter(proposal=proposal, status="draft").order_by("pk"):
        services.disclosure_publish(actor=projects.staff, disclosure=draft)


def published(proposal, kind=Kind.DECISION) -> Disclosure:
    return (
        Disclosure.objects.filter(proposal=proposal, kind=kind, status="published")
        .order_by("-version")
        .first()
    )


def decide(projects, *, approve=True, **data):
    """Like ``projects.decided`` with the proposal's own data (e.g. its project type)."""
    council = projects.council
    ballot = council.ballot(council.maker.make(Stage.VOTING, **data))
    council.vote(ballot, ["yes" if approve else "no"] * 4 + ["abstain"])
    voting_services.ballot_close(actor=projects.staff, ballot=ballot, reason="会议表决完毕")
    services.decisions_draft_due()
    return Proposal.objects.get(pk=ballot.proposal_id)


def photo_file(name="site.png"):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def project_url(proposal):
    return reverse("project", args=[proposal.community.slug, proposal.pk])


def atom(content: bytes) -> ET.Element:
    """The feed as parsed XML: our own output, in a test (hence no defusedxml)."""
    return ET.fromstring(content)  # noqa: S314


def count_queries(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- Following a project without signing in ---------------------------------------------------


def test_anonymous_follows_a_project_from_the_index_to_its_page_and_the_feed(projects, client):
    proposal = projects.evaluated()
    publish_drafts(projects, proposal)
    decision = published(proposal)

    index = client.get(reverse("disclosure_index")).content.decode()
    assert proposal.title in index
    assert reverse("disclosure", args=[decision.pk]) in index

    page = client.get(reverse("disclosure", args=[decision.pk]), **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert decision.content_sha256 in html
    assert decision.evidence_head in html
    assert decision.pdf_sha256 in html
    assert reverse("evidence") in html
    assert reverse("disclosure_pdf", args=[decision.pk]) in html
    assert reverse("disclosure_notice", args=[decision.pk]) in html
    assert f"by {projects.staff.display_name} (community staff)" in html
    assert "The official record is the Chinese text" in html
    assert project_url(proposal) in html

    story = client.get(project_url(proposal), **EN).content.decode()
    assert reverse("proposal", args=[proposal.community.slug, proposal.pk]) in story
    ballot = proposal.ballots.get()
    assert reverse("ballot", args=[proposal.community.slug, ballot.pk]) in story
    assert "5 of 5 members voted" in story
    assert reverse("provider", args=[projects.provider.pk]) in story
    assert "全部完成，已通过验收。" in story  # the last progress update
    assert "¥11,800.00" in story  # budget and actual
    for kind in (Kind.DECISION, Kind.IMPLEMENTATION, Kind.RESULT):
        assert reverse("disclosure", args=[published(proposal, kind).pk]) in story
    # The verdict of 2 满意 + 1 基本满意 is "satisfied".
    assert "verdict-satisfied" in story

    feed = client.get(reverse("disclosure_feed"))
    links = [e.find(f"{ATOM}link").get("href") for e in atom(feed.content).iter(f"{ATOM}entry")]
    assert any(link.endswith(reverse("disclosure", args=[decision.pk])) for link in links)


def test_the_page_is_chinese_by_default_with_labels_translated_on_request(projects, client):
    decision = published(projects.published())
    url = reverse("disclosure", args=[decision.pk])
    chinese = client.get(url).content.decode()
    assert "The official record is the Chinese text" not in chinese
    assert 'lang="zh-CN"' in chinese
    english = client.get(url, **EN).content.decode()
    assert "SHA-256 of the content" in english


# --- Drafts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "a_resident", "b_staff", "a_member", "admin"])
def test_a_draft_is_404_to_anyone_but_the_communitys_staff(projects, client, who):
    draft = projects.decision(projects.decided())
    if who:
        client.force_login(projects.world.user(who))
    assert client.get(reverse("disclosure", args=[draft.pk])).status_code == 404
    # And it is not listed, nor in the feed.
    assert (
        reverse("disclosure", args=[draft.pk]) not in client.get("/disclosures/").content.decode()
    )
    assert f"/disclosures/{draft.pk}/" not in client.get("/disclosures/feed.atom").content.decode()


def test_the_communitys_staff_see_a_draft_with_the_publish_button(projects, client):
    draft = projects.decision(projects.decided())
    client.force_login(projects.staff)
    response = client.get(reverse("disclosure", args=[draft.pk]), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="{reverse("disclosure_publish", args=[draft.pk])}"' in html
    assert "Draft a correction" not in html
    assert "SHA-256 of the content" not in html  # nothing sealed yet


def test_a_missing_disclosure_is_404(client, db):
    assert client.get(reverse("disclosure", args=[999999])).status_code == 404


# --- Versions -----------------------------------------------------------------------------------


def test_a_correction_links_both_ways_and_both_versions_stay_public(projects, client):
    first = published(projects.published())
    client.force_login(projects.staff)
    page = client.get(reverse("disclosure", args=[first.pk]), **EN).content.decode()
    assert f'action="{reverse("disclosure_correct", args=[first.pk])}"' in page
    assert 'name="note"' in page

    draft = services.disclosure_correct(actor=projects.staff, disclosure=first, note="更正票数说明")
    services.disclosure_publish(actor=projects.staff, disclosure=draft)
    second = Disclosure.objects.get(pk=draft.pk)
    client.logout()

    old = client.get(reverse("disclosure", args=[first.pk]), **EN).content.decode()
    assert f'href="{reverse("disclosure", args=[second.pk])}" rel="next">version 2</a>' in old
    assert "Corrected by" in old
    new = client.get(reverse("disclosure", args=[second.pk]), **EN).content.decode()
    assert f'href="{reverse("disclosure", args=[first.pk])}" rel="prev">version 1</a>' in new
    assert "Corrects" in new
    assert "更正票数说明" in new
    index = client.get(reverse("disclosure_index"), **EN).content.decode()
    assert 'class="tag correction"' in index
    assert reverse("disclosure", args=[first.pk]) in index
    assert reverse("disclosure", args=[second.pk]) in index
    story = client.get(project_url(first.proposal)).content.decode()
    assert reverse("disclosure", args=[first.pk]) in story
    assert reverse("disclosure", args=[second.pk]) in story


# --- Publicity period and objections -----------------------------------------------------------


def test_objections_are_public_without_the_objectors_name(projects, client):
    world = projects.world
    decision = published(projects.published())
    objector = world.resident(world.a, world.a_grid1, "objector1").user
    url = reverse("disclosure", args=[decision.pk])

    client.force_login(objector)
    page = client.get(url, **EN).content.decode()
    assert "Objections may be lodged until" in page
    assert f'action="{reverse("objection_lodge", args=[decision.pk])}"' in page
    assert 'name="text"' in page

    objection = services.objection_lodge(
        actor=objector, disclosure=decision, text="费用偏高，请说明。"
    )
    client.force_login(projects.staff)
    staff_page = client.get(url, **EN).content.decode()
    assert f'action="{reverse("objection_answer", args=[objection.pk])}"' in staff_page
    assert 'name="answer"' in staff_page
    assert f'id="objection-{objection.pk}"' in staff_page

    services.objection_answer(actor=projects.staff, objection=objection, answer="已按市场价核算。")
    client.logout()
    public = client.get(url, **EN).content.decode()
    assert "费用偏高，请说明。" in public
    assert "已按市场价核算。" in public
    assert "A resident objected" in public
    assert objector.display_name not in public
    assert objector.username not in public
    assert 'name="text"' not in public  # anonymous: no form, a sign-in link
    assert 'name="answer"' not in public


def test_outsiders_get_no_objection_form(projects, client):
    decision = published(projects.published())
    client.force_login(projects.world.b_resident.user)
    page = client.get(reverse("disclosure", args=[decision.pk]), **EN).content.decode()
    assert 'name="text"' not in page
    assert "Only residents of 东湖社区 can lodge an objection." in page


def test_after_the_publicity_period_no_objection_form(projects, client):
    decision = published(projects.published())
    client.force_login(projects.world.a_resident.user)
    with clock.travel(dt.timedelta(days=6)):
        page = client.get(reverse("disclosure", args=[decision.pk]), **EN).content.decode()
    assert "The publicity period ended" in page
    assert 'name="text"' not in page


# --- The index ---------------------------------------------------------------------------------


def test_index_filters_by_community_kind_year_and_project_type(projects, client):
    engineering = projects.in_progress()
    projects.progress(engineering, 30, "3000.00")
    publish_drafts(projects, engineering)
    service = decide(projects, project_type="service", sub_kind="activities")
    old = decide(projects)
    with clock.travel(dt.timedelta(days=-400)):
        publish_drafts(projects, old)
    publish_drafts(projects, service)
    year = clock.today().year

    def rows(**params):
        html = client.get(reverse("disclosure_index"), params).content.decode()
        return set(
            map(int, re.findall(r'class="disclosure-title"><a href="/disclosures/(\d+)/"', html))
        )

    everything = rows()
    assert len(everything) == 4
    assert rows(kind="implementation") == {published(engineering, Kind.IMPLEMENTATION).pk}
    assert rows(project_type="service") == {published(service).pk}
    assert rows(year=year - 1) == {published(old).pk}
    assert published(old).pk not in rows(year=year)
    assert rows(community=projects.world.a.slug) == everything
    assert rows(community=projects.world.b.slug) == set()
    assert rows(kind="nonsense") == everything  # an invalid value is ignored, not an error


def community_groups(html: str) -> dict[str, list[str]]:
    """The community filter's ``<optgroup>`` labels and the community names under each."""
    select = re.search(r'<select name="community".*?</select>', html, re.S).group(0)
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)
    return {label: re.findall(r"<option [^>]*>([^<]*)</option>", opts) for label, opts in groups}


def test_index_lists_communities_by_district_and_street_in_flat_queries(projects, client):
    world = projects.world
    before = count_queries(client, reverse("disclosure_index"))
    street = SubDistrictFactory(district=world.district, name="桃源街道")
    CommunityFactory.create_batch(12, sub_district=street)
    assert count_queries(client, reverse("disclosure_index")) == before

    groups = community_groups(client.get(reverse("disclosure_index")).content.decode())
    assert len(groups[f"{world.district.name} · 桃源街道"]) == 12
    assert world.a.name in groups[f"{world.district.name} · {world.a.sub_district.name}"]
    assert sum(map(len, groups.values())) == Community.objects.count()  # every one, once


def test_index_swaps_its_results_with_htmx_and_keeps_links(projects, client):
    decision = published(projects.published())
    full = client.get(reverse("disclosure_index"), {"kind": "decision"}).content.decode()
    assert 'hx-get="/disclosures/"' in full and 'hx-push-url="true"' in full
    assert 'method="get"' in full
    fragment = client.get(reverse("disclosure_index"), {"kind": "decision"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body
    assert f'href="/disclosures/{decision.pk}/"' in body
    assert "HX-Request" in fragment["Vary"]


def test_staff_see_a_drafts_waiting_note_linking_to_their_queue(projects, client):
    proposal = projects.decided()
    client.force_login(projects.staff)
    page = client.get(reverse("disclosure_index"), **EN).content.decode()
    assert reverse("staff_queue", args=[projects.world.a.slug]) in page
    assert "1 draft waiting to be published" in page
    client.force_login(projects.world.b_staff)
    assert "waiting to be published" not in client.get("/disclosures/", **EN).content.decode()
    publish_drafts(projects, proposal)
    client.force_login(projects.staff)
    assert "waiting to be published" not in client.get("/disclosures/", **EN).content.decode()
    client.force_login(projects.world.a_resident.user)
    assert "waiting to be published" not in client.get("/disclosures/", **EN).content.decode()


def test_index_paginates_by_twenty(projects, client):
    proposal = projects.in_progress()
    for i in range(21):
        # Each update redrafts disclosure 2; publishing it makes a new version.
        projects.progress(proposal, i, f"{i}.00", day=i)
        publish_drafts(projects, proposal)
    page = client.get(reverse("disclosure_index"), **EN).content.decode()
    assert page.count('class="disclosure-title"') == 20
    assert "Page 1 of 2" in page
    second = client.get(reverse("disclosure_index"), {"page": 2}).content.decode()
    assert second.count('class="disclosure-title"') == 2


# --- The project page ---------------------------------------------------------------------------


def test_project_page_is_404_for_a_draft_or_another_communitys_proposal(projects, client):
    world = projects.world
    draft = projects.council.maker.make(Stage.DRAFT)
    assert client.get(project_url(draft)).status_code == 404
    client.force_login(projects.staff)
    assert client.get(project_url(draft)).status_code == 404
    proposal = projects.published()
    other = reverse("project", args=[world.b.slug, proposal.pk])
    assert client.get(other).status_code == 404
    assert client.get(reverse("project", args=["nowhere", proposal.pk])).status_code == 404


def test_project_page_shows_the_publicity_period_and_staff_controls(projects, client):
    proposal = projects.published()
    page = client.get(project_url(proposal), **EN).content.decode()
    assert "Residents may lodge objections" in page
    assert reverse("disclosure", args=[published(proposal).pk]) in page

    proposal = projects.in_progress()
    slug = proposal.community.slug
    client.force_login(projects.staff)
    staff = client.get(project_url(proposal), **EN).content.decode()
    assert reverse("progress_new", args=[slug, proposal.pk]) in staff
    assert reverse("progress_import", args=[slug]) in staff
    assert reverse("completion_new", args=[slug, proposal.pk]) in staff
    assert reverse("evaluation_close", args=[slug, proposal.pk]) not in staff
    client.force_login(projects.world.a_resident.user)
    resident = client.get(project_url(proposal), **EN).content.decode()
    assert reverse("progress_new", args=[slug, proposal.pk]) not in resident


def test_project_page_tells_the_objections_and_their_answers(projects, client):
    proposal = projects.published()
    world = projects.world
    objection = services.objection_lodge(
        actor=world.a_resident.user, disclosure=published(proposal), text="选址离住户太近。"
    )
    page = client.get(project_url(proposal), **EN).content.decode()
    assert "选址离住户太近。" in page and "awaiting an answer" in page
    assert world.a_resident.user.display_name not in page, "objectors are not named"
    services.objection_answer(actor=projects.staff, objection=objection, answer="已调整选址。")
    page = client.get(project_url(proposal), **EN).content.decode()
    assert "选址离住户太近。" in page and "已调整选址。" in page
    assert "awaiting an answer" not in page


def test_progress_timeline_with_photos_that_are_served(projects, client):
    proposal = projects.in_progress()
    projects.progress(proposal, 20, "2000.00", text="进场施工。")
    update = services.progress_post(
        actor=projects.staff,
        proposal=proposal,
        date=clock.today() + dt.timedelta(days=2),
        text="安装灯具。",
        percent=60,
        spent=Decimal("6000.00"),
        provider=projects.contractor,
        photos=[photo_file()],
    )
    photo = update.photos.get()
    page = client.get(project_url(proposal), **EN).content.decode()
    assert page.index("进场施工。") < page.index("安装灯具。")  # in date order
    assert '<progress id="percent-' in page and 'value="60"' in page
    assert "¥6,000.00" in page
    assert reverse("provider", args=[projects.contractor.pk]) in page
    assert f'href="{reverse("progress_photo", args=[photo.pk])}"' in page
    assert f'src="{reverse("progress_thumb", args=[photo.pk])}"' in page

    full = client.get(reverse("progress_photo", args=[photo.pk]))
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    assert b"".join(full.streaming_content).startswith(b"\xff\xd8")
    thumb = client.get(reverse("progress_thumb", args=[photo.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert client.get(reverse("progress_photo", args=[999999])).status_code == 404


def test_an_open_evaluation_shows_participation_only(projects, client):
    world = projects.world
    proposal = projects.completed()
    window = proposal.evaluation_window
    services.evaluation_give(actor=world.a_resident.user, window=window, rating="dissatisfied")
    services.evaluation_give(actor=world.a_member.user, window=window, rating="dissatisfied")
    slug = proposal.community.slug

    client.force_login(world.a_resident.user)
    page = client.get(project_url(proposal), **EN).content.decode()
    assert re.search(r"2 of \d+ residents have evaluated so far", page)
    assert "distribution" not in page  # no counts per rating before the window closes
    assert "verdict-" not in page
    assert reverse("evaluate", args=[slug, proposal.pk]) in page
    assert reverse("evaluation_paper", args=[slug, proposal.pk]) not in page

    client.force_login(world.b_resident.user)
    assert (
        reverse("evaluate", args=[slug, proposal.pk])
        not in client.get(project_url(proposal)).content.decode()
    )
    client.force_login(projects.staff)
    staff = client.get(project_url(proposal)).content.decode()
    # Staff's buttons lead to the forms (the endpoints themselves take POST only).
    evaluate = reverse("evaluate", args=[slug, proposal.pk])
    assert f'href="{evaluate}#paper-evaluation"' in staff
    assert f'href="{evaluate}#close-window"' in staff
    forms = client.get(evaluate).content.decode()
    assert 'id="paper-evaluation"' in forms and 'id="close-window"' in forms
    assert f'action="{reverse("evaluation_paper", args=[slug, proposal.pk])}"' in forms
    assert f'action="{reverse("evaluation_close", args=[slug, proposal.pk])}"' in forms


def test_a_closed_evaluation_shows_distribution_participation_and_verdict(projects, client):
    proposal = projects.evaluated(ratings=("satisfied", "basic", "dissatisfied"))
    window = proposal.evaluation_window
    page = client.get(project_url(proposal), **EN).content.decode()
    assert 'class="list distribution"' in page
    assert f"3 of {window.residents} residents evaluated" in page
    assert "verdict-basic" in page  # 1 满意 + 1 基本满意 of 3 is more than half together
    assert "33.3%" in page


def test_project_page_query_count_does_not_grow(projects, client):
    def build(n):
        proposal = projects.in_progress()
        for i in range(n):
            services.progress_post(
                actor=projects.staff, proposal=proposal,
                date=clock.today() + dt.timedelta(days=i), text=f"第{i}次进展。",
                percent=i, spent=Decimal(i), provider=projects.provider,
                photos=[photo_file()] if i % 2 else [],
            )  # fmt: skip
            publish_drafts(projects, proposal)
        return project_url(proposal)

    few, many = build(2), build(8)
    assert count_queries(client, few) == count_queries(client, many)
    client.force_login(projects.staff)
    assert count_queries(client, few) == count_queries(client, many)


# --- Providers -------------------------------------------------------------------------------


def test_provider_page_lists_its_projects_with_stage_and_verdict(projects, client):
    evaluated = projects.evaluated()
    running = projects.in_progress()
    projects.progress(running, 10, "100.00")
    page = client.get(reverse("provider", args=[projects.provider.pk]), **EN).content.decode()
    assert "阳光社工服务中心" in page
    assert "AAAA" in page
    assert "social organisation" in page
    assert project_url(evaluated) in page
    assert project_url(running) in page
    assert "verdict-satisfied" in page
    assert "in progress" in page
    other = client.get(reverse("provider", args=[projects.contractor.pk])).content.decode()
    assert project_url(evaluated) not in other
    assert client.get(reverse("provider", args=[999999])).status_code == 404


# --- The Atom feed ---------------------------------------------------------------------------


def test_the_feed_is_valid_atom_with_stable_ids(projects, client):
    first = projects.evaluated()
    publish_drafts(projects, first)
    response = client.get(reverse("disclosure_feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    root = atom(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}id").text
    assert root.find(f"{ATOM}updated").text
    entries = root.findall(f"{ATOM}entry")
    disclosures = Disclosure.objects.filter(status="published").order_by("-published_at", "-pk")
    assert len(entries) == disclosures.count() == 3
    for entry, disclosure in zip(entries, disclosures, strict=True):
        assert entry.find(f"{ATOM}title").text.startswith(disclosure.title)
        link = entry.find(f"{ATOM}link")
        assert link.get("href").endswith(reverse("disclosure", args=[disclosure.pk]))
        assert entry.find(f"{ATOM}author/{ATOM}name").text == "东湖社区"
        updated = dt.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
        assert updated == disclosure.published_at
        assert entry.find(f"{ATOM}id").text.startswith("urn:uuid:")
    result = entries[0]
    assert "满意" in result.find(f"{ATOM}summary").text  # the verdict, in the official language
    again = atom(client.get(reverse("disclosure_feed")).content)
    assert [e.find(f"{ATOM}id").text for e in again.findall(f"{ATOM}entry")] == [
        e.find(f"{ATOM}id").text for e in entries
    ]
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 3


def test_the_feed_query_count_does_not_grow(projects, client):
    projects.published()
    few = count_queries(client, reverse("disclosure_feed"))
    for _ in range(4):
        projects.published()
    assert count_queries(client, reverse("disclosure_feed")) == few


def test_a_feed_reader_polling_between_two_acts_gets_304_and_then_the_new_entry(projects, client):
    first = projects.published()
    url = reverse("disclosure_feed")
    response = client.get(url)
    etag, modified = response["ETag"], response["Last-Modified"]
    # Polling again: one query (the log's last act), the same feed, then nothing to send.
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url)
    assert again.content == response.content and len(captured.captured_queries) == 1
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    # A new publication is a new version: never the feed kept from before.
    second = projects.published()
    fresh = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    body = fresh.content.decode()
    assert second.title in body and first.title in body


# --- Statistics -------------------------------------------------------------------------------


def test_statistics_draw_svg_charts_with_tables_matching_the_records(
    projects, client, django_capture_on_commit_callbacks
):
    # The statistics' cells are refreshed once each act commits: run what the commits run.
    with django_capture_on_commit_callbacks(execute=True):
        projects.evaluated()
        running = projects.in_progress()
        projects.progress(running, 40, "4000.00")
        projects.published(approve=False)
    year = clock.today().year

    community_page = reverse("statistics", args=[projects.world.a.slug])
    for url in (reverse("statistics_district"), community_page):
        html = client.get(url, **EN).content.decode()
        assert html.count('role="img"') == 3
        assert re.search(r"<svg[^>]*role=\"img\"", html)
        assert '<title id="chart-money-title">Money by project type and year</title>' in html
        # Money table: two engineering projects of this year, ¥11,800.00 each reserved;
        # spent: ¥11,800.00 final accounts + ¥4,000.00 so far.
        money = re.search(r'id="chart-money-data">(.*?)</table>', html, re.S).group(1)
        assert f"{year} · Engineering (工程类)" in money
        assert "¥23,600.00" in money
        assert "¥15,800.00" in money
        stages = re.search(r'id="chart-stages-data">(.*?)</table>', html, re.S).group(1)
        assert re.search(r"<th scope=\"row\">evaluated</th><td class=\"num\">1</td>", stages)
        assert re.search(r"<th scope=\"row\">in progress</th><td class=\"num\">1</td>", stages)
        assert re.search(r"<th scope=\"row\">rejected</th><td class=\"num\">1</td>", stages)
        verdicts = re.search(r'id="chart-verdicts-data">(.*?)</table>', html, re.S).group(1)
        assert re.search(r"satisfied \(满意\)</th><td class=\"num\">1</td>", verdicts)
    other = client.get(reverse("statistics", args=[projects.world.b.slug]), **EN).content.decode()
    assert "¥23,600.00" not in other
    assert client.get(reverse("statistics", args=["nowhere"])).status_code == 404


def test_statistics_query_count_does_not_grow(projects, client):
    projects.evaluated()
    few = count_queries(client, reverse("statistics_district"))
    for _ in range(3):
        proposal = projects.in_progress()
        projects.progress(proposal, 10, "10.00")
    # (``projects.evaluated`` makes its evaluator users once only: close a window by hand.)
    window = projects.completed().evaluation_window
    services.evaluation_give(actor=projects.world.a_resident.user, window=window, rating="basic")
    services.window_close(actor=projects.staff, window=window, reason="提前结束（测试）")
    assert count_queries(client, reverse("statistics_district")) == few


# --- Query counts of the index and the disclosure page ------------------------------------------


def test_index_and_disclosure_query_counts_do_not_grow(projects, client):
    def publish(n):
        return [published(projects.published()) for _ in range(n)]

    three = publish(3)
    index_few = count_queries(client, reverse("disclosure_index"))
    page_few = count_queries(client, reverse("disclosure", args=[three[0].pk]))
    more = publish(9)  # 12 in all
    world = projects.world
    for i in range(4):
        objector = world.resident(world.a, world.a_grid1, f"objector{i}").user
        services.objection_lodge(actor=objector, disclosure=more[0], text=f"异议{i}")
    assert count_queries(client, reverse("disclosure_index")) == index_few
    assert count_queries(client, reverse("disclosure", args=[more[0].pk])) == page_few
    client.force_login(projects.staff)
    staff_few = count_queries(client, reverse("disclosure", args=[three[0].pk]))
    assert count_queries(client, reverse("disclosure", args=[more[0].pk])) == staff_few


# --- Privacy ---------------------------------------------------------------------------------


def test_no_private_data_on_any_public_page_or_file(projects, client):
    world = projects.world
    private = PrivateData.objects.get(residency=world.a_resident)
    markers = [
        private.phone,  # 13911112222
        private.id_number,  # 11010519491231002X
        private.masked_id_number,
        private.address,  # 东湖社区幸福路10号
        "幸福路10号",
        world.a_member.private_data.phone,
    ]
    assert private.phone == "13911112222" and private.id_number == "11010519491231002X"
    assert "幸福路" in private.address

    evaluated = projects.evaluated()
    publish_drafts(projects, evaluated)
    decision = published(projects.published())
    services.objection_lodge(
        actor=world.a_resident.user, disclosure=decision, text="请公开预算明细。"
    )
    running = projects.in_progress()
    projects.progress(running, 50, "500.00")

    urls = [
        reverse("disclosure_index"),
        reverse("disclosure_feed"),
        reverse("open_data"),
        reverse("statistics_district"),
        reverse("statistics", args=[world.a.slug]),
        reverse("provider", args=[projects.provider.pk]),
        *(
            reverse("disclosure", args=[d.pk])
            for d in Disclosure.objects.filter(status="published")
        ),
        *(project_url(p) for p in (evaluated, decision.proposal, running)),
        *(
            reverse("open_data_file", args=[name, fmt])
            for name in ("proposals", "ballots", "votes", "spending", "evaluations")
            for fmt in ("csv", "json")
        ),
    ]
    for url in urls:
        for extra in ({}, EN):
            response = client.get(url, **extra)
            assert response.status_code == 200, url
            body = response.getvalue().decode("utf-8-sig")
            for marker in markers:
                assert marker not in body, (url, marker)


def _feed_page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    root = atom(response.content)
    ids = [e.find(f"{ATOM}link").get("href") for e in root.iter(f"{ATOM}entry")]
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    return ids, links


def test_the_feed_pages_back_through_every_disclosure_without_repeating_one(
    projects, client, monkeypatch
):
    monkeypatch.setattr("disclosure.views.public.FEED_SIZE", 2)
    for _ in range(5):
        projects.published()
    seen, url, pages = [], reverse("disclosure_feed"), 0
    while url:
        ids, links = _feed_page(client, url)
        assert len(ids) <= 2 and links["first"].endswith(reverse("disclosure_feed"))
        seen += ids
        url, pages = links.get("next"), pages + 1
    published = Disclosure.objects.filter(status="published").order_by("-published_at", "-pk")
    assert len(seen) == len(set(seen)) == published.count() == 5
    assert [s.split("/")[-2] for s in seen] == [str(d.pk) for d in published]
    assert pages == 3


def test_a_page_published_into_meanwhile_does_not_shift_the_next_one(projects, client, monkeypatch):
    monkeypatch.setattr("disclosure.views.public.FEED_SIZE", 2)
    for _ in range(3):
        projects.published()
    first, links = _feed_page(client, reverse("disclosure_feed"))
    projects.published()  # published while the reader reads page one
    second, _links = _feed_page(client, links["next"])
    assert not set(first) & set(second) and len(second) == 1


@pytest.mark.parametrize("before", ["x", "-1", "1-", "99999999999999999999-1", "1.5-2", ""])
def test_a_feed_page_that_cannot_exist_is_a_bad_request(client, db, before):
    response = client.get(reverse("disclosure_feed"), {"before": before})
    assert response.status_code == 400


def test_statistics_are_summed_once_per_change_and_never_shown_stale(
    projects, client, django_capture_on_commit_callbacks
):
    from disclosure.selectors import statistics_current

    with django_capture_on_commit_callbacks(execute=True):
        projects.in_progress(cost="20000.00")
    first = statistics_current()
    with CaptureQueriesContext(connection) as unchanged:
        again = statistics_current()
    assert again == first and len(unchanged.captured_queries) == 1  # the log's last act only
    with django_capture_on_commit_callbacks(execute=True):
        projects.in_progress(cost="5000.00")  # a change: a new act in the log
    fresh = statistics_current()
    assert fresh.funded == first.funded + 1
    assert fresh.budget == first.budget + Decimal("5000.00")
    page = client.get(reverse("statistics_district")).content.decode()
    assert f"{fresh.funded}" in page
