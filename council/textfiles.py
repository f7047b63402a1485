"""Text files that people upload or hand to a command (CSV imports, Pabulib files): read as
UTF-8, with or without a byte-order mark, or refused with a message that says what the file is
instead and how to save it as UTF-8.

The usual mistake here is a spreadsheet saved as plain "CSV" by Excel or WPS on a Chinese
system: that file is GBK (GB18030), not UTF-8. It is recognised and named, so that the message
can say which "Save as" choice fixes it; so are UTF-16 ("Unicode text"), workbooks (.xlsx,
.xls, .et) sent instead of a CSV, and binary files. Nothing is guessed beyond that: any other
encoding is reported as not UTF-8, with the line where reading stopped.
"""

from __future__ import annotations

import codecs

from django.utils.translation import gettext as _

# Magic numbers of the files people most often send instead of a CSV.
_ZIP = b"PK\x03\x04"  # .xlsx (and .docx, .zip…)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et (and .doc)
# UTF-32 first: its little-endian mark begins with UTF-16's.
_WIDE_BOMS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)
# C0 control characters never found in a text file (tab, line feed, form feed and carriage
# return are; so is the rare vertical tab).
_BINARY_BYTES = bytes([*range(0, 9), *range(14, 32)])


class NotUtf8Text(ValueError):
    """The file is not UTF-8 text; the message says what it is and how to save it right."""


def _save_as() -> str:
    return _(
        "In Excel or WPS, open it and choose Save As, file type “CSV UTF-8 (comma delimited)”; "
        "in Notepad, choose the encoding UTF-8."
    )


def decode_utf8(data: bytes) -> str:
    """The text of ``data``, read as UTF-8 (a leading byte-order mark is dropped).

    Raises ``NotUtf8Text`` when it is not UTF-8 text, with a message that names what it is:
    a spreadsheet workbook, a binary file, UTF-16 text, GBK/GB18030 text (what Excel and WPS
    write for plain "CSV" on a Chinese system), or text in some other encoding (naming the line
    where reading stopped); each with how to save the file as UTF-8.
    """
    if data.startswith((_ZIP, _OLE)):
        raise NotUtf8Text(
            _("This is a spreadsheet workbook (Excel or WPS), not a text file. %(how)s")
            % {"how": _save_as()}
        )
    if data.startswith(_WIDE_BOMS):
        raise NotUtf8Text(
            _("The file is saved as UTF-16 (“Unicode text”), not UTF-8. %(how)s")
            % {"how": _save_as()}
        )
    if b"\x00" in data:
        raise NotUtf8Text(
            _("This is not a text file: it holds binary data (a picture, a PDF or a compressed "
              "file, for instance). Choose the text file, saved as UTF-8.")
        )  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        stopped_at = data[: error.start].count(b"\n") + 1
        failure = error
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        raise NotUtf8Text(
            _("The file is saved in GBK/GB18030, the Chinese encoding Excel and WPS use for plain "
              "“CSV”, not in UTF-8. %(how)s")
            % {"how": _save_as()}
        ) from failure  # fmt: skip
    if any(byte in _BINARY_BYTES for byte in data[:4096]):
        raise NotUtf8Text(
            _("This is not a text file: it holds binary data (a picture, a PDF or a compressed "
              "file, for instance). Choose the text file, saved as UTF-8.")
        ) from failure  # fmt: skip
    raise NotUtf8Text(
        _("The file is not UTF-8 text (line %(line)d cannot be read as UTF-8). %(how)s")
        % {"line": stopped_at, "how": _save_as()}
    ) from failure
