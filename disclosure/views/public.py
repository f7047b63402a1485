"""The public side of the three disclosures (三公开): anyone, signed in or not, can follow
every project from its proposal to its evaluated result.

Thin views: reads go through ``disclosure.selectors``, files through ``disclosure.opendata``
and charts through ``disclosure.charts``; the forms shown here post to the staff and resident
endpoints of ``disclosure.views.staff``, which do the writing. A draft disclosure is shown to
its community's staff only — anyone else gets 404, as for something that does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import uuid
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.http import http_date
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from council.access import access_community
from council.errors import NotUnderstood
from council.forms import community_choices
from council.models import ProjectType
from council.money import format_yuan
from council.streaming import streaming_response
from council.widgets import QuickSelect
from proposals.media import upload_serve
from proposals.models import Stage
from voting.selectors import ballot_tally

from .. import charts, opendata, selectors
from ..forms import AnswerForm, NoteForm, ObjectionForm, OpenDataScopeForm
from ..models import Kind, Provider, Verdict

PER_PAGE = 20
FEED_SIZE = 50
RESULTS_ID = "disclosure-results"


# --- The index's filter (the forms that post to the staff views are theirs: ``..forms``) ------


class DisclosureFilterForm(forms.Form):
    """The index's GET parameters; a value that does not validate is ignored."""

    community = forms.ChoiceField(
        label=gettext_lazy("Community"), required=False, widget=QuickSelect
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Disclosure"),
        required=False,
        choices=[("", gettext_lazy("All three")), *Kind.choices],
    )
    year = forms.TypedChoiceField(
        label=gettext_lazy("Year published"), required=False, coerce=int, empty_value=None
    )
    project_type = forms.ChoiceField(
        label=gettext_lazy("Project type"),
        required=False,
        choices=[("", gettext_lazy("All types")), *ProjectType.choices],
    )

    def __init__(self, *args, communities, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = community_choices(
            communities, gettext_lazy("All communities")
        )
        self.fields["year"].choices = [
            ("", gettext_lazy("All years")),
            *((str(y), str(y)) for y in years),
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "filter-select"

    def filter(self) -> selectors.DisclosureFilter:
        self.is_valid()
        valid = {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
        return selectors.DisclosureFilter(**valid)


# --- The disclosure index -------------------------------------------------------------------


def disclosure_index(request):
    """Published disclosures of every community, newest first, filtered by a GET form whose
    results htmx swaps in place (``index.html#results``) while pushing the URL."""
    communities = selectors.communities()
    years = selectors.disclosure_years()
    form = DisclosureFilterForm(request.GET, communities=communities, years=years)
    current = form.filter()
    page = Paginator(selectors.published_disclosures(current), PER_PAGE).get_page(
        request.GET.get("page")
    )
    filter_params = {k: v for k, v in asdict(current).items() if v not in ("", None)}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context = {
        "page_obj": page,
        "filter_params": filter_params,
        "list_url": reverse("disclosure_index"),
        "results_id": RESULTS_ID,
        "partial": partial,
    }
    if not partial:
        # The form as sent: a value it could not take selects nothing (its select shows "All").
        context |= {"form": form, "staff_drafts": selectors.staff_drafts(request.user)}
    response = render(
        request, "disclosure/index.html#results" if partial else "disclosure/index.html", context
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- One disclosure ---------------------------------------------------------------------------


def disclosure_detail(request, pk):
    """One version of a disclosure: what it says, its hashes and files, its other versions,
    and for a decision its publicity period and objections."""
    disclosure = selectors.disclosure_for_page(pk)
    if disclosure is None:
        raise Http404
    community = disclosure.community
    user = request.user
    is_staff = user.has_perm("disclosure.view_drafts", community)
    if not disclosure.is_published and not is_staff:
        raise Http404
    versions = selectors.disclosure_versions(disclosure, drafts=is_staff)
    published = [v for v in versions if v.is_published]
    latest = published[-1] if published else None
    is_latest = latest is not None and latest.pk == disclosure.pk
    next_version = getattr(disclosure, "next_version", None)
    if next_version is not None and not (next_version.is_published or is_staff):
        next_version = None
    draft = next((v for v in versions if not v.is_published), None)
    in_publicity = selectors.in_publicity(disclosure)
    objections = selectors.objections_of(disclosure)
    for objection in objections:
        # One answer form per unanswered objection, with ids of its own on the page.
        objection.answer_form = (
            AnswerForm(auto_id=f"id_answer_{objection.pk}_%s")
            if is_staff and objection.answered_at is None
            else None
        )
    context = {
        "community": community,
        "disclosure": disclosure,
        "proposal": disclosure.proposal,
        "next_version": next_version,
        "versions": versions,
        "latest": latest,
        "is_latest": is_latest,
        "pending_draft": draft if draft is not None and draft.pk != disclosure.pk else None,
        "is_staff": is_staff,
        "in_publicity": in_publicity,
        "objections": objections,
        "objection_form": ObjectionForm()
        if in_publicity and is_latest and user.has_perm("disclosure.object", community)
        else None,
        "awaiting_confirmation": user.has_perm("council.await_confirmation", community),
        "correction_form": NoteForm() if is_staff and is_latest else None,
        "is_translation": not (get_language() or "").startswith("zh"),
        "log_place": selectors.disclosure_log_place(disclosure),
    }
    return render(request, "disclosure/disclosure_detail.html", context)


# --- A project's page -------------------------------------------------------------------------


def project_detail(request, slug, pk):
    """The whole story of one project, in public: proposal, decision, publicity, progress,
    completion and accounts, evaluation, and every disclosure with all its versions."""
    community = access_community(request.user, slug)
    proposal = selectors.project_for_page(community, pk)
    if proposal is None:
        raise Http404
    user = request.user
    is_staff = user.has_perm("disclosure.view_drafts", community)
    story = selectors.project_story(proposal, staff=is_staff)
    evaluation = story.evaluation
    context = {
        "community": community,
        "proposal": proposal,
        "story": story,
        "is_staff": is_staff,
        "tally": _tally(story.ballot),
        "can_evaluate": evaluation is not None
        and evaluation.accepting
        and user.has_perm("disclosure.evaluate", community),
        "staff_progress": is_staff and proposal.stage == Stage.IN_PROGRESS,
        "staff_evaluation": is_staff and evaluation is not None and evaluation.accepting,
        "publicity_running": story.decision is not None and selectors.in_publicity(story.decision),
    }
    return render(request, "disclosure/project_detail.html", context)


def _tally(ballot):
    return None if ballot is None else ballot_tally(ballot)


# --- Providers --------------------------------------------------------------------------------


def provider_detail(request, pk):
    provider = get_object_or_404(Provider.objects.select_related("district"), pk=pk)
    projects = selectors.provider_projects(provider)
    verdicts = dict.fromkeys(Verdict.values, 0)
    for p in projects:
        p.verdict_label = Verdict(p.verdict).label if p.verdict else ""
        if p.verdict:
            verdicts[p.verdict] += 1
    return render(
        request,
        "disclosure/provider_detail.html",
        {
            "provider": provider,
            "projects": projects,
            "verdicts": [
                {"verdict": v, "label": Verdict(v).label, "n": n} for v, n in verdicts.items() if n
            ],
        },
    )


# --- Progress photos --------------------------------------------------------------------------


def _photo_response(field, name: str):
    # Progress photos are only ever JPEGs we re-encoded ourselves (the service refuses
    # documents), so they are shown inline; anything else would be downloaded.
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    return upload_serve(field, content_type, name)


def progress_photo(request, pk):
    """A progress photo (public once posted, like its update)."""
    photo = selectors.progress_photo(pk)
    if photo is None:
        raise Http404
    return _photo_response(photo.image, photo.name)


def progress_thumb(request, pk):
    photo = selectors.progress_photo(pk)
    if photo is None:
        raise Http404
    return _photo_response(photo.thumbnail, f"thumb-{photo.name}")


# --- Open data --------------------------------------------------------------------------------


def open_data(request):
    """The datasets, their schema (from ``disclosure.opendata``, as the files use it) and
    their downloads."""
    return render(
        request,
        "disclosure/open_data.html",
        {
            "datasets": list(opendata.DATASETS.values()),
            "formats": opendata.FORMATS,
            "types": [{"name": k, "meaning": v} for k, v in opendata.TYPES.items()],
        },
    )


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/jsonl; charset=utf-8",
}


def open_data_file(request, name, fmt):
    """One dataset as a file, streamed as it is read (constant memory, whatever its size):
    whole, or one community's, one year's, or (``since=``) what closed since a day. Answers
    304 to a client that already holds this version (ETag, Last-Modified)."""
    ds = opendata.dataset(name)
    if ds is None or fmt not in opendata.FORMATS:
        raise Http404
    form = OpenDataScopeForm(request.GET, dataset=ds)
    if not form.is_valid():
        reasons = [f"{field}: {error}" for field, errors in form.errors.items() for error in errors]
        return HttpResponseBadRequest("\n".join(reasons), content_type="text/plain; charset=utf-8")
    scope = opendata.Scope(**form.cleaned_data)
    version, changed = selectors.data_version()
    key = f"{ds.name}.{fmt}?{urlencode(scope.params())}#{version}:{','.join(ds.fields)}"
    etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
    last_modified = int(changed.timestamp()) if changed else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return not_modified
    base_url = request.build_absolute_uri("/").rstrip("/")
    response = streaming_response(
        request,
        opendata.file_chunks(ds, fmt, ds.rows(scope, base_url)),
        content_type=CONTENT_TYPES[fmt],
    )
    parts = [ds.name, *(scope.params().get(k) for k in ("community", "year"))]
    if scope.since:
        parts.append(f"since-{scope.since.isoformat()}")
    filename = "-".join(p for p in parts if p)
    response["Content-Disposition"] = f'attachment; filename="weishi-{filename}.{fmt}"'
    response["Access-Control-Allow-Origin"] = "*"
    response["ETag"] = etag
    if changed:
        response["Last-Modified"] = http_date(last_modified)
    return response


def open_data_index(request):
    """Every dataset's files, whole and split by community and year, with their addresses:
    ``/open-data/index.json``, streamed (one query per dataset)."""
    base = request.build_absolute_uri(reverse("open_data"))
    return streaming_response(
        request, opendata.index_chunks(base), content_type=CONTENT_TYPES["json"]
    )


# --- Statistics -------------------------------------------------------------------------------


def _count(value) -> str:
    return f"{value:.0f}"


def _money_tick(value) -> str:
    return f"¥{value:,.0f}"


def _charts(stats: selectors.Statistics) -> list[charts.Chart]:
    type_labels = dict(ProjectType.choices)
    money = charts.bar_chart(
        id="chart-money",
        title=_("Money by project type and year"),
        description=_(
            "For each year's envelope and project type: the budget approved (reserved) and the "
            "money spent (final accounts, or so far)."
        ),
        series=[
            charts.Series("budget", _("Approved (reserved)")),
            charts.Series("spent", _("Spent")),
        ],
        categories=[f"{c['year']} · {type_labels[c['project_type']]}" for c in stats.money],
        values=[(c["budget"], c["spent"]) for c in stats.money],
        fmt=format_yuan,
        tick_fmt=_money_tick,
        category_head=_("Year · type"),
    )
    stage_labels = dict(Stage.choices)
    stage_rows = [s for s in stats.stages if s["n"]]  # the stages some project is at
    stages = charts.bar_chart(
        id="chart-stages",
        title=_("Projects by stage"),
        description=_("How many public proposals are at each stage of their life."),
        series=[charts.Series("projects", _("Projects"))],
        categories=[str(stage_labels[s["stage"]]) for s in stage_rows],
        values=[(s["n"],) for s in stage_rows],
        fmt=_count,
        whole=True,
        category_head=_("Stage"),
    )
    verdicts = charts.bar_chart(
        id="chart-verdicts",
        title=_("Evaluation verdicts"),
        description=_("Finished projects by the verdict of their residents' evaluation."),
        series=[charts.Series("verdict", _("Projects"))],
        categories=[str(Verdict(v["verdict"]).label) for v in stats.verdicts],
        values=[(v["n"],) for v in stats.verdicts],
        fmt=_count,
        whole=True,
        category_head=_("Verdict"),
    )
    return [money, stages, verdicts]


def _statistics(request, community=None):
    stats = selectors.statistics_current(community)
    return render(
        request,
        "disclosure/statistics.html",
        {
            "community": community,
            "stats": stats,
            "charts": _charts(stats),
            "participation": (
                f"{stats.evaluations * 100 / stats.residents_asked:.1f}"
                if stats.residents_asked
                else None
            ),
            # The district's page links to each community's, or, in a city, to where any
            # community is found.
            "communities": selectors.communities_few() if community is None else [],
        },
    )


def statistics_district(request):
    return _statistics(request)


def statistics_community(request, slug):
    return _statistics(request, access_community(request.user, slug))


# --- The Atom feed ----------------------------------------------------------------------------


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


def feed_cursor(item) -> str:
    """Where the next page of the feed starts: just before ``item`` (its publication time in
    microseconds since 1970 and its id), stable however many are published meanwhile."""
    return f"{(item.published_at - EPOCH) // MICROSECOND}-{item.pk}"


def feed_cursor_parse(value: str) -> tuple[dt.datetime, int]:
    moment, _sep, pk = value.partition("-")
    if not (moment.isdecimal() and pk.isdecimal() and len(moment) <= 18 and len(pk) <= 18):
        raise NotUnderstood(_("This page of the feed does not exist: follow its links."))
    try:
        return EPOCH + int(moment) * MICROSECOND, int(pk)
    except OverflowError:
        raise NotUnderstood(_("This page of the feed does not exist: follow its links.")) from None


@dataclass(frozen=True)
class FeedPage:
    items: list
    url: str


class PagedAtom1Feed(Atom1Feed):
    """Atom with the links of a paged feed (RFC 5005, section 3): ``first``, and ``next`` to
    the older entries while there are any."""

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        for rel in ("first", "next"):
            if self.feed.get(f"{rel}_url"):
                handler.addQuickElement("link", "", {"rel": rel, "href": self.feed[f"{rel}_url"]})


class DisclosureFeed(Feed):
    """Published disclosures as Atom, newest first, ``FEED_SIZE`` a page; each page links to
    the next (older) one, ``?before=`` a cursor, so a reader can fetch the whole history. An
    entry's author is its community, never a person; its id is a URN derived from the
    disclosure and its content hash (published content never changes), so it is stable
    whatever host serves the feed."""

    feed_type = PagedAtom1Feed

    def get_object(self, request, *args, **kwargs):
        # One instance serves every request: what a request asked for travels in ``obj``.
        before = request.GET.get("before")
        items = selectors.feed_items(
            FEED_SIZE + 1, feed_cursor_parse(before) if before is not None else None
        )
        return FeedPage(items, request.build_absolute_uri(reverse("disclosure_feed")))

    def feed_extra_kwargs(self, obj):
        extra = {"first_url": obj.url}
        if len(obj.items) > FEED_SIZE:
            extra["next_url"] = f"{obj.url}?before={feed_cursor(obj.items[FEED_SIZE - 1])}"
        return extra

    def title(self):
        return _("Weishi: disclosures of livelihood micro-projects")

    def subtitle(self):
        return _("Decisions, implementation and results with residents' evaluations (三公开).")

    def link(self):
        return reverse("disclosure_index")

    def feed_guid(self):
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "weishi:disclosures"))

    def author_name(self):
        return _("Weishi")

    def items(self, obj):
        return obj.items[:FEED_SIZE]

    def item_title(self, item):
        return f"{item.title} · v{item.version}"

    def item_link(self, item):
        return reverse("disclosure", args=[item.pk])

    def item_guid(self, item):
        return "urn:uuid:" + str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"weishi:disclosure:{item.pk}:{item.content_sha256}")
        )

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.published_at

    def item_author_name(self, item):
        return item.community.name

    def item_description(self, item):
        parts = [str(item.get_kind_display()), item.community.name]
        outcome = _summary(item)
        if outcome:
            parts.append(outcome)
        if item.is_correction:
            parts.append(_("correction of version %(n)d") % {"n": item.version - 1})
        # The summary is HTML in Atom: escape the plain text.
        return escape(" · ".join(parts))

    def item_categories(self, item):
        return [item.kind]


