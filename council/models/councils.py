"""Residents' councils (居民议事会) and their rules of procedure."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..validators import validate_one_line
from .places import Community


class ThresholdRule(models.TextChoices):
    MAJORITY_OF_MEMBERS = (
        "majority_of_members",
        _("more than half of all seated non-recused members"),
    )
    MAJORITY_OF_CAST = "majority_of_cast", _("more than half of the votes cast")
    TWO_THIRDS_OF_CAST = "two_thirds_of_cast", _("at least two-thirds of the votes cast")


class Secrecy(models.TextChoices):
    ROLL_CALL = "roll_call", pgettext_lazy("ballot secrecy", "roll-call")
    SECRET = "secret", pgettext_lazy("ballot secrecy", "secret")


class Council(models.Model):
    """居民议事会 and its rules of procedure (议事规则). A ballot copies these when it opens."""

    community = models.OneToOneField(
        Community, models.CASCADE, related_name="council", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=80, validators=[validate_one_line])
    quorum_numerator = models.PositiveSmallIntegerField(_("quorum numerator"), default=2)
    quorum_denominator = models.PositiveSmallIntegerField(_("quorum denominator"), default=3)
    threshold = models.CharField(
        _("threshold"),
        max_length=30,
        choices=ThresholdRule.choices,
        default=ThresholdRule.MAJORITY_OF_MEMBERS,
    )
    secrecy = models.CharField(
        _("secrecy"), max_length=10, choices=Secrecy.choices, default=Secrecy.ROLL_CALL
    )
    board_shows_running_count = models.BooleanField(
        _("meeting board may show the running count of a roll-call ballot"), default=False
    )
    publicity_days = models.PositiveSmallIntegerField(
        _("publicity period (days)"), default=5, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        constraints = [
            models.CheckConstraint(
                name="council_quorum_is_a_fraction",
                condition=Q(quorum_numerator__gte=1)
                & Q(quorum_denominator__gte=1)
                & Q(quorum_numerator__lte=models.F("quorum_denominator")),
            ),
            models.CheckConstraint(
                name="council_publicity_positive", condition=Q(publicity_days__gte=1)
            ),
        ]

    def __str__(self) -> str:
        return self.name
