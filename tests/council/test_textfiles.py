"""Text files people hand in are read as UTF-8, or refused naming what they are instead."""

import codecs

import pytest

from council.textfiles import NotUtf8Text, decode_utf8

TEXT = "proposal_id,text\n1,东湖社区路灯\n"


@pytest.mark.parametrize(
    "data", [TEXT.encode(), codecs.BOM_UTF8 + TEXT.encode()], ids=["utf-8", "utf-8 with BOM"]
)
def test_utf8_with_or_without_a_byte_order_mark_is_read(data):
    assert decode_utf8(data) == TEXT


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (TEXT.encode("gbk"), "GBK/GB18030"),
        (TEXT.encode("gb18030"), "GBK/GB18030"),
        (TEXT.encode("utf-16"), "UTF-16"),
        (TEXT.encode("utf-32"), "UTF-16"),  # a wide encoding all the same: save as UTF-8
        (b"PK\x03\x04" + bytes(64), "workbook"),  # .xlsx
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "workbook"),  # .xls, .et
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (bytes(range(1, 256)), "not a text file"),  # no NUL, but control bytes
        ("line one\ncafé au lait\n".encode("latin-1"), "line 2 cannot be read as UTF-8"),
    ],
    ids=["gbk", "gb18030", "utf-16", "utf-32", "xlsx", "xls", "png", "binary", "latin-1"],
)
def test_other_files_are_named_with_how_to_save_them(data, named):
    with pytest.raises(NotUtf8Text) as caught:
        decode_utf8(data)
    assert named in str(caught.value)
