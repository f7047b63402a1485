"""Input forms of the council app: they validate, services write."""

import itertools
from collections.abc import Callable, Iterable
from operator import itemgetter

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from .models import Community, Grid, HouseholdStatus, PrivateData, phone_validator
from .params import IdChoiceField
from .personal_data import CONSENT_PURPOSES
from .selectors import communities_by_place
from .signin import lockout_message, password_checked
from .threads import MAX_LENGTH
from .validators import phone_normalize, validate_id_number, validate_one_line
from .widgets import QuickSelect

User = get_user_model()

# Django 6.1 labels every blank choice of a select "- Select an option -"
# (django.db.models.fields.BLANK_CHOICE_LABEL) and its own zh_Hans catalogue has no
# translation for it; marking it here puts it in ours, which LOCALE_PATHS reads first.
gettext_noop("- Select an option -")


class PhoneField(forms.CharField):
    """A mainland mobile number, typed any usual way (``+86 139 1111 2222``, ``139-1111-2222``,
    ``8613911112222``, full-width digits), cleaned to the 11 digits stored; anything else is
    refused on the field in the reader's language."""

    default_error_messages = {"invalid": phone_validator.message}

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile phone"))
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        phone = phone_normalize(value)
        if phone is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return phone


class PrivateDataFields(forms.ModelForm):
    """The private-data fields, validated by the model's own validators."""

    phone = PhoneField()

    class Meta:
        model = PrivateData
        fields = ["phone", "id_number", "address", "household_status"]
        widgets = {
            "id_number": forms.TextInput(attrs={"autocomplete": "off"}),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
        }

    def clean_id_number(self):
        return self.cleaned_data["id_number"].upper()


CHOOSE = _("Choose…")


class GridChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("(not sure / none)"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.community.name} · {obj.name}"


def _by_place(rows: Iterable[tuple]) -> list:
    """``(value, name, place)`` rows, in ``communities_by_place``'s order, as choices grouped
    under their district and sub-district (街道)."""
    return [
        (place, [(value, name) for value, name, _place in members])
        for place, members in itertools.groupby(rows, key=itemgetter(2))
    ]


def community_choices(
    communities: Iterable[Community], empty_label, value: Callable = lambda c: c.slug
) -> list:
    """Choices for a select of ``communities`` (in ``communities_by_place``'s order), grouped
    by district and sub-district, so that a person finds theirs among a city's hundreds."""
    return [("", empty_label), *_by_place((value(c), c.name, c.place) for c in communities)]


class _CommunitiesByPlace(ModelChoiceIterator):
    # Rows, not model instances: a city's 600 communities made 600 instances per select, a
    # third of the sign-up page's time. (A community's label is its name: ``str()``.)
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        key = self.field.to_field_name or "pk"
        yield from _by_place(self.queryset.values_list(key, "name", "place"))


class CommunityChoiceField(forms.ModelChoiceField):
    """A community, chosen from a select grouped by district and sub-district (one query)."""

    iterator = _CommunitiesByPlace

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", communities_by_place())
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(**kwargs)


class CommunityGridField(GridChoiceField):
    """A grid of the community chosen beside it (``SignUpForm``): listed by its own name, and
    any other community's grid refused with a message that says so."""

    default_error_messages = {"invalid_choice": _("That grid is not in the community you chose.")}

    def label_from_instance(self, obj):
        return obj.name


class LockoutMessageMixin:
    """A sign-in form that, when the attempt was refused for too many wrong passwords
    (``council.signin``), says so (code ``locked_out``) instead of "wrong password" — in the
    same words whatever the username, so it never tells whether an account exists."""

    def get_invalid_login_error(self):
        if getattr(self.request, "axes_locked_out", False):
            return forms.ValidationError(lockout_message(), code="locked_out")
        return super().get_invalid_login_error()


