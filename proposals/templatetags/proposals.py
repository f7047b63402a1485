"""Template helpers of the proposals app: revision diffs."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from django import template
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


# Latin words and numbers stay whole; every other character (each Chinese character, each
# punctuation mark, each space or line break) is a token of its own.
_TOKEN = re.compile(r"[A-Za-z0-9_]+|.", re.S)
_SIMILAR = 0.4  # below this, a changed block reads better as "all removed, all added"


def _marked(tag: str, text: str) -> SafeString:
    return format_html("<{}>{}</{}>", tag, text, tag) if text else SafeString("")


def _inline(old: str, new: str) -> list[SafeString]:
    """Two versions of one changed block, as escaped text with <del> and <ins> marks."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < _SIMILAR:
        return [_marked("del", old), _marked("ins", new)]
    parts = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
        else:
            parts.append(_marked("del", "".join(a[i1:i2])))
            parts.append(_marked("ins", "".join(b[j1:j2])))
    return parts


@register.simple_tag
def text_diff(old: str, new: str) -> SafeString:
    """What changed from ``old`` to ``new``, line by line, then word by word (character by
    character in Chinese) inside changed lines: deletions in <del>, insertions in <ins>.

    Every piece of text is escaped before it is marked; the result is built with
    ``format_html`` only. Line breaks are kept, for a ``<pre>`` or ``pre-wrap`` container.
    """
    old_lines, new_lines = (old or "").splitlines(), (new or "").splitlines()
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    parts: list[SafeString] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        before, after = "\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2])
        if op == "equal":
            parts.append(escape(before))
        elif op == "delete":
            parts.append(_marked("del", before))
        elif op == "insert":
            parts.append(_marked("ins", after))
        else:
            parts.extend(_inline(before, after))
        parts.append(SafeString("\n"))
    return format_html_join("", "{}", ((part,) for part in parts[:-1]))
