"""What waits to reach a person: in-app notifications (emailed by the minute scheduler) and
password-reset requests."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One in-app notification, written in the recipient's language when it is created."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.text


class PasswordResetRequest(models.Model):
    """A request for a password-reset email, as it was typed, waiting for the minute
    scheduler to look the address up and send the email (``council.mail``): the request
    itself writes only this row, whether or not an account has the address. Deleted once
    handled, or a day after it was made."""

    email = models.EmailField(max_length=254)
    language = models.CharField(max_length=10)  # the email's: the request's language
    domain = models.CharField(max_length=255)  # the link's host: the request's
    use_https = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"password reset request #{self.pk}"
