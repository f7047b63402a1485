"""Signing in that cannot be guessed: django-axes on the shared cache, and throttled resets.

Attempts are counted twice, in the cache every worker shares (Redis in production):

- per account (the username typed, whether or not such an account exists, or the account a
  resident's mobile number stands for, ``sign_in_name``, typed in any format):
  ``SIGNIN_ACCOUNT_FAILURES`` wrong passwords lock that username for everyone for
  ``SIGNIN_LOCKOUT_MINUTES``;
- per address (the client's IP address; for IPv6 its /64): ``SIGNIN_ADDRESS_FAILURES`` wrong
  passwords, whatever the usernames, lock that address for as long.

An attempt is counted before its password is checked (``SignInThrottle``), so guesses sent at
the same moment get no more checks than guesses sent one by one. A locked attempt is refused
before the password is checked, even the right one, and is not counted again, so the lock ends
when it said it would. The sign-in form then says so (status 429) in the same words whatever
the username: nothing tells whether an account exists. A form that asks a signed-in person for
their password again checks it through ``password_checked``: the same counts. The grid worker
or staff lift a resident's lock from the resident's page (``sign_in_unlock``; not an
official's, ``council.unlock_sign_in``); ``manage.py axes_reset_username NAME`` does it from
the command line, for anyone.

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
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils.translation import ngettext

from .selectors import phone_sign_in_username
from .validators import phone_normalize

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


def sign_in_name(request, typed: str) -> str:
    """The username a sign-in typed as ``typed`` is checked and counted under: ``typed``
    itself, or, for a mobile number in any of the ways people write it (``+86 139 1111 2222``,
    ``139-1111-2222``, ``8613911112222``, full-width digits) that is nobody's username, the
    username of the resident it signs in (``selectors.phone_sign_in_username``). So guesses by
    phone count toward, and are stopped by, the same account's lock as guesses by username.
    Remembered on ``request``: one attempt asks several times."""
    phone = phone_normalize(typed) if typed else None
    if phone is None:
        return typed
    known = getattr(request, "sign_in_names", None)
    if known is None:
        known = {}
        if request is not None:
            request.sign_in_names = known
    if typed not in known:
        if get_user_model().objects.filter(username=typed).exists():
            known[typed] = typed
        else:
            known[typed] = phone_sign_in_username(phone) or typed
    return known[typed]


class SignInBackend(ModelBackend):
    """Django's own check of a username and password, where a resident's mobile number also
    stands for their username (``sign_in_name``).

    A wrong password ends the attempt here (``PermissionDenied``): the ``ModelBackend`` after
    this one (kept for ``login(backend=…)``) would only check it again. So every attempt —
    by username or by phone, for an account that exists or not — costs one password hash,
    and its time tells nothing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = super().authenticate(
            request, username=sign_in_name(request, username), password=password
        )
        if user is None:
            raise PermissionDenied
        return user


def axes_username(request, credentials) -> str | None:
    """What axes counts an attempt under: the account it signs in to (``sign_in_name``: the
    username typed, or the resident a mobile number stands for), marked as an account."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "POST", {}).get("username")
    return f"{ACCOUNT}{sign_in_name(request, username)}" if username else None


def account_key(username: str) -> str:
    if not username.startswith(ACCOUNT):
        username = f"{ACCOUNT}{username}"
    return make_cache_key_list([{"username": username}])[0]


def address_counted(address: str | None) -> str:
    """What an address is counted as: an IPv4 address itself, an IPv6 address its /64.

    One home, office or phone is given a whole /64 (2**64 addresses): counted one by one, its
    owner would have a fresh count for every guess.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or ""
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:203.0.113.5 is 203.0.113.5
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def _address_key(address: str | None) -> str:
    return make_cache_key_list([{"ip_address": address_counted(address)}])[0]


def _lockout_seconds() -> int:
    return settings.SIGNIN_LOCKOUT_MINUTES * 60


