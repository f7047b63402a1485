"""Input forms of the council app: they validate, services write."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .models import Community, Grid, HouseholdStatus, PrivateData, phone_validator
from .threads import MAX_LENGTH
from .validators import validate_id_number

User = get_user_model()


class PrivateDataFields(forms.ModelForm):
    """The private-data fields, validated by the model's own validators."""

    class Meta:
        model = PrivateData
        fields = ["phone", "id_number", "address", "household_status"]
        widgets = {
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "id_number": forms.TextInput(attrs={"autocomplete": "off"}),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
        }

    def clean_id_number(self):
        return self.cleaned_data["id_number"].upper()


CHOOSE = _("Choose…")

# Django asks gettext(":") for every form's label suffix; marking it here puts it in our own
# catalogue, where Chinese gets the full-width colon "：".
gettext_noop(":")


class GridChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("(not sure / none)"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.community.name} · {obj.name}"


class SignUpForm(UserCreationForm):
    """A resident signs up, picks their community and agrees to the stated purposes."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=40,
        help_text=_("Shown next to what you write in public. It may be a nickname."),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("For notifications and password resets."),
    )
    community = forms.ModelChoiceField(
        label=_("Your community"), queryset=Community.objects.order_by("name"), empty_label=CHOOSE
    )
    grid = GridChoiceField(
        label=_("Your grid (if you know it)"),
        queryset=Grid.objects.select_related("community"),
        required=False,
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=11,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    id_number = forms.CharField(
        label=_("ID number (optional)"),
        max_length=18,
        required=False,
        validators=[validate_id_number],
    )
    address = forms.CharField(label=_("Address"), max_length=200)
    household_status = forms.ChoiceField(
        label=_("Household status"), choices=[("", CHOOSE), *HouseholdStatus.choices]
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my phone, ID number and address are kept by my community's staff and "
            "grid worker only, to confirm that I live here and to contact me about proposals; "
            "they are never published."
        ),
        error_messages={"required": _("Please agree to how your personal data will be used.")},
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def clean_id_number(self):
        return self.cleaned_data["id_number"].upper()

    def clean(self):
        cleaned = super().clean()
        community, grid = cleaned.get("community"), cleaned.get("grid")
        if community and grid and grid.community_id != community.pk:
            self.add_error("grid", _("That grid is not in the community you chose."))
        return cleaned


class ConfirmForm(forms.Form):
    grid = GridChoiceField(label=_("Grid"), queryset=Grid.objects.none(), required=False)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = community.grids.select_related("community")


class ResidentRegisterForm(PrivateDataFields):
    """Staff or a grid worker register a resident who is not online."""

    display_name = forms.CharField(label=_("Display name"), max_length=40)
    grid = GridChoiceField(label=_("Grid"), queryset=Grid.objects.none(), required=False)

    class Meta(PrivateDataFields.Meta):
        fields = ["display_name", "grid", *PrivateDataFields.Meta.fields]

    def __init__(self, *args, community: Community, grids=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = (
            grids if grids is not None else community.grids.all()
        ).select_related("community")


# --- Threads: the same forms validate a WebSocket frame and a plain POST ------------------------


class MessageForm(forms.Form):
    """A new message. ``kind`` other than a comment is for staff (the service checks)."""

    body = forms.CharField(
        label=_("Your message"),
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
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
    quote = forms.IntegerField(label=_("Quote message no."), required=False, min_value=1)

    def clean_kind(self):
        return self.cleaned_data["kind"] or "comment"


class EditForm(forms.Form):
    message = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    body = forms.CharField(
        label=_("Text"),
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write something first.")},
    )


class DeleteForm(forms.Form):
    message = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class HideForm(forms.Form):
    message = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (shown in its place)"),
        max_length=300,
        error_messages={"required": _("Give the reason for hiding it; it is shown in its place.")},
    )


class ReportForm(forms.Form):
    message = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("What is wrong with it?"),
        max_length=300,
        error_messages={"required": _("Say what is wrong with it.")},
    )
