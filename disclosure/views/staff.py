"""Staff and residents' actions on disclosures: the work queue, publishing, corrections,
objections, progress (one by one or from CSV), completion, evaluation.

Thin views: forms validate, ``disclosure.services`` decide and write. Staff pages answer 404
to anyone else; a refusal by a service is a message on the form or after a redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from council.access import access_community
from council.errors import InvalidMove, NotAllowed
from council.models import District
from council.validators import form_refusal
from proposals.models import Proposal

from .. import dashboard, queue, services
from ..forms import (
    AnswerForm,
    CompletionForm,
    EvaluationForm,
    ImportForm,
    NoteForm,
    ObjectionForm,
    ProgressForm,
    ReasonForm,
)
from ..models import Disclosure, EvaluationWindow, Objection

REFUSED = (InvalidMove, NotAllowed)


def _project(request, slug, pk, perm: str | None = None) -> Proposal:
    community = access_community(request.user, slug, perm)
    proposal = (
        Proposal.objects.public()
        .filter(community=community, pk=pk)
        .select_related("community__sub_district")
        .first()
    )
    if proposal is None:
        raise Http404
    return proposal


def _to_project(proposal: Proposal):
    return redirect("project", slug=proposal.community.slug, pk=proposal.pk)


def _to_disclosure(pk: int):
    return redirect("disclosure", pk=pk)


# Communities a page of the district dashboard shows: about a street's worth (a district of a
# city has about 60 communities in five streets), a page a phone scrolls through.
DASHBOARD_PER_PAGE = 12


def district_dashboard(request, pk):
    """A district admin's view over every community of their district (404 for anyone else,
    and for a district that does not exist)."""
    district = District.objects.filter(pk=pk).first()
    if district is None or not request.user.has_perm(
        "disclosure.view_district_dashboard", district
    ):
        raise Http404
    board = dashboard.district_dashboard(district)
    page = Paginator(board.lines, DASHBOARD_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "disclosure/district_dashboard.html", {"dashboard": board, "page": page})


def staff_queue(request, slug):
    """Everything waiting for the community's staff, on one page."""
    community = access_community(request.user, slug, "disclosure.read_staff_queue")
    return render(
        request,
        "disclosure/staff_queue.html",
        {
            "community": community,
            "is_staff": request.user.has_perm("disclosure.view_staff_queue", community),
            **queue.staff_queue(community, request.user),
        },
    )


@require_POST
def publish(request, pk):
    disclosure = get_object_or_404(Disclosure, pk=pk)
    try:
        services.disclosure_publish(actor=request.user, disclosure=disclosure)
    except REFUSED as error:
        if not request.user.has_perm("disclosure.publish", disclosure.community):
            raise Http404 from error
        messages.error(request, str(error))
    else:
        messages.success(request, _("Published. The PDF and the notice are ready."))
    return _to_disclosure(pk)


@require_POST
def correct(request, pk):
    disclosure = get_object_or_404(Disclosure, pk=pk, status="published")
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidMove(
                form_refusal(form, _("Say what the correction changes; the note is published."))
            )
        draft = services.disclosure_correct(
            actor=request.user, disclosure=disclosure, note=form.cleaned_data["note"]
        )
    except REFUSED as error:
        messages.error(request, str(error))
        return _to_disclosure(pk)
    messages.success(request, _("The correction is drafted: check it, then publish it."))
    return _to_disclosure(draft.pk)


@require_POST
def objection_new(request, pk):
    disclosure = get_object_or_404(Disclosure, pk=pk, status="published")
    form = ObjectionForm(request.POST)
    try:
        if not request.user.is_authenticated:
            raise NotAllowed(_("Sign in first."))
        if not form.is_valid():
            raise InvalidMove(_("Write your objection (at most 2,000 characters)."))
        services.objection_lodge(
            actor=request.user, disclosure=disclosure, text=form.cleaned_data["text"]
        )
    except REFUSED as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your objection is lodged; staff answer it publicly."))
    return _to_disclosure(pk)


@require_POST
def objection_reply(request, pk):
    objection = get_object_or_404(Objection, pk=pk)
    form = AnswerForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidMove(_("Write the answer; it is published."))
        services.objection_answer(
            actor=request.user, objection=objection, answer=form.cleaned_data["answer"]
        )
    except REFUSED as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Answered. The decision's next version, with the answer, is drafted.")
        )
    return _to_disclosure(objection.disclosure_id)