class SignInThrottle(AxesCacheHandler):
    """django-axes' cache handler, counting each attempt *before* its password is checked.

    Axes counts a wrong password after checking it, so every request of a burst sent at the
    same moment passes the lock before the first failure is counted (a won't-fix of axes,
    jazzband/django-axes#592): 20 guesses at once were 20 checks. Here axes' backend, first of
    ``AUTHENTICATION_BACKENDS``, asks ``is_allowed`` once per attempt and the attempt is counted
    there, atomically in the shared cache, under the account and under the address; an attempt
    that takes either count over its limit is refused unchecked and uncounted. So at most
    ``SIGNIN_ACCOUNT_FAILURES`` passwords of one account, and ``SIGNIN_ADDRESS_FAILURES`` from
    one address, are checked per lockout, however many arrive at once.

    The attempt then ends one of two ways. A wrong password keeps its count and restarts both
    counts' time (the lock lasts ``SIGNIN_LOCKOUT_MINUTES`` from the last counted failure). A
    right one clears the account's count and takes itself off the address's, which counts wrong
    passwords only (else an office signing in all morning would lock itself out, and one's own
    account could not reset an attacker's count).
    """

    def _keys(self, request, credentials) -> tuple[str, str]:
        username = get_client_username(request, credentials) or ""
        return account_key(username), _address_key(getattr(request, "axes_ip_address", None))

    @staticmethod
    def _limits() -> tuple[int, int]:
        return settings.SIGNIN_ACCOUNT_FAILURES, settings.SIGNIN_ADDRESS_FAILURES

    def _counts(self, keys) -> list[int]:
        found = cache.get_many(keys)
        return [found.get(key, 0) for key in keys]

    def is_allowed(self, request, credentials=None) -> bool:
        """Count this attempt; False (refuse it, password unchecked) when it is one too many."""
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return True
        keys = self._keys(request, credentials)
        limits = self._limits()
        if any(count >= limit for count, limit in zip(self._counts(keys), limits, strict=True)):
            return False  # locked already: not counted, so the lock ends when it said
        window = _lockout_seconds()
        counts = [_count(key, window) for key in keys]
        if any(count > limit for count, limit in zip(counts, limits, strict=True)):
            for key in keys:  # others of the same burst were quicker
                _uncount(key)
            return False
        request.signin_counted = keys
        return True

    def get_failures(self, request, credentials=None) -> int:
        return max(self._counts(self._keys(request, credentials)))

    def is_locked(self, request, credentials=None) -> bool:
        counts = self._counts(self._keys(request, credentials))
        return settings.AXES_LOCK_OUT_AT_FAILURE and any(
            count >= limit for count, limit in zip(counts, self._limits(), strict=True)
        )

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return
        if not getattr(request, "axes_locked_out", False):
            keys = self._keys(request, credentials)
            window = _lockout_seconds()
            counted = getattr(request, "signin_counted", None) == keys
            for key in keys:
                # Counted when it began; a failure nobody counted (a check outside the sign-in
                # backends) is counted now.
                if not (counted and cache.touch(key, window)):
                    _count(key, window)
            request.signin_counted = None
            if not self.is_locked(request, credentials):
                return
            request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send(
            "axes",
            request=request,
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        )

    def user_logged_in(self, sender, request, user, **kwargs):
        _succeeded(request, user)

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False) -> int:
        count = 0
        if username:
            count += int(bool(cache.delete(account_key(username))))
        if ip_address:
            count += int(bool(cache.delete(_address_key(ip_address))))
        return count


def _succeeded(request, user) -> None:
    """A right password: clear the account's count, take the attempt off the address's."""
    cache.delete(account_key(user.get_username()))
    counted = getattr(request, "signin_counted", None) if request is not None else None
    if counted:
        cache.delete(counted[0])
        _uncount(counted[1])
        request.signin_counted = None


def password_checked(request, user, password: str) -> bool:
    """Whether ``password`` is ``user``'s, checked as a sign-in is: counted under their account
    and the client's address, and refused unchecked while either is locked — then
    ``request.axes_locked_out`` is set and the form shows ``lockout_message()``.

    For the forms that ask a signed-in person for their password again (changing it, closing
    the account), so a stolen session cannot guess it any faster than the sign-in form can.
    """
    checked = authenticate(request, username=user.get_username(), password=password)
    if checked is None or checked.pk != user.pk:
        return False
    _succeeded(request, user)
    return True


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
    """Count one more under ``key``, atomically, in a window of ``window`` seconds from the
    first; return the new count."""
    for _attempt in range(3):
        if cache.add(key, 1, timeout=window):
            return 1
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls: a new window
            continue
        if count == 1:
            # Django's Redis incr checks the key exists, then INCRs: a key that expired in
            # between comes back without an expiry. Give it one.
            cache.touch(key, window)
        return count
    return 1


def _uncount(key: str) -> None:
    """Take back one count of ``_count`` (an attempt refused or a right password)."""
    try:
        if cache.decr(key) < 0:  # expired and re-created by Redis, without an expiry
            cache.delete(key)
    except ValueError:  # expired: nothing left to take back
        pass


def password_reset_throttled(request, email: str) -> bool:
    """Count a request for a reset email; True when it is one too many (send nothing).

    Counted per address (``PASSWORD_RESETS_PER_ADDRESS``) and per email address typed
    (``PASSWORD_RESETS_PER_EMAIL``), each within ``PASSWORD_RESET_WINDOW_MINUTES``, whether
    or not an account has that email address: the answer never tells.
    """
    window = settings.PASSWORD_RESET_WINDOW_MINUTES * 60
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_email = _count(f"password-reset:email:{digest}", window)
    by_address = _count(f"password-reset:address:{address_counted(client_ip(request))}", window)
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