_feed = DisclosureFeed()


def disclosure_feed(request):
    """The Atom feed (``DisclosureFeed``), rendered once per version of the data (the last act
    the log recorded), language, address and page, and kept in the cache shared by the
    workers: feed readers poll, and between two acts every poll is the same. Answers 304 to a
    reader that already holds this version (ETag, Last-Modified). One query when it has not
    changed."""
    version, changed = selectors.data_version()
    key = ":".join(
        [
            "feed",
            str(version),
            get_language(),
            request.build_absolute_uri("/"),
            request.GET.get("before", "")[:64],
        ]
    )
    etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
    last_modified = int(changed.timestamp()) if changed else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return not_modified
    kept = cache.get(key)
    if kept is None:
        rendered = _feed(request)  # a cursor that cannot exist raises NotUnderstood: a 400
        kept = (rendered.content, rendered["Content-Type"])
        cache.set(key, kept, FEED_KEPT)
    response = HttpResponse(kept[0], content_type=kept[1])
    response["ETag"] = etag
    if changed:
        response["Last-Modified"] = http_date(last_modified)
    return response


# How long a page of the feed no act has outdated stays in the cache (a new act, a new key).
FEED_KEPT = 24 * 3600


def _summary(item) -> str:
    content = item.content or {}
    if item.kind == Kind.DECISION:
        return str(content.get("outcome") or "")
    if item.kind == Kind.IMPLEMENTATION:
        return _("%(percent)s%% done, %(spent)s spent") % {
            "percent": content.get("percent", 0),
            "spent": format_yuan(content.get("spent") or 0),
        }
    evaluation = content.get("evaluation") or {}
    return str(evaluation.get("verdict_label") or "")
