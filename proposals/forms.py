"""Input forms of the proposals app: they validate, services write.

Forms are built on unsaved instances and plain initial values, never on the proposal the
page shows, so a rejected form cannot alter what the page displays.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from council.forms import WRITING_HELP, writing_area
from council.models import ProjectType, RoleKind, RoleStatus
from council.money import format_yuan
from council.validators import validate_one_line

from .media import MAX_BYTES, clean_upload
from .models import (
    BODY_MAX,
    SUMMARY_MAX,
    TEXT_MAX,
    TITLE_MAX,
    AdmissibilityReview,
    ExpertOpinion,
    FeasibilityReview,
    Proposal,
    Recommendation,
    SubKind,
)

User = get_user_model()

MAX_FILES = 10
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,application/pdf,.heic,.heif"


class PersonChoiceField(forms.ModelChoiceField):
    """People by the name they show in public."""

    def label_from_instance(self, obj):
        return obj.display_name or obj.username


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosAndDocumentsField(forms.FileField):
    """Several photos or PDFs, each checked by content (``proposals.media``) while the form
    is validated, so that a bad file is reported before anything is saved."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos and documents (optional)"))
        kwargs.setdefault(
            "help_text",
            _(
                "Photos (JPEG, PNG, WebP, HEIC) or PDF documents, at most %(mb)d MB each. "
                "Photos are stored without their location and camera details."
            )
            % {"mb": MAX_BYTES // (1024 * 1024)},
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ACCEPT)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > MAX_FILES:
            raise ValidationError(
                _("Add at most %(n)d files at a time.") % {"n": MAX_FILES}, code="too_many"
            )
        errors = []
        for uploaded in files:
            super().clean(uploaded, initial)
            try:
                clean_upload(uploaded)
            except ValidationError as error:
                errors.extend(error.messages)
            finally:
                uploaded.seek(0)  # the service reads it again when it stores it
        if errors:
            raise ValidationError(errors)
        return files


class ProposalForm(forms.ModelForm):
    """A proposal's fields, with the community's cost cap checked on the cost field."""

    body = forms.CharField(
        label=_("Description"),
        max_length=BODY_MAX,
        widget=writing_area(12),
        help_text=format_lazy("{} {}", _("The problem and what should be done."), WRITING_HELP),
    )
    files = PhotosAndDocumentsField()

    class Meta:
        model = Proposal
        fields = [
            "title",
            "summary",
            "body",
            "project_type",
            "sub_kind",
            "location",
            "beneficiaries",
            "estimated_cost",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "estimated_cost": forms.NumberInput(attrs={"min": "0.01", "step": "0.01"}),
        }
        help_texts = {
            "summary": _("One or two sentences: what, where, for whom."),
            "estimated_cost": _("Your best guess in yuan; staff make their own estimate later."),
        }

    def __init__(self, *args, community, on_behalf_choices=None, on_behalf_required=False, **kw):
        kw.setdefault("instance", Proposal(community=community))
        super().__init__(*args, **kw)
        self.community = community
        self.fields["project_type"].choices = [("", _("Choose…")), *ProjectType.choices]
        self.fields["sub_kind"].choices = [("", _("Choose…")), *SubKind.choices]
        if on_behalf_choices is not None:
            field = PersonChoiceField(
                label=_("On behalf of"),
                queryset=on_behalf_choices,
                required=on_behalf_required,
                empty_label=_("(nobody: I propose it myself)")
                if not on_behalf_required
                else _("Choose…"),
                help_text=_(
                    "Entering a paper proposal for a confirmed resident: it is recorded as "
                    "entered on their behalf, by you."
                ),
            )
            self.fields["on_behalf_of"] = field
        self.order_fields(["on_behalf_of", *self.Meta.fields, "files"])

    def clean(self):
        cleaned = super().clean()
        cost, kind = cleaned.get("estimated_cost"), cleaned.get("project_type")
        if cost is not None and kind:
            cap = self.community.cap_for(kind)
            if cost > cap:
                self.add_error(
                    "estimated_cost",
                    _(
                        "The estimated cost is above the cap of %(cap)s for %(type)s projects "
                        "in this community."
                    )
                    % {"cap": format_yuan(cap), "type": ProjectType(kind).label},
                )
        return cleaned

    def proposal_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def residents_of(community):
    """Confirmed residents of a community, for staff entering a paper proposal."""
    return (
        User.objects.filter(
            roles__community=community,
            roles__kind=RoleKind.RESIDENT,
            roles__status=RoleStatus.ACTIVE,
        )
        .distinct()
        .only("pk", "username", "display_name")
        .order_by("display_name", "username")
    )


def experts_of(community, exclude=()):
    return (
        User.objects.filter(
            roles__community=community,
            roles__kind=RoleKind.EXPERT,
            roles__status=RoleStatus.ACTIVE,
        )
        .exclude(pk__in=list(exclude))
        .distinct()
        .only("pk", "username", "display_name")
        .order_by("display_name", "username")
    )


class ReviseForm(forms.Form):
    """The proposer's revision of the text during consultation."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX, validators=[validate_one_line])
    summary = forms.CharField(
        label=_("Summary"), max_length=SUMMARY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    body = forms.CharField(
        label=_("Description"), max_length=BODY_MAX, widget=writing_area(14), help_text=WRITING_HELP
    )
    note = forms.CharField(
        label=_("What changed"),
        max_length=TEXT_MAX,
        validators=[validate_one_line],
        required=False,
        help_text=_("A short note for readers, e.g. “lower cost after the expert's advice”."),
    )
    seen_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_seen_revision(self):
        """The revision the form started from, or None if the proposal had none then (0)."""
        return self.cleaned_data["seen_revision"] or None


class AdmissibilityForm(forms.ModelForm):
    class Meta:
        model = AdmissibilityReview
        fields = [*AdmissibilityReview.CHECKS, "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for check in AdmissibilityReview.CHECKS:
            self.fields[check].required = False


class FeasibilityForm(forms.ModelForm):
    plan = forms.CharField(
        label=_("Implementation plan"),
        max_length=BODY_MAX,
        widget=writing_area(6),
        help_text=WRITING_HELP,
    )

    class Meta:
        model = FeasibilityReview
        fields = ["feasible", "cost_estimate", "plan"]
        widgets = {
            "cost_estimate": forms.NumberInput(attrs={"min": "0.01", "step": "0.01"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feasible"].required = False


class OpinionForm(forms.ModelForm):
    remarks = forms.CharField(
        label=_("Remarks"), max_length=BODY_MAX, widget=writing_area(6), help_text=WRITING_HELP
    )

    class Meta:
        model = ExpertOpinion
        fields = ["recommendation", "remarks"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Our own blank choice: Django's "- Select an option -" has no Chinese translation.
        self.fields["recommendation"].choices = [("", _("Choose…")), *Recommendation.choices]


class InviteExpertForm(forms.Form):
    expert = PersonChoiceField(
        label=_("Expert"), queryset=User.objects.none(), empty_label=_("Choose…")
    )

    def __init__(self, *args, community, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expert"].queryset = experts_of(community, exclude)


class UploadForm(forms.Form):
    files = PhotosAndDocumentsField(required=True, label=_("Photos and documents"))