def progress_new(request, slug, pk):
    proposal = _project(request, slug, pk, "disclosure.post_progress")
    district = proposal.community.sub_district.district_id
    form = ProgressForm(request.POST or None, request.FILES or None, district=district)
    if request.method == "POST" and form.is_valid():
        try:
            # The form's fields are the service's: date, text, percent, spent, provider, photos.
            services.progress_post(actor=request.user, proposal=proposal, **form.cleaned_data)
        except REFUSED as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("The update is published; disclosure 2 is redrafted with it.")
            )
            return _to_project(proposal)
    return render(
        request,
        "disclosure/progress_form.html",
        {"community": proposal.community, "proposal": proposal, "form": form},
        status=400 if form.errors else 200,
    )


def progress_import(request, slug):
    community = access_community(request.user, slug, "disclosure.import_progress")
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = services.progress_import_csv(
                actor=request.user, community=community, data=form.cleaned_data["file"].read()
            )
        except REFUSED as error:
            form.add_error("file", str(error))
    return render(
        request,
        "disclosure/progress_import.html",
        {"community": community, "form": form, "report": report},
        status=400 if form.errors or (report and report.errors) else 200,
    )


def completion_new(request, slug, pk):
    proposal = _project(request, slug, pk, "disclosure.record_completion")
    district = proposal.community.sub_district.district_id
    form = CompletionForm(request.POST or None, district=district)
    if request.method == "POST" and form.is_valid():
        try:
            services.completion_record(actor=request.user, proposal=proposal, **form.cleaned_data)
        except REFUSED as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Completion is recorded; the evaluation window is open."))
            return _to_project(proposal)
    return render(
        request,
        "disclosure/completion_form.html",
        {"community": proposal.community, "proposal": proposal, "form": form},
        status=400 if form.errors else 200,
    )


def _window(proposal: Proposal) -> EvaluationWindow:
    window = EvaluationWindow.objects.filter(proposal=proposal).first()
    if window is None:
        raise Http404
    return window


def evaluate(request, slug, pk):
    """A resident's evaluation of a finished project (the notice board's QR code leads here)."""
    proposal = _project(request, slug, pk)
    window = _window(proposal)
    mine = queue.my_evaluation(window, request.user)
    initial = {"rating": mine.rating, "comment": mine.comment} if mine else None
    form = EvaluationForm(request.POST or None, initial=initial)
    may = request.user.has_perm("disclosure.evaluate", proposal.community)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
        if form.is_valid():
            try:
                services.evaluation_give(actor=request.user, window=window, **form.cleaned_data)
            except REFUSED as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Thank you: your evaluation is recorded. You may change it until %(when)s.")
                    % {"when": window.closes_at.strftime("%Y-%m-%d")},
                )
                return redirect("evaluate", slug=slug, pk=pk)
    return render(
        request,
        "disclosure/evaluate.html",
        {
            "community": proposal.community,
            "proposal": proposal,
            "window": window,
            "mine": mine,
            "form": form,
            "may_evaluate": may,
            "awaiting_confirmation": request.user.has_perm(
                "council.await_confirmation", proposal.community
            ),
            "is_staff": request.user.has_perm(
                "disclosure.enter_paper_evaluation", proposal.community
            ),
            "paper_form": EvaluationForm(prefix="paper"),
            "close_form": ReasonForm(),
        },
        status=400 if form.errors else 200,
    )


@require_POST
def evaluation_paper(request, slug, pk):
    proposal = _project(request, slug, pk, "disclosure.enter_paper_evaluation")
    window = _window(proposal)
    form = EvaluationForm(request.POST, prefix="paper")
    try:
        if not form.is_valid():
            raise InvalidMove(_("Choose 满意, 基本满意 or 不满意."))
        services.evaluation_enter_paper(actor=request.user, window=window, **form.cleaned_data)
    except REFUSED as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The paper evaluation is entered, marked as such."))
    return redirect("evaluate", slug=slug, pk=pk)


@require_POST
def evaluation_close(request, slug, pk):
    proposal = _project(request, slug, pk, "disclosure.close_evaluation_early")
    window = _window(proposal)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidMove(
                form_refusal(form, _("Say why the window closes early; the reason is published."))
            )
        services.window_close(actor=request.user, window=window, reason=form.cleaned_data["reason"])
    except REFUSED as error:
        messages.error(request, str(error))
        return redirect("evaluate", slug=slug, pk=pk)
    messages.success(request, _("The evaluation window is closed; disclosure 3 is drafted."))
    return _to_project(proposal)


@login_required
def evaluation_awaiting(request):
    """Awaiting my evaluation: finished projects of my communities I have not evaluated."""
    return render(
        request,
        "disclosure/evaluation_awaiting.html",
        {"windows": queue.evaluations_awaiting(request.user)},
    )
