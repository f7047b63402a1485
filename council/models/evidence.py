"""The evidence log's rows (信息证据化): its events, the Merkle tree's tiles and head, and the
signed checkpoints; writes are in ``council.evidence``."""

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
    """One entry of the evidence log (信息证据化), a leaf of its Merkle tree.

    Written by ``council.evidence.evidence_append`` inside the writer's own transaction, with no
    ``seq`` yet: no lock on the whole log. The sequencer (``evidence_integrate``) then gives
    committed events their place in order (``seq`` = leaf index + 1), writes the ``entry``
    (the canonical bytes the tree hashes) and the tiles. ``prev_hash`` and ``hash`` are the
    earlier hash chain's, kept on the events written before the tree existed.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The secret behind the entry's commitments to people (a resident actor, a user it is
    # about): random per event, so they cannot be linked; never published; the operator may
    # reveal it to an auditor to open them.
    salt = models.BinaryField(max_length=32, null=True, blank=True, editable=False)
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
    entry = models.BinaryField(_("entry"), null=True, blank=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, null=True)
    hash = models.CharField(_("hash"), max_length=64, null=True)

    class Meta:
        verbose_name = _("evidence event")
        verbose_name_plural = _("evidence events")
        ordering = ["seq", "id"]  # pending events (no place yet) in the order they will get one
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The sequencer's queue: events written and not yet in the tree.
            models.Index(fields=["id"], condition=Q(seq__isnull=True), name="evidence_pending"),
        ]
        constraints = [
            # Unique among the events the earlier chain hashed, and indexed for them only: an
            # event written since holds none, and costs its writer no index entry for them
            # (every index is one more write per append and per placing).
            models.UniqueConstraint(
                fields=["prev_hash"],
                condition=Q(prev_hash__isnull=False),
                name="evidence_chain_prev",
            ),
            models.UniqueConstraint(
                fields=["hash"], condition=Q(hash__isnull=False), name="evidence_chain_hash"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '…'} {self.action} {self.object_type}:{self.object_id}"

    @property
    def leaf_index(self) -> int | None:
        """The entry's index in the tree (0-based), once the sequencer has placed it."""
        return None if self.seq is None else self.seq - 1

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
    """The single row holding the tree's size (``seq``) and root (``hash``, hex). Only the
    sequencer writes it, under its row lock, so integrations run one at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("evidence log head")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="evidence_head_singleton")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash}"


class LogTile(models.Model):
    """One hash tile of the tree (C2SP tlog-tiles): up to 256 hashes of 32 bytes of tree level
    ``8·level``. Full tiles never change; the rightmost of each level grows."""

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hashes = models.BinaryField(max_length=8192)

    class Meta:
        verbose_name = _("log tile")
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="log_tile_once"),
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({len(self.hashes) // 32})"


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint): the tree's size and root, signed with the
    log's key. ``note`` is the signed note exactly as served; witnesses' cosignatures are
    kept beside it (``Cosignature``) and served with it."""

    size = models.PositiveBigIntegerField(unique=True)
    root = models.CharField(max_length=64)
    note = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("checkpoint")
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size} {self.root[:12]}"


class Cosignature(models.Model):
    """A witness's cosignature of a checkpoint (C2SP tlog-cosignature), one signature line."""

    checkpoint = models.ForeignKey(Checkpoint, models.CASCADE, related_name="cosignatures")
    witness = models.CharField(max_length=200)
    line = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("cosignature")
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="cosignature_once"),
        ]

    def __str__(self) -> str:
        return f"{self.witness} @ {self.checkpoint.size}"
