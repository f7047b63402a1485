"""Signing in that cannot be guessed: django-axes on the shared cache, and throttled resets.

Wrong passwords are counted twice, in the cache every worker shares (Redis in production):

- per account (the username typed, whether or not such an account exists):
  ``SIGNIN_ACCOUNT_FAILURES`` wrong passwords lock that username for everyone for
  ``SIGNIN_LOCKOUT_MINUTES``;
- per address (the client's IP address): ``SIGNIN_ADDRESS_FAILURES`` wrong passwords, whatever
  the usernames, lock that address for as long.

A locked attempt is refused before the password is checked, even the right one, and is not
counted again, so the lock ends when it said it would. The sign-in form then says so (status
429) in the same words whatever the username: nothing tells whether an account exists. The
grid worker or staff lift an account's lock from the resident's page (``sign_in_unlock``);
``manage.py axes_reset_username NAME`` does it from the command line.

Password reset emails are throttled the same way (``password_reset_throttled``): per address
and per email address typed, counted whether or not an account has that address.
"""

from __future__ import annotations

import hashlib
import ipaddress

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, make_cache_key_list
from axes.signals import user_locked_out
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import ngettext

# Usernames and addresses are counted in one cache: a prefix keeps a username that looks like
# an address ("203.0.113.5") from counting against — and locking — that address.
ACCOUNT = "account:"


def client_ip(request) -> str:
    """The address a request came from, as nobody but our own proxy can set it.

    ``REMOTE_ADDR`` is the peer of the TCP connection. When that peer is the reverse proxy
    (``TRUSTED_PROXIES``: nginx on the same machine), the client is the *last* address of
    ``X-Forwarded-For``: the one nginx wrote itself ($remote_addr, ``deploy/nginx.conf``).
    Anything a client put in the header is before it and is ignored.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    if peer in settings.TRUSTED_PROXIES:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return peer


def axes_username(request, credentials) -> str | None:
    """What axes counts an attempt under: the username typed, marked as an account."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "POST", {}).get("username")
    return f"{ACCOUNT}{username}" if username else None


def account_key(username: str) -> str:
    if not username.startswith(ACCOUNT):
        username = f"{ACCOUNT}{username}"
    return make_cache_key_list([{"username": username}])[0]


def _address_key(address: str | None) -> str:
    return make_cache_key_list([{"ip_address": address or ""}])[0]


class SignInThrottle(AxesCacheHandler):
    """django-axes' cache handler with a limit of its own for each count.

    Axes counts every wrong password under the account and under the address (its
    ``AXES_LOCKOUT_PARAMETERS``) but compares both with one limit; here an account locks after
    ``SIGNIN_ACCOUNT_FAILURES``, an address (shared by a whole office or mobile network) only
    after ``SIGNIN_ADDRESS_FAILURES``. A successful sign-in clears the account's count, never
    the address's (else one's own account would reset an attacker's count).
    """

    def _counts(self, request, credentials) -> tuple[int, int]:
        # The same keys axes counts under (AXES_LOCKOUT_PARAMETERS = username, ip_address).
        account_key, address_key = make_cache_key_list(
            [
                {"username": get_client_username(request, credentials)},
                {"ip_address": getattr(request, "axes_ip_address", None)},
            ]
        )
        return self.cache.get(account_key, 0), self.cache.get(address_key, 0)

    def _over_limit(self, request, credentials) -> bool:
        account, address = self._counts(request, credentials)
        return (
            account >= settings.SIGNIN_ACCOUNT_FAILURES
            or address >= settings.SIGNIN_ADDRESS_FAILURES
        )

    def get_failures(self, request, credentials=None) -> int:
        return max(self._counts(request, credentials))

    def is_locked(self, request, credentials=None) -> bool:
        return settings.AXES_LOCK_OUT_AT_FAILURE and self._over_limit(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.is_locked(request, credentials):  # the account's limit, lower than axes' one
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        self.cache.delete(account_key(user.get_username()))

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False) -> int:
        count = 0
        if username:
            count += int(bool(self.cache.delete(account_key(username))))
        if ip_address:
            count += int(bool(self.cache.delete(_address_key(ip_address))))
        return count


def lockout_message() -> str:
    """What a locked-out person reads on the sign-in form (the same for any username)."""
    minutes = settings.SIGNIN_LOCKOUT_MINUTES
    return ngettext(
        "Too many wrong passwords: signing in to this account, or from your network, is "
        "paused for %(minutes)d minute. Try again after that, or ask your grid worker or "
        "community staff to unlock your account.",
        "Too many wrong passwords: signing in to this account, or from your network, is "
        "paused for %(minutes)d minutes. Try again after that, or ask your grid worker or "
        "community staff to unlock your account.",
        minutes,
    ) % {"minutes": minutes}


def sign_in_locked(username: str) -> bool:
    """Whether this account is locked after too many wrong passwords (not its address)."""
    return cache.get(account_key(username), 0) >= settings.SIGNIN_ACCOUNT_FAILURES


def sign_in_unlock_account(username: str) -> None:
    """Forget the account's wrong passwords: it may be signed in to again at once. Used by
    ``council.services.sign_in_unlock``, which checks who may and records it."""
    AxesProxyHandler.reset_attempts(username=username)


# --- Password reset emails ---------------------------------------------------------------------


def _count(key: str, window: int) -> int:
    """Count one more request under ``key`` in a window of ``window`` seconds from the first."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls: a new window
        cache.add(key, 1, timeout=window)
        return 1


def password_reset_throttled(request, email: str) -> bool:
    """Count a request for a reset email; True when it is one too many (send nothing).

    Counted per address (``PASSWORD_RESETS_PER_ADDRESS``) and per email address typed
    (``PASSWORD_RESETS_PER_EMAIL``), each within ``PASSWORD_RESET_WINDOW_MINUTES``, whether
    or not an account has that email address: the answer never tells.
    """
    window = settings.PASSWORD_RESET_WINDOW_MINUTES * 60
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_email = _count(f"password-reset:email:{digest}", window)
    by_address = _count(f"password-reset:address:{client_ip(request)}", window)
    return (
        by_email > settings.PASSWORD_RESETS_PER_EMAIL
        or by_address > settings.PASSWORD_RESETS_PER_ADDRESS
    )


def password_reset_throttled_message() -> str:
    minutes = settings.PASSWORD_RESET_WINDOW_MINUTES
    return ngettext(
        "Too many requests for a new password, for this email address or from your network. "
        "Please try again in %(minutes)d minute; your grid worker or community staff can "
        "also give you a new password.",
        "Too many requests for a new password, for this email address or from your network. "
        "Please try again in %(minutes)d minutes; your grid worker or community staff can "
        "also give you a new password.",
        minutes,
    ) % {"minutes": minutes}
