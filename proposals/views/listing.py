"""The community's proposal list (public; drafts excluded): filter, search, sort and paginate.

The filter is a GET form, so every state has a URL. With htmx the form and the pagination links
swap only the results (``proposals/list.html#results``) and push the URL; a full load of that
URL renders the same state, so reloading, sharing and the back button all work, with or without
JavaScript.
"""

from __future__ import annotations

from dataclasses import asdict

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

from council.access import access_community
from council.models import ProjectType

from ..models import Stage, SubKind
from ..selectors import SORTS, ProposalFilter, follows_community, stage_counts
from ..selectors import proposal_list as select_proposals

PER_PAGE = 20
SEARCH_MAX = 100
RESULTS_ID = "proposal-results"

SORT_LABELS = {
    "newest": _("Newest"),
    "cosigns": _("Most co-signed"),
    "cost_low": _("Cost: low to high"),
    "cost_high": _("Cost: high to low"),
}
DEFAULTS = asdict(ProposalFilter())


class ProposalListForm(forms.Form):
    """The list's GET parameters. A value that does not validate is ignored, never an error:
    ``filter()`` keeps the valid fields and falls back to the default for the others."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.SearchInput(
            attrs={
                "maxlength": SEARCH_MAX,
                "autocomplete": "off",
                "placeholder": _("Words in the title or text"),
            }
        ),
    )
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", _("All stages")), *((s, Stage(s).label) for s in Stage.PUBLIC)],
    )
    project_type = forms.ChoiceField(
        label=_("Project type"),
        required=False,
        choices=[("", _("All types")), *ProjectType.choices],
    )
    sub_kind = forms.ChoiceField(
        label=_("Sub-kind"),
        required=False,
        choices=[("", _("All sub-kinds")), *SubKind.choices],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[(key, SORT_LABELS[key]) for key in SORTS],
    )

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        # Typing searches after a pause, like choosing in a select; the request carries the
        # whole form and shares the form's queue, so a newer request replaces an older one.
        self.fields["q"].widget.attrs.update(
            {
                "hx-get": action,
                "hx-trigger": "input changed delay:400ms, search",
                "hx-include": "closest form",
                "hx-target": f"#{RESULTS_ID}",
                "hx-push-url": "true",
                "hx-sync": "closest form:replace",
                "hx-indicator": f"#{RESULTS_ID}",
            }
        )
        for name in ("stage", "project_type", "sub_kind", "sort"):
            self.fields[name].widget.attrs["class"] = "filter-select"

    def clean_q(self) -> str:
        return self.cleaned_data["q"][:SEARCH_MAX]

    def filter(self) -> ProposalFilter:
        self.is_valid()
        valid = {name: value for name, value in self.cleaned_data.items() if value}
        return ProposalFilter(**{**DEFAULTS, **valid})


def proposal_list(request, slug):
    community = access_community(request.user, slug)
    action = reverse("proposal_list", args=[community.slug])
    current = ProposalListForm(request.GET, action=action).filter()
    page = Paginator(select_proposals(community, current), PER_PAGE).get_page(
        request.GET.get("page")
    )
    # What pagination links carry: the filter in force, without defaults or ignored values.
    filter_params = {k: v for k, v in asdict(current).items() if v != DEFAULTS[k]}
    # A history restore (back button after the cache is gone) is an htmx request that wants
    # the whole page.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context = {
        "community": community,
        "page_obj": page,
        "current": current,
        "filter_params": filter_params,
        "list_url": action,
        "results_id": RESULTS_ID,
        "partial": partial,
    }
    if not partial:
        counts = stage_counts(community)
        context |= {
            "form": ProposalListForm(initial=asdict(current), action=action),
            "stages": [
                {"value": s, "label": Stage(s).label, "n": counts[s]}
                for s in Stage.PUBLIC
                if counts.get(s)
            ],
            "total": sum(counts.values()),
            "following": follows_community(request.user, community),
        }
    response = render(
        request, "proposals/list.html#results" if partial else "proposals/list.html", context
    )
    # One URL, two bodies (page or fragment): caches and the browser must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