class SignInForm(LockoutMessageMixin, AuthenticationForm):
    """Sign in with one's username or, for a resident, mobile number (``council.signin``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or mobile phone")


class AdminSignInForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass


def check_own_password(request, user, password: str, wrong: forms.ValidationError) -> None:
    """Check a signed-in person's password as the sign-in form does (``password_checked``):
    raise ``wrong``, or the lockout message (code ``locked_out``) once the account or the
    address is locked."""
    if password_checked(request, user, password):
        return
    if getattr(request, "axes_locked_out", False):
        raise forms.ValidationError(lockout_message(), code="locked_out")
    raise wrong


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form to change one's password, whose old password is checked under the sign-in
    throttle: a stolen session cannot guess it here."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        wrong = forms.ValidationError(
            self.error_messages["password_incorrect"], code="password_incorrect"
        )
        check_own_password(self.request, self.user, old_password, wrong)
        return old_password


class SignUpForm(BaseUserCreationForm):
    """A resident signs up, picks their community and agrees to the stated purposes.

    There is no username to choose: the system gives one (shown on the welcome page and on
    "My personal data"), so signing up never tells whether a name is taken.
    """

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=40,
        validators=[validate_one_line],
        help_text=_("Shown next to what you write in public. It may be a nickname."),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("For notifications and password resets."),
    )
    community = CommunityChoiceField(label=_("Your community"), empty_label=CHOOSE)
    grid = CommunityGridField(
        label=_("Your grid (if you know it)"),
        queryset=Grid.objects.none(),
        required=False,
        widget=QuickSelect,
        help_text=_("The grids of the community you chose."),
    )
    phone = PhoneField(help_text=_("You can also sign in with it instead of your username."))
    id_number = forms.CharField(
        label=_("ID number (optional)"),
        max_length=18,
        required=False,
        validators=[validate_id_number],
    )
    address = forms.CharField(label=_("Address"), max_length=200, validators=[validate_one_line])
    household_status = forms.ChoiceField(
        label=_("Household status"), choices=[("", CHOOSE), *HouseholdStatus.choices]
    )
    consent = forms.BooleanField(
        label=CONSENT_PURPOSES,
        error_messages={"required": _("Please agree to how your personal data will be used.")},
    )

    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = ("email",)  # the password is checked against it (not too alike)

    field_order = [
        "display_name",
        "email",
        "community",
        "grid",
        "phone",
        "id_number",
        "address",
        "household_status",
        "password1",
        "password2",
        "consent",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the chosen community's grids are offered (a city has over a thousand), and
        # only they are accepted.
        community = self.chosen_community_id()
        if community is not None:
            self.fields["grid"].queryset = Grid.objects.filter(community_id=community)

    def chosen_community_id(self) -> int | None:
        """The community chosen so far (posted, or given as initial), if it looks like one."""
        if self.is_bound:
            raw = self.data.get(self.add_prefix("community"))
        else:
            raw = self.initial.get("community")
        raw = str(getattr(raw, "pk", raw) or "")
        return int(raw) if raw.isascii() and raw.isdigit() else None

    def clean_id_number(self):
        return self.cleaned_data["id_number"].upper()


class AccountCloseForm(forms.Form):
    """Closing one's own account: the password again, and a tick that says what it means."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password to close your account.")},
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand that closing my account cannot be undone: I can no longer sign in, "
            "my private data is deleted, and what I did in public stays, shown as "
            "“Former resident (account closed)”."
        ),
        error_messages={"required": _("Tick the box to confirm that you want to close it.")},
    )

    def __init__(self, *args, user, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self):
        password = self.cleaned_data["password"]
        wrong = forms.ValidationError(
            _("That is not your password. Your account is unchanged."), code="wrong_password"
        )
        check_own_password(self.request, self.user, password, wrong)  # under the throttle
        return password


class ConfirmForm(forms.Form):
    grid = GridChoiceField(label=_("Grid"), queryset=Grid.objects.none(), required=False)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = community.grids.select_related("community")


