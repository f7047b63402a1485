"""The evidence log's rows (信息证据化): its events and the head of the chain; writes are in
``council.evidence``."""

from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..hooks import get_hooks
from .people import RoleKind
from .places import Community


def action_labels() -> dict:
    """What each evidence action means, for the public view: every app's
    ``evidence_action_labels`` hook (``council.hooks``), merged."""
    labels = {}
    for hook in get_hooks("evidence_action_labels"):
        labels.update(hook())
    return labels


def actors_by_role_only() -> dict[str, Callable[[dict], bool]]:
    """Actions whose actor the public view shows by role only when ``hidden(payload)`` holds,
    e.g. a member voting in a secret ballot: who took part is not published, only how many.
    The row keeps the actor for the server's own audit. Every app's
    ``evidence_actors_by_role_only`` hook, merged."""
    hidden = {}
    for hook in get_hooks("evidence_actors_by_role_only"):
        hidden.update(hook())
    return hidden


class EvidenceEvent(models.Model):
    """One link of the hash-chained, append-only evidence log (信息证据化).

    Written only by ``council.evidence.evidence_append``; ``hash`` is the SHA-256 of the
    event's canonical form, which includes ``prev_hash``. Unique ``seq`` and ``prev_hash``
    mean two writers can never attach to the same link: the chain cannot fork.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(_("actor's role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    community = models.ForeignKey(
        Community,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    payload = models.JSONField(_("payload"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64, unique=True)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("evidence event")
        verbose_name_plural = _("evidence events")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    # Officials act in public under their name; residents are shown by role only (DESIGN.md).
    NAMED_ROLES = frozenset(
        {
            RoleKind.STAFF,
            RoleKind.GRID_WORKER,
            RoleKind.DISTRICT_ADMIN,
            RoleKind.COUNCIL_MEMBER,
            RoleKind.EXPERT,
            "superuser",
        }
    )

    @property
    def action_label(self) -> str:
        """The action in the reader's language (see ``action_labels``)."""
        return str(action_labels().get(self.action, self.action))

    @property
    def public_actor(self) -> str:
        """Who acted, as the public view may show it."""
        if self.actor_id is None:
            # A member's act in a secret ballot keeps its role but no actor (``voting``).
            if self.actor_role in RoleKind.values:
                return str(RoleKind(self.actor_role).label)
            return str(_("the system"))
        hidden = actors_by_role_only().get(self.action)
        if self.actor_role in self.NAMED_ROLES and not (hidden and hidden(self.payload)):
            return str(self.actor)
        if self.actor_role in RoleKind.values:
            return str(RoleKind(self.actor_role).label)
        return str(RoleKind.RESIDENT.label)


class EvidenceHead(models.Model):
    """The single row that points at the chain's last event. Appends lock it to commit."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("evidence log head")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="evidence_head_singleton")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash}"
