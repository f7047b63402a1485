"""The search page: public proposals and published disclosures, ranked, for anyone.

A GET form (``q``, optionally a community), so every search has a URL; with htmx the form and
the pager swap only the results (``disclosure/search.html#results``) and push the URL. Any
input gives a page: a search that is empty, too long or only punctuation or query syntax
finds nothing or what its words find, never an error.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

from council.forms import community_choices
from council.search import QUERY_MAX
from council.widgets import QuickSelect

from .. import selectors

PER_PAGE = 20
RESULTS_ID = "search-results"


class SearchForm(forms.Form):
    """The search's GET parameters; a value that does not validate is ignored."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        strip=True,
        widget=forms.SearchInput(
            attrs={
                "maxlength": QUERY_MAX,
                "autocomplete": "off",
                "placeholder": _("Words or pinyin, e.g. 路灯 or ludeng"),
            }
        ),
    )
    community = forms.ChoiceField(label=_("Community"), required=False, widget=QuickSelect)

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.communities = {c.slug: c for c in communities}
        self.fields["community"].choices = community_choices(communities, _("All communities"))
        self.fields["community"].widget.attrs["class"] = "filter-select"

    def search(self) -> tuple[str, str]:
        """The search in force: its words (cut to ``QUERY_MAX`` characters) and community's
        slug, each empty when missing or invalid."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return (data.get("q") or "")[:QUERY_MAX], data.get("community") or ""


def search_page(request):
    communities = selectors.communities()
    form = SearchForm(request.GET, communities=communities)
    q, slug = form.search()
    community = form.communities.get(slug)
    page = Paginator(selectors.site_search(q, community), PER_PAGE).get_page(
        request.GET.get("page")
    )
    filter_params = {k: v for k, v in (("q", q), ("community", slug)) if v}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context = {
        "q": q,
        "page_obj": page,
        "filter_params": filter_params,
        "list_url": reverse("search"),
        "results_id": RESULTS_ID,
        "partial": partial,
        "searched": bool(q.strip()),
    }
    if not partial:
        context["form"] = SearchForm(initial=filter_params, communities=communities)
    response = render(
        request, "disclosure/search.html#results" if partial else "disclosure/search.html", context
    )
    patch_vary_headers(response, ["HX-Request"])
    return response
