"""Forms of ballots and rounds: they validate input; ``voting.services`` decide and write."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council import clock
from council.money import format_yuan
from council.validators import validate_one_line

from ..models import Choice, FundingRule


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def default_closing(hours: int = 48) -> dt.datetime:
    moment = timezone.localtime(clock.now() + dt.timedelta(hours=hours))
    return moment.replace(minute=0, second=0, microsecond=0)


class PersonChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        # Our own blank choice: Django's "- Select an option -" has no Chinese translation.
        kwargs.setdefault("empty_label", _("Choose…"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return obj.public_name


class BallotOpenForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("Voting closes at"),
        widget=LocalDateTimeInput(),
        help_text=_("Members may vote and change their vote until then."),
    )
    meeting = forms.ModelChoiceField(
        label=_("At the meeting (optional)"),
        queryset=None,
        required=False,
        empty_label=_("Choose…"),
        help_text=_("The meeting's live board shows the ballot."),
    )

    def __init__(self, *args, meetings=(), **kwargs):
        super().__init__(*args, **kwargs)
        from ..models import Meeting

        self.fields["meeting"].queryset = Meeting.objects.filter(pk__in=[m.pk for m in meetings])
        self.fields["closes_at"].initial = default_closing()


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=Choice.choices, widget=forms.RadioSelect
    )


class ClerkVoteForm(forms.Form):
    member = PersonChoiceField(label=_("Member"), queryset=None)
    choice = forms.ChoiceField(label=_("Vote given by show of hands"), choices=Choice.choices)

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class HandCountForm(forms.Form):
    yes = forms.IntegerField(label=_("Yes"), min_value=0, max_value=999, initial=0)
    no = forms.IntegerField(label=_("No"), min_value=0, max_value=999, initial=0)
    abstain = forms.IntegerField(label=_("Abstain"), min_value=0, max_value=999, initial=0)


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why close it early (published)"),
        max_length=300,
        validators=[validate_one_line],
        widget=forms.TextInput(),
    )


class RecusalForm(forms.Form):
    reason = forms.CharField(
        label=_("Your conflict of interest (published)"),
        max_length=300,
        validators=[validate_one_line],
        help_text=_("For example: “My family runs the shop that would supply it.”"),
    )


class ProposalChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return f"{obj.title} · {format_yuan(obj.counted_cost)}"


class RoundOpenForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, validators=[validate_one_line])
    proposals = ProposalChoiceField(label=_("Projects on the slate"), queryset=None)
    rule = forms.ChoiceField(label=_("Funding rule"), choices=FundingRule.choices)
    add1 = forms.BooleanField(
        label=_("Complete Equal Shares by raising each member's share (Add1)"),
        required=False,
        initial=True,
    )
    closes_at = forms.DateTimeField(label=_("Voting closes at"), widget=LocalDateTimeInput())

    def __init__(self, *args, proposals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposals"].queryset = proposals
        self.fields["closes_at"].initial = default_closing()
        self.fields["title"].initial = _("Yearly round %(year)s") % {"year": clock.today().year}


class RoundBallotForm(forms.Form):
    """An approval ballot: any subset of the slate, possibly none."""

    approved = forms.MultipleChoiceField(
        label=_("Projects you approve"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, slate=(), recused=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved"].choices = [
            (str(rp.proposal_id), f"{rp.proposal.title} · {format_yuan(rp.cost)}")
            for rp in slate
            if rp.proposal_id not in recused
        ]

    def approved_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["approved"]]


class ClerkRoundBallotForm(RoundBallotForm):
    member = PersonChoiceField(label=_("Member (paper ballot)"), queryset=None)

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.order_fields(["member", "approved"])
