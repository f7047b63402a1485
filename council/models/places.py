"""Where people live: districts, sub-districts, communities (with their caps and collection
window) and grids."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..validators import validate_one_line


class District(models.Model):
    """区: the district whose admins set up communities, caps, councils and envelopes."""

    name = models.CharField(_("name"), max_length=60, unique=True, validators=[validate_one_line])
    slug = models.SlugField(_("slug"), unique=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class SubDistrict(models.Model):
    """街道: a sub-district of a district."""

    district = models.ForeignKey(
        District, models.PROTECT, related_name="sub_districts", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=60, validators=[validate_one_line])

    class Meta:
        verbose_name = _("sub-district")
        verbose_name_plural = _("sub-districts")
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="subdistrict_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ProjectType(models.TextChoices):
    """The three kinds of micro-project, each with its own per-project cap."""

    ENGINEERING = "engineering", _("Engineering (工程类)")
    SERVICE = "service", _("Service (服务类)")
    GOODS = "goods", _("Goods (货物类)")


def _positive_money(name: str) -> Q:
    return Q(**{f"{name}__gt": Decimal("0")})


class Community(models.Model):
    """社区: where residents live, propose and evaluate; the unit every role is held in."""

    sub_district = models.ForeignKey(
        SubDistrict, models.PROTECT, related_name="communities", verbose_name=_("sub-district")
    )
    name = models.CharField(_("name"), max_length=60, validators=[validate_one_line])
    slug = models.SlugField(_("slug"), unique=True)
    cosign_threshold = models.PositiveSmallIntegerField(
        _("co-sign threshold"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("Co-signs (附议) that move a submitted proposal to review."),
    )
    collection_opens = models.DateField(_("collection window opens"))
    collection_closes = models.DateField(_("collection window closes"))
    cap_engineering = models.DecimalField(
        _("cap for engineering projects (yuan)"), max_digits=12, decimal_places=2
    )
    cap_service = models.DecimalField(
        _("cap for service projects (yuan)"), max_digits=12, decimal_places=2
    )
    cap_goods = models.DecimalField(
        _("cap for goods projects (yuan)"), max_digits=12, decimal_places=2
    )

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["sub_district_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["sub_district", "name"], name="community_unique_name"),
            models.CheckConstraint(
                condition=Q(cosign_threshold__gte=1), name="community_threshold_positive"
            ),
            models.CheckConstraint(
                condition=Q(collection_closes__gte=models.F("collection_opens")),
                name="community_window_ordered",
            ),
            models.CheckConstraint(
                condition=_positive_money("cap_engineering")
                & _positive_money("cap_service")
                & _positive_money("cap_goods"),
                name="community_caps_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def cap_for(self, project_type: str) -> Decimal:
        """The per-project cap for one of ``ProjectType``'s values."""
        return {
            ProjectType.ENGINEERING: self.cap_engineering,
            ProjectType.SERVICE: self.cap_service,
            ProjectType.GOODS: self.cap_goods,
        }[ProjectType(project_type)]

    def collection_is_open(self, on) -> bool:
        return self.collection_opens <= on <= self.collection_closes


class Grid(models.Model):
    """网格: a part of a community; a grid worker handles private data in theirs only."""

    community = models.ForeignKey(
        Community, models.CASCADE, related_name="grids", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=60, validators=[validate_one_line])

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.community.name} · {self.name}"
