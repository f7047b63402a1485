"""Deliberation threads (generic: a thread knows nothing of what it is about), their messages,
reports, posting bans and who is viewing."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..validators import validate_one_line
from .places import Community


class Thread(models.Model):
    """A real-time deliberation thread of a community. Public ones are readable by anyone."""

    community = models.ForeignKey(
        Community, models.CASCADE, related_name="threads", verbose_name=_("community")
    )
    title = models.CharField(_("title"), max_length=120, validators=[validate_one_line])
    is_public = models.BooleanField(_("public"), default=True)
    is_open = models.BooleanField(_("open to new messages"), default=True)
    page_url = models.CharField(
        _("page"),
        max_length=200,
        blank=True,
        help_text=_("Where the thread is shown (set by what it is about)."),
    )
    guests = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="guest_threads",
        verbose_name=_("invited guests"),
        help_text=_("People from outside the community who may post, such as invited experts."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")

    def __str__(self) -> str:
        return self.title


class MessageKind(models.TextChoices):
    COMMENT = "comment", _("comment")
    OFFICIAL = "official", _("official answer")
    MEETING_NOTE = "meeting_note", _("meeting note")
    EXPERT_OPINION = "expert_opinion", _("expert opinion")


class Message(models.Model):
    """One message of a thread. Deleting leaves a tombstone; hiding keeps a public reason."""

    thread = models.ForeignKey(Thread, models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    author_role = models.CharField(_("author's role"), max_length=20, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=MessageKind.choices, default=MessageKind.COMMENT
    )
    body = models.TextField(_("text"))
    body_html = models.TextField(editable=False)
    # The message this one answers (shown as 「回复 某某：…」) …
    quote = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("quotes")
    )
    # … and the top-level message it is shown under: the one answered, or the one that one
    # answers (replies nest one level only).
    reply_to = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("in reply to"),
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.CharField(
        _("reason for hiding"), max_length=300, blank=True, validators=[validate_one_line]
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["pk"]
        indexes = [models.Index(fields=["thread", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""),
                name="message_hidden_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(reply_to=models.F("id")), name="message_not_a_reply_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} in {self.thread_id}"


class MessageEdit(models.Model):
    """The text a message had before an edit (or before deletion): kept, never shown in public."""

    message = models.ForeignKey(Message, models.CASCADE, related_name="edits")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"edit of #{self.message_id}"


class MessageReport(models.Model):
    """A resident reports a message to staff."""

    message = models.ForeignKey(Message, models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, validators=[validate_one_line])
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    # Set when staff dismiss the report (the message stays as it is), with their reason.
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    dismissed_reason = models.CharField(
        _("reason for dismissing"), max_length=300, blank=True, validators=[validate_one_line]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="report_once")]

    def __str__(self) -> str:
        return f"report of #{self.message_id}"


class PostingBan(models.Model):
    """Moderation: a person may not post in a community's threads until ``until`` (no end
    when empty), or until staff lift it (the row is deleted; the evidence log keeps both)."""

    community = models.ForeignKey(Community, models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, validators=[validate_one_line])
    banned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="posting_ban_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} may not post in {self.community}"


class ThreadPresence(models.Model):
    """One open connection to a thread, so every server process can tell who is viewing."""

    thread = models.ForeignKey(Thread, models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["thread", "seen_at"])]

    def __str__(self) -> str:
        return self.channel_name


class ThreadRead(models.Model):
    """How far a person has read a thread: the newest message they were shown (on the page
    or through the thread's socket). Messages after it are unread for them."""

    thread = models.ForeignKey(Thread, models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    last_read_message_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "thread"], name="thread_read_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.thread_id} to #{self.last_read_message_id}"
