"""Forms of council meetings: they validate input; ``voting.services`` decide and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from council.forms import WRITING_HELP, writing_area
from council.params import IdChoiceField
from council.validators import validate_one_line
from council.wording import aside

from ..models import Meeting

MINUTES_MAX = Meeting._meta.get_field("minutes").max_length


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class AgendaField(forms.ModelMultipleChoiceField):
    """Proposals as checkboxes; the agenda keeps the order in which they were submitted
    (a ``list``, not a queryset), each proposal once."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": _(
                    "“%(value)s” is not a proposal of this community in consultation or voting."
                ),
                "required": _("Put at least one proposal on the agenda."),
            },
        )
        super().__init__(queryset=None, **kwargs)

    def label_from_instance(self, obj):
        return obj.title + aside(obj.get_stage_display())

    def clean(self, value):
        chosen = super().clean(value)
        by_pk = {str(proposal.pk): proposal for proposal in chosen}
        return [by_pk[key] for key in dict.fromkeys(str(v) for v in value or ()) if key in by_pk]


class AgendaForm(forms.Form):
    """The agenda: proposals ticked, each with an optional number (``order_<pk>``) that sets
    its place. Numbered items come first, by number; the others follow in the order listed."""

    agenda = AgendaField(
        label=_("Agenda"),
        help_text=_(
            "Tick the proposals to discuss. Number them to set the order; those without a "
            "number follow in the order listed."
        ),
    )

    def __init__(self, *args, proposals, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agenda"].queryset = proposals
        self.initial_order = {str(pk): n for pk, n in (order or {}).items()}

    def _order(self, pk) -> str:
        if self.is_bound:
            return self.data.get(f"order_{pk}", "").strip()
        return str(self.initial_order.get(str(pk), ""))

    def agenda_rows(self) -> list[dict]:
        """Each choice's checkbox with its order number, for the template."""
        return [
            {"choice": choice, "order": self._order(choice.data["value"])}
            for choice in self["agenda"].subwidgets
        ]

    def clean_agenda(self):
        chosen = self.cleaned_data["agenda"]

        def rank(indexed):
            n, proposal = indexed
            number = self._order(proposal.pk)
            return (int(number), n) if number.isdigit() else (float("inf"), n)

        return [proposal for _n, proposal in sorted(enumerate(chosen), key=rank)]


class MeetingForm(AgendaForm):
    title = forms.CharField(label=_("Title"), max_length=120, validators=[validate_one_line])
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=LocalDateTimeInput())
    place = forms.CharField(label=_("Place"), max_length=120, validators=[validate_one_line])

    field_order = ["title", "starts_at", "place", "agenda"]


class MinutesForm(forms.Form):
    text = forms.CharField(
        label=_("Minutes"),
        required=False,
        max_length=MINUTES_MAX,
        widget=writing_area(10),
        help_text=format_lazy("{} {}", _("Public: everyone can read the minutes."), WRITING_HELP),
    )


class CurrentItemForm(forms.Form):
    """The agenda item the live board shows as under discussion; none (an empty value) clears
    it."""

    item = IdChoiceField(
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("That item is not on this meeting's agenda.")},
    )

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = meeting.items.select_related("proposal")


class AttendanceForm(forms.Form):
    """The clerk marks a person present (``present`` is ``"1"``), excused (``"excused"``:
    absent with leave) or absent (anything else). Whether they hold a seat is the service's
    to say."""

    member = IdChoiceField(
        queryset=get_user_model().objects.all(),
        error_messages={
            "required": _("That person holds no seat on this council."),
            "invalid_choice": _("That person holds no seat on this council."),
        },
    )
    present = forms.CharField(required=False, strip=False)

    def clean(self):
        data = super().clean()
        value = self.data.get("present", "")
        data["present"], data["excused"] = value == "1", value == "excused"
        return data
