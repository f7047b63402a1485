"""A signed-in person's own page (我的) at the site's root: their proposals with steppers,
what awaits them, the threads they follow with unread counts, their notifications; a sign-up
awaiting confirmation says who confirms it, and no page offers it a resident's action."""

import re

import pytest
from django.urls import reverse

from council import threads
from council.errors import NotAllowed
from council.models import ThreadRead
from proposals import services as proposal_services
from proposals.models import Stage
from tests.disclosure.conftest import Projects
from tests.proposals.conftest import PROPOSAL_DATA, ProposalMaker
from voting import services as voting_services

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def home(client, user=None):
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("home"), **EN)
    assert response.status_code == 200
    return response.content.decode()


def section(page, title_id):
    """The text of one section of the page, by its heading's id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{title_id}".*?</section>', page, re.S)
    return match.group(0) if match else ""


def test_a_visitor_sees_the_programme_and_a_signed_in_person_their_own_page(client, world):
    visitor = home(client)
    assert "Where each community stands" in visitor and "My proposals" not in visitor
    mine = home(client, world.a_resident.user)
    assert "<h1>Mine" in mine and "My proposals" in mine
    assert "Where each community stands" not in mine
    assert reverse("overview") in mine
    assert "Where each community stands" in client.get(reverse("overview"), **EN).content.decode()


def test_each_role_sees_its_own_sections(client, world):
    resident = home(client, world.a_resident.user)
    assert section(resident, "mine-evaluate-title") and section(resident, "mine-proposals-title")
    assert not section(resident, "mine-vote-title")
    assert reverse("staff_queue", args=[world.a.slug]) not in resident
    assert reverse("proposal_create", args=[world.a.slug]) in resident

    member = home(client, world.a_member.user)
    assert "Nothing awaits your vote now." in section(member, "mine-vote-title")

    staff = home(client, world.a_staff)
    assert reverse("staff_queue", args=[world.a.slug]) in staff
    assert not section(staff, "mine-vote-title") and not section(staff, "mine-evaluate-title")

    worker = home(client, world.a_worker1)
    assert reverse("residents", args=[world.a.slug]) in worker


def test_my_proposals_show_their_steppers(client, world):
    maker = ProposalMaker(world)
    maker.make(Stage.SUBMITTED, title="楼道加装扶手")
    page = section(home(client, world.a_resident.user), "mine-proposals-title")
    assert "楼道加装扶手" in page
    assert page.count('aria-current="step"') == 1
    assert "It needs 5 more co-signs from residents (0 of 5)" in page


def test_my_co_signs_are_listed_with_where_each_stands(client, world):
    proposal = ProposalMaker(world).make(Stage.SUBMITTED, title="社区读书角")
    proposal_services.cosign_add(actor=world.a_member.user, proposal=proposal)
    page = section(home(client, world.a_member.user), "mine-cosigns-title")
    assert "社区读书角" in page and "next: residents, by co-signing" in page


def test_a_pending_resident_is_told_who_confirms_them_without_any_phone(client, world):
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    page = home(client, pending.user)
    banner = re.search(r'<div class="notice pending-banner".*?</div>', page, re.S).group(0)
    assert "Your residency in 东湖社区 is awaiting confirmation." in banner
    assert world.a_grid1.name in banner and world.a_worker1.public_name in banner
    assert world.a_worker2.public_name not in banner  # not their grid
    assert "13900000000" not in page and "phone" not in banner.lower()
    # Nothing of a resident's to do yet: no proposal button, no evaluations.
    assert reverse("proposal_create", args=[world.a.slug]) not in page
    assert not section(page, "mine-evaluate-title")
    confirmed = home(client, world.a_resident.user)
    assert "pending-banner" not in confirmed


def test_a_pending_resident_is_offered_no_co_sign_post_or_proposal_but_told_when(client, world):
    maker = ProposalMaker(world)
    submitted = maker.make(Stage.SUBMITTED)
    consulting = maker.make(Stage.CONSULTATION)
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(pending.user)

    page = client.get(reverse("proposal", args=[world.a.slug, submitted.pk]), **EN)
    box = re.search(r'<section id="cosign-box".*?</section>', page.content.decode(), re.S).group(0)
    assert "Co-sign (附议)" not in box and "proposal_cosign" not in box
    assert 'name="action"' not in box
    assert "You can co-sign once your residency is confirmed." in box
    assert "Only residents of" not in box

    page = client.get(reverse("proposal", args=[world.a.slug, consulting.pk]), **EN)
    text = page.content.decode()
    assert 'name="body"' not in text
    assert "You can take part in the discussion once your residency is confirmed." in text

    listing = client.get(reverse("proposal_list", args=[world.a.slug]), **EN).content.decode()
    assert "You can propose a project once your residency is confirmed." in listing
    assert f'href="{reverse("proposal_create", args=[world.a.slug])}"' not in listing
    refused = client.get(reverse("proposal_create", args=[world.a.slug]), **EN)
    assert refused.status_code == 403
    assert "You can propose a project once your residency is confirmed." in refused.content.decode()

    # A confirmed resident of another community still gets the button and a clear refusal.
    client.force_login(world.b_resident.user)
    page = client.get(reverse("proposal", args=[world.a.slug, submitted.pk]), **EN)
    assert "Co-sign (附议)" in page.content.decode()


def test_a_pending_resident_is_told_when_they_may_evaluate(client, world):
    projects = Projects(world)
    proposal = projects.completed()
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(pending.user)
    page = client.get(reverse("evaluate", args=[world.a.slug, proposal.pk]), **EN)
    text = page.content.decode()
    assert "You can evaluate once your residency is confirmed." in text
    assert 'name="rating"' not in text


def test_unread_counts_go_down_after_reading_the_thread(client, world):
    proposal = ProposalMaker(world).make(Stage.CONSULTATION, title="小区围墙绿化")
    for body in ("赞成", "建议种爬藤"):
        threads.message_post(actor=world.a_member.user, thread=proposal.thread, body=body)
    threads.message_post(actor=world.a_resident.user, thread=proposal.thread, body="谢谢")
    page = section(home(client, world.a_resident.user), "mine-threads-title")
    assert "小区围墙绿化" in page
    assert '<span class="badge unread-count" aria-hidden="true">2</span>' in page

    client.get(reverse("proposal", args=[world.a.slug, proposal.pk]), **EN)
    page = section(home(client), "mine-threads-title")
    assert "小区围墙绿化" in page and "unread-count" not in page

    threads.message_post(actor=world.a_member.user, thread=proposal.thread, body="再补充一点")
    page = section(home(client), "mine-threads-title")
    assert '<span class="badge unread-count" aria-hidden="true">1</span>' in page


def test_a_thread_read_mark_never_moves_back(world):
    proposal = ProposalMaker(world).make(Stage.CONSULTATION)
    user = world.a_resident.user
    threads.thread_mark_read(user=user, thread_id=proposal.thread_id, message_id=9)
    threads.thread_mark_read(user=user, thread_id=proposal.thread_id, message_id=4)
    assert ThreadRead.objects.get(user=user).last_read_message_id == 9


def test_a_server_writes_many_readers_marks_in_one_statement_and_skips_a_thread_gone(
    world, django_assert_num_queries
):
    maker = ProposalMaker(world)
    first, second = maker.make(Stage.CONSULTATION), maker.make(Stage.CONSULTATION)
    resident, member = world.a_resident.user, world.a_member.user
    threads.thread_mark_read(user=resident, thread_id=first.thread_id, message_id=9)
    gone = 10**9  # a thread deleted since its reader was shown it
    with django_assert_num_queries(1):
        threads.thread_marks_read(
            {
                (resident.pk, first.thread_id): 4,  # behind the mark already kept
                (resident.pk, second.thread_id): 7,
                (member.pk, first.thread_id): 12,
                (member.pk, gone): 3,
            }
        )
    assert set(ThreadRead.objects.values_list("user", "thread", "last_read_message_id")) == {
        (resident.pk, first.thread_id, 9),
        (resident.pk, second.thread_id, 7),
        (member.pk, first.thread_id, 12),
    }


def test_a_ballot_awaiting_my_vote_disappears_once_i_vote(client, world):
    projects = Projects(world)
    ballot = projects.council.ballot(projects.council.proposal(title="健身器材更新"))
    member = world.a_member.user
    assert "健身器材更新" in section(home(client, member), "mine-vote-title")
    voting_services.vote_cast(actor=member, ballot=ballot, choice="yes")
    page = section(home(client), "mine-vote-title")
    assert "健身器材更新" not in page and "Nothing awaits your vote now." in page


def test_the_page_takes_no_more_queries_with_more_proposals_threads_and_ballots(
    client, world, django_assert_max_num_queries
):
    projects = Projects(world)
    member = world.a_member.user
    client.force_login(member)

    def add(n):
        for i in range(n):
            proposal_services.proposal_create(
                actor=member, community=world.a, data={**PROPOSAL_DATA, "title": f"我的{i}"}
            )
            consulting = projects.council.maker.make(Stage.CONSULTATION)
            proposal_services.cosign_add(
                actor=member, proposal=projects.council.maker.make(Stage.SUBMITTED)
            )
            threads.message_post(actor=world.a_resident.user, thread=consulting.thread, body="1")
            threads.message_post(actor=member, thread=consulting.thread, body="2")
            projects.council.ballot()

    counted = []
    for n in (1, 3):
        add(n)
        client.get(reverse("home"), **EN)  # what a first visit caches is not counted
        with django_assert_max_num_queries(40) as captured:
            page = client.get(reverse("home"), **EN).content.decode()
        assert page.count("我的") >= n
        counted.append(len(captured))
    assert counted[0] == counted[1]


def test_a_pending_residents_co_sign_or_post_sent_anyway_is_refused_saying_when(client, world):
    maker = ProposalMaker(world)
    submitted = maker.make(Stage.SUBMITTED)
    consulting = maker.make(Stage.CONSULTATION)
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    with pytest.raises(NotAllowed, match="You can co-sign once your residency is confirmed."):
        proposal_services.cosign_add(actor=pending.user, proposal=submitted)
    with pytest.raises(NotAllowed, match="take part in the discussion once your residency"):
        threads.message_post(actor=pending.user, thread=consulting.thread, body="你好")


def test_a_pending_resident_is_told_when_they_may_object_to_a_decision(client, world):
    proposal = Projects(world).published()
    decision = proposal.disclosures.get(kind="decision", status="published")
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(pending.user)
    text = client.get(reverse("disclosure", args=[decision.pk]), **EN).content.decode()
    assert "You can lodge an objection once your residency is confirmed." in text
    assert 'name="text"' not in text
    assert "Only residents of" not in text


# --- The communities of a city, a page at a time -----------------------------------------------


def _overview(client, **params):
    response = client.get(reverse("overview"), params, **EN)
    assert response.status_code == 200
    return response.content.decode()


def _cards(page: str) -> list[str]:
    return re.findall(r'<li class="card">\s*<h4><a href="[^"]+">([^<]+)</a>', page)


def _city(world, streets=4, per_street=10):
    from tests.factories import CommunityFactory, SubDistrictFactory

    for s in range(streets):
        street = SubDistrictFactory(district=world.district, name=f"城市{s}街道")
        for c in range(per_street):
            CommunityFactory(sub_district=street, name=f"街道{s}第{c}社区")


def test_the_programme_lists_a_page_of_communities_grouped_by_street_in_the_same_queries(
    client, world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from council.models import Community

    with CaptureQueriesContext(connection) as few:
        _overview(client)
    _city(world)
    with django_assert_max_num_queries(len(few)):
        first = _overview(client)
    assert len(_cards(first)) == 24
    assert f"{Community.objects.count()} communities" in first  # the world's and the city's
    assert first.count('class="group-title"') >= 3  # by district and street
    second = _overview(client, page=2)
    assert len(_cards(second)) == Community.objects.count() - 24
    assert not set(_cards(first)) & set(_cards(second))


def test_a_community_is_found_by_its_street(client, world):
    _city(world, streets=2, per_street=3)
    page = _overview(client, q="城市1街道")
    assert sorted(_cards(page)) == ["街道1第0社区", "街道1第1社区", "街道1第2社区"]
    assert "3 communities match" in page
    nothing = _overview(client, q="不存在的地方")
    assert _cards(nothing) == [] and "No community's name, street or district" in nothing


@pytest.mark.parametrize("page", ["-1", "0", "99999999", "abc", "1.5"])
def test_a_page_number_out_of_range_or_not_a_number_still_shows_a_page(client, world, page):
    from council.models import Community

    _city(world, streets=2, per_street=15)
    last = Community.objects.count() - 24
    assert len(_cards(_overview(client, page=page))) in (24, last)


def test_htmx_swaps_in_the_results_only(client, world):
    _city(world, streets=1, per_street=3)
    response = client.get(reverse("overview"), {"q": "街道0"}, HTTP_HX_REQUEST="true", **EN)
    html = response.content.decode()
    assert len(_cards(html)) == 3 and "<html" not in html and 'role="search"' not in html
    assert "HX-Request" in response["Vary"]