class ResidentRegisterForm(PrivateDataFields):
    """Staff or a grid worker register a resident who is not online."""

    display_name = forms.CharField(
        label=_("Display name"), max_length=40, validators=[validate_one_line]
    )
    grid = GridChoiceField(label=_("Grid"), queryset=Grid.objects.none(), required=False)

    class Meta(PrivateDataFields.Meta):
        fields = ["display_name", "grid", *PrivateDataFields.Meta.fields]

    def __init__(self, *args, community: Community, grids=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = (
            grids if grids is not None else community.grids.all()
        ).select_related("community")


# --- Long text: written without syntax -------------------------------------------------------

# Under every long text box: how to write without knowing any mark-up.
WRITING_HELP = _(
    "Leave a blank line between paragraphs. The buttons above the box make words bold, "
    "a list or a heading."
)


def writing_attrs() -> dict:
    """The attributes of a long text box that ``static/js/writing.js`` gives a toolbar
    (「加粗」, 「列表」, 「小标题」), with its labels in the reader's language."""
    return {
        "data-writing": "",
        "data-writing-label": pgettext_lazy("writing toolbar", "Formatting"),
        "data-writing-bold": pgettext_lazy("writing toolbar", "Bold"),
        "data-writing-list": pgettext_lazy("writing toolbar", "List"),
        "data-writing-heading": pgettext_lazy("writing toolbar", "Heading"),
    }


def writing_area(rows: int) -> forms.Textarea:
    """A long text box (a proposal's description, a plan, remarks, minutes) with the toolbar."""
    return forms.Textarea(attrs={"rows": rows, **writing_attrs()})


class ResidentFindForm(forms.Form):
    """A grid worker or staff look a resident up by mobile number (to reset their password)."""

    phone = PhoneField(
        label=_("The resident's mobile phone"),
        help_text=_("Written any way: 139 1111 2222, +86 139-1111-2222…"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )


# --- Threads: the same forms validate a WebSocket frame and a plain POST ------------------------


class MessageForm(forms.Form):
    """A new message. ``kind`` other than a comment is for staff (the service checks)."""

    body = forms.CharField(
        label=_("Your message"),
        max_length=MAX_LENGTH,
        widget=writing_area(3),
        error_messages={"required": _("Write something first.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("comment", _("comment")),
            ("official", _("official answer")),
            ("meeting_note", _("meeting note")),
        ],
        required=False,
    )
    # Set by the 「回复」 button of a message: the message this one answers.
    reply_to = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean_kind(self):
        return self.cleaned_data["kind"] or "comment"


class _OneMessageForm(forms.Form):
    """An act on one message of the thread: which one."""

    message = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class DeleteForm(_OneMessageForm):
    pass


class EditForm(_OneMessageForm):
    body = forms.CharField(
        label=_("Text"),
        max_length=MAX_LENGTH,
        widget=writing_area(3),
        error_messages={"required": _("Write something first.")},
    )


def _reason_field(label, required) -> forms.CharField:
    """A short published reason: one line, at most 300 characters."""
    return forms.CharField(
        label=label, max_length=300, validators=[validate_one_line],
        error_messages={"required": required},
    )  # fmt: skip


class HideForm(_OneMessageForm):
    reason = _reason_field(
        _("Reason (shown in its place)"),
        _("Give the reason for hiding it; it is shown in its place."),
    )


class ReportForm(_OneMessageForm):
    reason = _reason_field(_("What is wrong with it?"), _("Say what is wrong with it."))


class DismissReportForm(forms.Form):
    """Staff dismiss a report, with the reason (kept with the report and in the log)."""

    reason = _reason_field(_("Why the message may stay"), _("Say why the report is dismissed."))


BAN_PERIODS = [
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("0", _("until staff lift it")),
]


class PostingBanForm(forms.Form):
    """Bar one person from posting in the community's threads for a period, with a reason
    they are shown. ``people``: whom this page may bar (people of the community)."""

    user = IdChoiceField(
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose the person from a reported message."),
            "invalid_choice": _("Choose the person from a reported message."),
        },
    )
    days = forms.ChoiceField(
        label=_("For how long"), choices=BAN_PERIODS, initial="7", widget=forms.RadioSelect
    )
    reason = _reason_field(
        _("Reason (the person is shown it)"),
        _("Say why they may not post; they are shown the reason."),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people
