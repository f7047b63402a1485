"""Validators of user input: one-line fields, and residents' private data."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Every character that ends a line (what str.splitlines() splits on): line feed, carriage
# return, vertical tab, form feed, the file/group/record separators, next line (U+0085), and
# the Unicode line and paragraph separators (U+2028, U+2029).
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def validate_one_line(value) -> None:
    """A one-line field (a title, a name, a place, a short reason) holds no line break of any
    kind: it goes into email subjects, feed titles and table cells. Refused, never changed
    silently: the person sees the message and rewrites it."""
    if value and not LINE_BREAKS.isdisjoint(str(value)):
        raise ValidationError(
            _("Write this on one line: it cannot hold a line break."), code="line_break"
        )


def require_one_line(**fields) -> None:
    """For a service: refuse the call if any of these one-line values holds a line break, with
    the message on each field at fault (``ValidationError``, as ``full_clean`` would)."""
    errors = {}
    for name, value in fields.items():
        try:
            validate_one_line(value)
        except ValidationError as error:
            errors[name] = error
    if errors:
        raise ValidationError(errors)


def refuse_line_breaks(*values) -> None:
    """For a service whose refusals are ``InvalidMove``: the same check, the same message."""
    from .errors import InvalidMove

    for value in values:
        try:
            validate_one_line(value)
        except ValidationError as error:
            raise InvalidMove(error.messages[0]) from error


def form_refusal(form, fallback) -> str:
    """What to tell someone whose short form was refused: the line-break message if that is
    the reason, else ``fallback``."""
    for errors in form.errors.as_data().values():
        for error in errors:
            if error.code == "line_break":
                return error.messages[0]
    return str(fallback)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def validate_id_number(value: str) -> None:
    """A resident identity card number (GB 11643-1999): 17 digits and a check character."""
    value = (value or "").upper()
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits, then a digit or X."), code="format"
        )
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValidationError(
            _("This ID number's check character is wrong; please check it again."),
            code="checksum",
        )


# What people put between the digits of a phone number: spaces (any width), hyphens and dashes,
# dots, brackets. Removed before the number is read.
_PHONE_SEPARATORS = str.maketrans("", "", " \t\u00a0\u3000-\u2010\u2011\u2012\u2013\u2014.()")
MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


def phone_normalize(value) -> str | None:
    """A mainland mobile number as stored (``13911112222``), from the ways people write it:
    ``+86 139 1111 2222``, ``139-1111-2222``, ``8613911112222``, ``0086…``, full-width digits
    (``１３９…``), spaces anywhere. None when what remains is not a mainland mobile number."""
    text = unicodedata.normalize("NFKC", str(value or "")).translate(_PHONE_SEPARATORS)
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix) :]
            break
    return text if MAINLAND_MOBILE.fullmatch(text) else None
