"""Input forms of the disclosure app: they validate; ``disclosure.services`` decide and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from council import clock
from council.models import Community
from council.validators import validate_one_line
from proposals.forms import PhotosAndDocumentsField

from .models import Provider, Rating
from .services.implementation import (
    CSV_COLUMNS,
    CSV_MAX_BYTES,
    CSV_MAX_CELL,
    CSV_MAX_ROWS,
    MAX_PHOTOS,
    csv_too_large,
)


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.get_kind_display()}"


class ProgressForm(forms.Form):
    # A date input's value is always YYYY-MM-DD, whatever the language (zh-hans would render
    # 2026/03/01, which the browser discards, leaving the field empty).
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    text = forms.CharField(label=_("What was done"), max_length=4000, widget=forms.Textarea(
        attrs={"rows": 4}
    ))  # fmt: skip
    percent = forms.IntegerField(label=_("Percent done"), min_value=0, max_value=100)
    spent = forms.DecimalField(
        label=_("Money spent so far (yuan)"), min_value=0, max_digits=12, decimal_places=2
    )
    provider = ProviderChoiceField(label=_("Who delivers it"), queryset=Provider.objects.none())
    # Checked by content while the form validates (the service refuses anything not a photo).
    photos = PhotosAndDocumentsField(
        label=_("Photos (optional)"),
        help_text=_("At most %(n)d. Stored without location and camera details.")
        % {"n": MAX_PHOTOS},
    )

    def __init__(self, *args, district=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.filter(district=district, active=True)
        self.fields["date"].initial = clock.today()


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form: the limits are numbers in a sentence, in the reader's language.
        self.fields["file"].help_text = _(
            "Saved as “CSV UTF-8”; first line: %(columns)s. At most %(rows)s rows, %(mb)d MB "
            "and %(cell)s characters in a cell. The whole file is checked first: if any row has "
            "a problem, nothing is published."
        ) % {
            "columns": ",".join(CSV_COLUMNS),
            "rows": f"{CSV_MAX_ROWS:,}",
            "mb": CSV_MAX_BYTES // (1024 * 1024),
            "cell": f"{CSV_MAX_CELL:,}",
        }

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > CSV_MAX_BYTES:
            raise forms.ValidationError(csv_too_large(file.size))
        return file


class CompletionForm(forms.Form):
    acceptance_note = forms.CharField(
        label=_("Acceptance note (published)"), max_length=4000, widget=forms.Textarea(
            attrs={"rows": 4}
        )
    )  # fmt: skip
    actual = forms.DecimalField(
        label=_("Actual cost, final accounts (yuan)"), min_value=0, max_digits=12, decimal_places=2
    )
    provider = ProviderChoiceField(label=_("Delivered by"), queryset=Provider.objects.none())
    variance_explanation = forms.CharField(
        label=_("Why the cost differs from the budget (needed above 10%)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, district=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.filter(district=district, active=True)


class EvaluationForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("How did it turn out?"), choices=Rating.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment (optional, published without your name)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why close it early (published)"), max_length=300, validators=[validate_one_line]
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("What the correction changes (published)"),
        max_length=300,
        validators=[validate_one_line],
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer (published)"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class OpenDataScopeForm(forms.Form):
    """Which part of an open data file to download (``?community=&year=&since=``): each may be
    left out. A value that cannot be used is refused with a reason, never ignored."""

    community = forms.ModelChoiceField(
        queryset=Community.objects.all(),
        to_field_name="slug",
        required=False,
        error_messages={
            "invalid_choice": _(
                "There is no community with this short name; the open data index lists them."
            )
        },
    )
    year = forms.IntegerField(
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": _("The year must be written as four digits, e.g. 2025.")},
    )
    since = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Write the date as YYYY-MM-DD, for example 2026-03-01.")},
    )

    def __init__(self, *args, dataset, **kwargs):
        super().__init__(*args, **kwargs)
        self.dataset = dataset

    def clean_since(self):
        since = self.cleaned_data["since"]
        if since is None:
            return None
        if since > clock.today():
            raise forms.ValidationError(_("This date is still to come: nothing is dated since."))
        if not self.dataset.final:
            raise forms.ValidationError(
                _(
                    "This file's rows still change after they first appear (a project's stage, "
                    "its spending): download it whole, or by community or year."
                )
            )
        return since
