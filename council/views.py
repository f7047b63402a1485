"""Thin views of the council app: read through selectors, write through services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView, TemplateView

from . import clock, display, selectors, services, thread_actions, thread_render, threads
from .access import CommunityPermissionMixin, access_community
from .errors import InvalidMove, NotAllowed, NotUnderstood
from .forms import (
    AccountCloseForm,
    ConfirmForm,
    DismissReportForm,
    PasswordChangeForm,
    PostingBanForm,
    PrivateDataFields,
    ResidentFindForm,
    ResidentRegisterForm,
    SignInForm,
    SignUpForm,
)
from .home import home_sections_render
from .mail import password_reset_email_queue
from .models import Notification, Role, RoleKind, RoleStatus, User
from .notifications import notifications_mark_read
from .params import whole_number
from .personal_data import personal_data_json
from .rules import held_roles
from .signin import password_reset_throttled, password_reset_throttled_message, sign_in_locked


def home(request):
    """The site's front page: a signed-in person's own page (我的), else the programme and
    where each community stands."""
    if request.user.is_authenticated:
        return mine(request)
    return overview(request)


COMMUNITIES_PER_PAGE = 24


def overview(request):
    """The programme and where each community stands (the front page of a visitor): a page
    of communities at a time, grouped by district and street, found by name, street or
    district (``?q=``); htmx swaps the results in place (``home.html#communities``)."""
    query = request.GET.get("q", "").strip()[:60]
    page = Paginator(selectors.communities_found(query), COMMUNITIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    communities = selectors.community_overview(page.object_list)
    for community in communities:
        community.collection = selectors.collection_status(community)
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(
        request,
        "council/home.html#communities" if partial else "council/home.html",
        {
            "communities": communities,
            "page_obj": page,
            "query": query,
            "filter_params": {"q": query} if query else {},
            "list_url": reverse("overview"),
            "results_id": "communities",
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@never_cache
def mine(request):
    """我的: what a signed-in person proposed and where each stands, what awaits them, the
    threads they follow and their notifications; a sign-up still awaiting confirmation says so
    and who confirms it. The sections come from every app (``council.home``)."""
    pending = selectors.awaiting_confirmation(request.user)
    return render(
        request,
        "council/mine.html",
        {
            "pending": pending,
            "places": selectors.my_communities(request.user, pending=pending),
            "sections": home_sections_render(request),
        },
    )


def community_detail(request, slug):
    community = access_community(request.user, slug)
    return render(
        request,
        "council/community.html",
        {
            "community": community,
            "collection": selectors.collection_status(community),
            "seats": selectors.council_seats(community),
            "council": getattr(community, "council", None),
        },
    )


# The sign-up form's button that lists the chosen community's grids without JavaScript (with
# it, htmx asks for the grid select as soon as a community is chosen).
LIST_GRIDS = "list_grids"
# What a round trip for the grid list carries over (never the passwords).
SIGNUP_KEPT = (
    "display_name", "email", "community", "phone", "id_number", "address", "household_status",
)  # fmt: skip


def signup(request):
    """Sign up as a resident. The grid select lists only the chosen community's grids: htmx
    fetches it again when the community changes (``?community=``, answered with the select
    alone), and without JavaScript a button posts the form back to list them, nothing checked
    and what was typed kept."""
    listing = request.method == "POST" and LIST_GRIDS in request.POST
    if request.method == "POST" and not listing:
        form = SignUpForm(request.POST)
    else:
        source = request.POST if listing else request.GET
        form = SignUpForm(initial={name: source[name] for name in SIGNUP_KEPT if source.get(name)})
        if request.htmx and "community" in request.GET:
            response = HttpResponse(str(form["grid"]))
            patch_vary_headers(response, ["HX-Request"])
            return response
        if listing:
            form.fields["grid"].widget.attrs["autofocus"] = True
    if request.method == "POST" and not listing and form.is_valid():
        data = form.cleaned_data
        try:
            residency = services.resident_sign_up(
                password=data["password1"],
                display_name=data["display_name"],
                email=data["email"],
                community=data["community"],
                grid=data["grid"],
                phone=data["phone"],
                id_number=data["id_number"],
                address=data["address"],
                household_status=data["household_status"],
                consent=data["consent"],
                language=get_language() or "zh-hans",
            )
        except (InvalidMove, ValidationError) as error:
            form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        else:
            login(request, residency.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _(
                    "Welcome, %(name)s. Staff of %(community)s or your grid worker will confirm "
                    "that you live there; until then you can read everything but not act."
                )
                % {"name": residency.user.display_name, "community": residency.community},
            )
            response = redirect("welcome")
            display.carry_over(request, residency.user, response)
            return response
    form.fields["community"].widget.attrs |= {
        "hx-get": reverse("signup"),
        "hx-target": "#" + form["grid"].auto_id,
        "hx-swap": "outerHTML",
    }
    response = render(
        request,
        "registration/signup.html",
        {
            "form": form,
            "refresh_after": {
                "field": "community",
                "name": LIST_GRIDS,
                "label": _("List this community's grids"),
            },
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def welcome(request):
    """After signing up: the sign-in name the system gave, to write down."""
    residency = (
        Role.objects.filter(user=request.user, kind=RoleKind.RESIDENT)
        .select_related("community")
        .order_by("-pk")
        .first()
    )
    return render(request, "registration/welcome.html", {"residency": residency})


class SignInView(auth_views.LoginView):
    """Sign in. After too many wrong passwords (``council.signin``) the form says for how long
    signing in is paused and who can unlock it, answered with 429 Too Many Requests."""

    authentication_form = SignInForm

    def form_valid(self, form):
        response = super().form_valid(form)
        display.carry_over(self.request, form.get_user(), response)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "locked_out"):
            response.status_code = 429
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset email. Throttled per email address and per client address: one request
    too many sends nothing and says so (429), whether or not an account has that address.
    Otherwise the request is queued for the minute scheduler, which sends the email
    (``council.mail``): the answer never waits on the mail server, and takes the same time
    whether or not an account has the address."""

    def form_valid(self, form):
        if password_reset_throttled(self.request, form.cleaned_data["email"]):
            form.add_error(None, password_reset_throttled_message())
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        password_reset_email_queue(
            email=form.cleaned_data["email"],
            language=get_language() or settings.LANGUAGE_CODE,
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
        )
        return HttpResponseRedirect(self.get_success_url())


def _residency_or_404(community, pk):
    """A resident's residency in ``community`` (404 for anything else), with its person, grid
    and community."""
    return get_object_or_404(
        Role.objects.select_related("user", "grid", "community"),
        pk=pk,
        community=community,
        kind=RoleKind.RESIDENT,
    )


RESIDENTS_PER_PAGE = 50


class ResidentListView(CommunityPermissionMixin, TemplateView):
    """Staff and grid workers: sign-ups to confirm and residents they may see."""

    permission_required = "council.list_residents"
    template_name = "council/residents.html"

    def get_context_data(self, **kwargs):
        # A page at a time (a city's communities have thousands), sign-ups to confirm first.
        visible = selectors.residents_for(self.request.user, self.community)
        page = Paginator(visible, RESIDENTS_PER_PAGE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            residencies=list(page.object_list),
            page=page,
            # Sign-ups this person may confirm (never their own): the few awaiting, on any page.
            pending=[
                r
                for r in visible.filter(status=RoleStatus.PENDING)
                if self.request.user.has_perm("council.confirm_resident", r)
            ],
            grids=list(self.community.grids.all()),
            **kwargs,
        )


class ResidentConfirmView(CommunityPermissionMixin, View):
    permission_required = "council.list_residents"

    def post(self, request, slug, pk):
        residency = _residency_or_404(self.community, pk)
        form = ConfirmForm(request.POST, community=self.community)
        if not form.is_valid():
            outcome = ("error", _("Choose a grid of this community."))
        else:
            try:
                residency = services.resident_confirm(
                    actor=request.user, residency=residency, grid=form.cleaned_data["grid"]
                )
            except NotAllowed as error:
                raise Http404 from error
            except InvalidMove as error:
                outcome = ("warning", str(error))
            else:
                outcome = (
                    "success",
                    _("%(name)s is now a confirmed resident.") % {"name": residency.user},
                )
        if request.htmx:
            # The swapped row carries the outcome itself, so it is seen where the click was.
            residency.refresh_from_db()
            return render(
                request,
                "council/residents.html#resident_row",
                {
                    "residency": residency,
                    "community": self.community,
                    "grids": list(self.community.grids.all()),
                    "outcome": outcome,
                },
            )
        getattr(messages, outcome[0])(request, outcome[1])
        return redirect("residents", slug=self.community.slug)


class ResidentRegisterView(CommunityPermissionMixin, FormView):
    """Register a resident who is not online (paper form, a visit): recorded as on their behalf."""

    permission_required = "council.register_resident"
    template_name = "council/resident_register.html"
    form_class = ResidentRegisterForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["community"] = self.community
        if not self.request.user.has_perm("council.register_in_any_grid", self.community):
            own = {
                r.grid_id for r in held_roles(self.request.user) if r.kind == RoleKind.GRID_WORKER
            }
            kwargs["grids"] = self.community.grids.filter(pk__in=own)
        return kwargs

    def form_valid(self, form):
        try:
            # The form's fields are the service's: grid, display name and the private data.
            residency = services.resident_register_offline(
                actor=self.request.user, community=self.community, **form.cleaned_data
            )
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        except ValidationError as error:  # the phone is another resident's: on its field
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(name)s is registered, entered on their behalf.") % {"name": residency.user},
        )
        return redirect("resident", slug=self.community.slug, pk=residency.pk)


@method_decorator(never_cache, name="dispatch")
class ResidentFindView(CommunityPermissionMixin, FormView):
    """A grid worker (or the community's staff) finds a resident by mobile number, to reset
    their password or unlock their sign-in. Only residents whose private data they may read
    are found (a grid worker's own grid); any other number — someone else's resident or
    nobody's — gets the same "not found", and the number typed is not shown back. Posted, so
    the number stays out of addresses and server logs."""

    permission_required = "council.list_residents"
    template_name = "council/resident_find.html"
    form_class = ResidentFindForm

    def form_valid(self, form):
        found = selectors.resident_by_phone(
            self.request.user, self.community, form.cleaned_data["phone"]
        )
        if found is None:
            return self.render_to_response(
                self.get_context_data(form=ResidentFindForm(), not_found=True)
            )
        residency = found.residency
        return self.render_to_response(
            self.get_context_data(
                form=form,
                found=found,
                can_reset_password=self.request.user.has_perm("council.reset_password", residency),
                can_unlock=self.request.user.has_perm("council.unlock_sign_in", residency),
                sign_in_locked=sign_in_locked(residency.user.username),
            )
        )


class PrivateDataView(CommunityPermissionMixin, FormView):
    """A resident's private data: the grid worker of their grid edits, staff read."""

    template_name = "council/private_data.html"
    form_class = PrivateDataFields

    def dispatch(self, request, *args, **kwargs):
        self.private_data = selectors.private_data_for(request.user, kwargs["pk"])
        if (
            self.private_data is None
            or self.private_data.residency.community.slug != kwargs["slug"]
        ):
            raise Http404
        self.can_edit = request.user.has_perm("council.change_privatedata", self.private_data)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        # Initial values, not the instance: a rejected form must not alter what the page shows.
        # The ID number is never shown unmasked, not even here: left empty, it stays unchanged.
        kwargs["initial"] = model_to_dict(
            self.private_data, fields=[f for f in services.PRIVATE_FIELDS if f != "id_number"]
        )
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["id_number"].help_text = _("Leave empty to keep the number on file.")
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            private_data=self.private_data,
            can_edit=self.can_edit,
            can_reset_password=self.request.user.has_perm(
                "council.reset_password", self.private_data.residency
            ),
            can_unlock=self.request.user.has_perm(
                "council.unlock_sign_in", self.private_data.residency
            ),
            sign_in_locked=sign_in_locked(self.private_data.residency.user.username),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not self.can_edit:
            raise Http404
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            services.private_data_update(
                actor=self.request.user,
                private_data=self.private_data,
                **{f: form.cleaned_data[f] for f in services.PRIVATE_FIELDS if f != "id_number"},
                id_number=form.cleaned_data["id_number"] or self.private_data.id_number,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        except NotAllowed as error:
            raise Http404 from error
        messages.success(self.request, _("Saved."))
        return redirect("resident", slug=self.community.slug, pk=self.private_data.residency_id)


class ResidentPasswordResetView(CommunityPermissionMixin, View):
    """POST: a new password for a resident without email, shown once to the grid worker or
    staff member, who hands it over on paper. Anyone else gets 404."""

    permission_required = "council.list_residents"

    def post(self, request, slug, pk):
        residency = _residency_or_404(self.community, pk)
        if not request.user.has_perm("council.reset_password", residency):
            raise Http404
        if request.POST.get("confirm") != "1":
            messages.error(request, _("Tick the box to confirm that it is the resident who asks."))
            return redirect("resident", slug=self.community.slug, pk=residency.pk)
        try:
            password = services.password_reset_by_staff(actor=request.user, user=residency.user)
        except NotAllowed as error:
            raise Http404 from error
        response = render(
            request,
            "council/password_reset_by_staff.html",
            {"community": self.community, "residency": residency, "password": password},
        )
        # Shown once: never kept by a browser's or a proxy's cache.
        response["Cache-Control"] = "no-store"
        return response


class ResidentUnlockView(CommunityPermissionMixin, View):
    """POST: lift the lock on a resident's sign-in after too many wrong passwords (the grid
    worker of their grid or the community's staff). Anyone else gets 404."""

    permission_required = "council.list_residents"

    def post(self, request, slug, pk):
        residency = _residency_or_404(self.community, pk)
        try:
            services.sign_in_unlock(actor=request.user, user=residency.user)
        except NotAllowed as error:
            raise Http404 from error
        messages.success(
            request,
            _("%(name)s can sign in again.") % {"name": residency.user.public_name},
        )
        return redirect("resident", slug=self.community.slug, pk=residency.pk)


# --- A person's own data (PIPL) ----------------------------------------------------------------


def _personal_data_page(request, close_form, status=200):
    return render(
        request,
        "council/personal_data.html",
        {"close_form": close_form, "own_data": list(selectors.own_private_data(request.user))},
        status=status,
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def personal_data(request):
    """My personal data: what is held, the download, and closing the account."""
    return _personal_data_page(request, AccountCloseForm(user=request.user, request=request))


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def personal_data_download(request):
    """Everything the app holds about the signed-in person, as a JSON file (no evidence
    event: downloading one's own data is not a public act)."""
    response = HttpResponse(personal_data_json(request.user), content_type="application/json")
    stamp = timezone.localdate(clock.now()).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="weishi-personal-data-{stamp}.json"'
    return response


@login_required
@require_http_methods(["POST"])
def account_close(request):
    """Close the signed-in person's account, after their password and a confirmation."""
    form = AccountCloseForm(request.POST, user=request.user, request=request)
    if not form.is_valid():
        locked = form.has_error("password", "locked_out")
        return _personal_data_page(request, form, status=429 if locked else 400)
    try:
        services.account_close(actor=request.user, user=request.user)
    except (NotAllowed, InvalidMove) as error:
        form.add_error(None, str(error))
        return _personal_data_page(request, form, status=400)
    logout(request)
    messages.success(
        request,
        _(
            "Your account is closed and your private data deleted. What you did in public "
            "stays, without your name."
        ),
    )
    return redirect("home")


def evidence_log(request):
    """The public view of the evidence log: its newest signed checkpoint and entries, and how
    to check it without trusting us. No request walks the log."""
    # Nonsense (letters, a negative, 5,000 digits) shows the newest page.
    before = whole_number(request.GET.get("before"), minimum=1)
    events = selectors.evidence_public_page(before=before)
    return render(
        request,
        "council/evidence.html",
        {
            "events": events,
            "log": selectors.evidence_log_status(),
            "older": events[-1].seq if events and (events[-1].seq or 0) > 1 else None,
        },
    )


NOTIFICATIONS_PER_PAGE = 30


class NotificationPreferenceForm(forms.Form):
    email_notifications = forms.ChoiceField(
        label=gettext_lazy("Email me"),
        widget=forms.RadioSelect,
        choices=User._meta.get_field("email_notifications").choices,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notifications(request):
    """The user's notifications, newest first, with "mark all as read" and the email choice.

    Both forms work without JavaScript: a successful POST redirects back here (PRG).
    """
    user = request.user
    form = NotificationPreferenceForm(initial={"email_notifications": user.email_notifications})
    if request.method == "POST":
        if request.POST.get("action") == "mark_read":
            marked = notifications_mark_read(user)
            if marked:
                messages.success(request, _("All notifications are marked as read."))
            return redirect("notifications")
        form = NotificationPreferenceForm(request.POST)
        if form.is_valid():
            try:
                services.notification_preference_set(
                    user=user, choice=form.cleaned_data["email_notifications"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("notifications")
    page = Paginator(
        Notification.objects.filter(recipient=user).order_by("-created_at", "-pk"),
        NOTIFICATIONS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for note in page.object_list:
        # Only links inside the site: a stored URL is never a way out (or a javascript: link).
        note.link = note.url if url_has_allowed_host_and_scheme(note.url, None) else ""
    return render(
        request,
        "council/notifications.html",
        {"page": page, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["POST"])
def large_text(request):
    """The header's 长辈版 switch: ``large_text`` "on" or "off", then back to ``next``.

    Works without JavaScript. A visitor's choice is kept by their browser (a cookie); a
    signed-in person's by their account too, so every browser they sign in on follows it.
    """
    on = request.POST.get("large_text") == "on"
    if request.user.is_authenticated:
        services.large_text_set(user=request.user, on=on)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("home")
    response = HttpResponseRedirect(back)
    display.remember(response, on)
    return response


# --- Threads: the plain POST views (the same forms and services as the WebSocket consumer) ----


def _thread_back(request, thread):
    """Back to ``next`` (or the page the form was on), else the thread's community."""
    for candidate in (request.POST.get("next"), request.headers.get("referer")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(candidate)
    return redirect("community", slug=thread.community.slug)


def _thread_action(action: str):
    @require_http_methods(["POST"])
    def view(request, thread_id):
        thread = selectors.thread_for(request.user, thread_id)
        if thread is None:
            raise Http404
        outcome = thread_actions.perform(request.user, thread_id, action, request.POST)
        if outcome.ok:
            messages.success(request, outcome.text)
        else:
            messages.error(request, outcome.text)
        return _thread_back(request, thread)

    view.__name__ = f"thread_{action}"
    view.__doc__ = f"POST: the thread action {action!r} without JavaScript, then back (PRG)."
    return view


thread_post = _thread_action("post")
thread_edit = _thread_action("edit")
thread_delete = _thread_action("delete")
thread_hide = _thread_action("hide")
thread_report = _thread_action("report")


def thread_messages(request, thread_id):
    """A thread's messages before message ``?before=`` (「显示更早的留言」): the window of
    ``selectors.thread_window`` with the link to the one before it. htmx puts them above the
    messages a page shows; without JavaScript it is a page of its own."""
    thread = selectors.thread_for(request.user, thread_id)
    if thread is None:
        raise Http404
    before = whole_number(request.GET.get("before"), minimum=1)
    if before is None:
        raise NotUnderstood(_("This page of messages does not exist: follow the thread's links."))
    context = thread_render.thread_context(
        request.user, thread, next_url=request.get_full_path(), before=before
    )
    if request.htmx:
        return render(request, "council/thread_messages.html#window", context)
    return render(request, "council/thread_messages.html", context)


class ReportListView(CommunityPermissionMixin, TemplateView):
    """Staff: messages residents reported, oldest first, to hide (with a reason), dismiss
    (with a reason) or answer by barring the author from posting."""

    permission_required = "council.view_reports"
    template_name = "council/reports.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            reports=list(selectors.open_reports(self.community)),
            dismiss_form=DismissReportForm(),
            **kwargs,
        )


@require_http_methods(["POST"])
def report_dismiss_view(request, slug, pk):
    """Staff dismiss a report with a reason; it leaves the queue (PRG back to the reports)."""
    community = access_community(request.user, slug, "council.dismiss_report")
    form = DismissReportForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidMove(form.errors["reason"][0])
        if not selectors.open_reports(community).filter(pk=pk).exists():
            raise InvalidMove(_("This report is already handled."))
        threads.report_dismiss(actor=request.user, report_id=pk, reason=form.cleaned_data["reason"])
    except (InvalidMove, NotAllowed) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The report is dismissed; the message stays."))
    return redirect("message_reports", slug=community.slug)


BAN_TEMPLATE = "council/posting_bans.html"


def posting_bans(request, slug):
    """Staff: who may not post in the community's threads, until when and why; bar someone
    named by a reported message (``?user=``) for a period, with a reason; lift a ban."""
    community = access_community(request.user, slug, "council.ban_from_posting")
    people = selectors.bannable_people(community)
    form = PostingBanForm(request.POST or None, people=people)
    target = None
    if request.method == "GET":
        target = people.filter(pk=whole_number(request.GET.get("user"), minimum=1)).first()
        form = PostingBanForm(people=people, initial={"user": target.pk} if target else None)
    elif form.is_valid():
        data = form.cleaned_data
        target = data["user"]
        days = int(data["days"])
        try:
            threads.posting_ban(
                actor=request.user,
                community=community,
                user=target,
                reason=data["reason"],
                until=clock.now() + dt.timedelta(days=days) if days else None,
            )
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("%(name)s may not post in this community's threads now.")
                % {"name": target.public_name},
            )
            return redirect("posting_bans", slug=community.slug)
    else:
        target = form.cleaned_data.get("user")
    return render(
        request,
        BAN_TEMPLATE,
        {
            "community": community,
            "form": form,
            "target": target,
            "bans": selectors.posting_bans_in_force(community),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["POST"])
def posting_ban_lift_view(request, slug, pk):
    """Staff lift a ban: the person may post again at once."""
    community = access_community(request.user, slug, "council.ban_from_posting")
    ban = next((b for b in selectors.posting_bans_in_force(community) if b.pk == pk), None)
    if ban is None:
        raise Http404
    threads.posting_ban_lift(actor=request.user, ban_id=ban.pk)
    messages.success(request, _("%(name)s may post again.") % {"name": ban.user.public_name})
    return redirect("posting_bans", slug=community.slug)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Choose a new password (the old one, then the new one twice). After a reset by staff it
    is the only page open until done (``council.middleware``). The old password is checked
    under the sign-in throttle (429 once locked)."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("old_password", "locked_out"):
            response.status_code = 429
        return response

    def form_valid(self, form):
        services.password_change(user=self.request.user, form=form)
        update_session_auth_hash(self.request, form.user)  # stay signed in here
        messages.success(self.request, _("Your new password is saved."))
        return redirect(self.get_success_url())
