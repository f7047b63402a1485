"""The Simplified Chinese catalogue reads as a community office writes to residents.

Each test reads ``locale/zh_Hans/LC_MESSAGES/django.po`` and fails on one kind of slip:
half-width punctuation in Chinese text, a term the glossary (``docs/glossary.md``) forbids,
你 instead of 您, or quotation marks other than 「」 around Chinese text. The glossary's last
column is the list of forbidden variants, so that the glossary stays the one source.
"""

import re
from pathlib import Path

import django
import polib
import pytest
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
GLOSSARY = ROOT / "docs" / "glossary.md"

# Chinese characters and the full-width / CJK punctuation that belongs to Chinese text.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef「」『』…—]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# What may hold half-width punctuation inside Chinese text: placeholders, URLs, HTML tags.
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]|%[-#0 +]*\d*[dsf%]")
BRACES = re.compile(r"\{[A-Za-z0-9_.]*\}")
URL = re.compile(r"https?://\S+")
TAG = re.compile(r"<[^<>]*>")
HALF_WIDTH = ",:;?!()"


def _translations() -> list[tuple[str, str]]:
    """(msgid, msgstr) for every translated string, each plural form on its own."""
    pairs = []
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete:
            continue
        texts = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        pairs.extend((entry.msgid, text) for text in texts if text)
    return pairs


TRANSLATIONS = _translations()


def _neutral(text: str) -> str:
    """The text with placeholders, URLs and HTML tags replaced by a neutral ASCII word, so
    that what they hold is not taken for Chinese text and what is next to them still is."""
    for pattern in (TAG, URL, PLACEHOLDER, BRACES):
        text = pattern.sub("x", text)
    return text


def _neighbours(text: str, i: int) -> tuple[str, str]:
    """The nearest characters to the left and right of ``text[i]``, skipping spaces."""
    left = text[:i].rstrip(" ")
    right = text[i + 1 :].lstrip(" ")
    return (left[-1] if left else ""), (right[0] if right else "")


def half_width_slips(text: str) -> list[str]:
    """Half-width , : ; ? ! ( ) whose nearest neighbour is Chinese, each with its context."""
    plain = _neutral(text)
    slips = []
    for i, char in enumerate(plain):
        if char in HALF_WIDTH and any(CJK.match(c) for c in _neighbours(plain, i) if c):
            slips.append(plain[max(0, i - 8) : i + 9])
    return slips


def quote_slips(text: str) -> list[str]:
    """Straight or curly double quotes next to Chinese text (Chinese quotes with 「」)."""
    plain = _neutral(text)
    slips = []
    for i, char in enumerate(plain):
        if char in '"“”' and any(CJK.match(c) for c in _neighbours(plain, i) if c):
            slips.append(plain[max(0, i - 8) : i + 9])
    return slips


def forbidden_variants() -> dict[str, str]:
    """Each forbidden variant in the glossary's tables, mapped to the term to use instead."""
    variants = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 4 or cells[0] in ("中文术语", "---"):
            continue
        for variant in re.findall(r"`([^`]+)`", cells[3]):
            variants[variant] = cells[0]
    return variants


def test_the_glossary_lists_forbidden_variants_for_the_terms_people_confuse():
    variants = forbidden_variants()
    assert variants["服务供应商"] == "实施单位"
    assert variants["不受理"] == "不予受理"
    assert len(variants) > 50


def test_chinese_text_uses_full_width_punctuation():
    # ":?.!" lists the characters after which Django adds no label suffix: not text.
    slips = {
        msgid: found
        for msgid, text in TRANSLATIONS
        if msgid != ":?.!" and (found := half_width_slips(text))
    }
    assert not slips, "half-width punctuation in Chinese text (use ，：；？！（））: " + repr(slips)


def test_no_translation_uses_a_term_the_glossary_forbids():
    variants = forbidden_variants()
    slips = [
        f"{msgid!r}: {variant} → {variants[variant]}"
        for msgid, text in TRANSLATIONS
        for variant in variants
        if variant in text
    ]
    assert not slips, "terms the glossary forbids:\n" + "\n".join(slips)


def test_residents_are_addressed_as_nin_never_ni():
    slips = [msgid for msgid, text in TRANSLATIONS if "你" in text]
    assert not slips, "你 instead of 您 in: " + repr(slips)


def test_chinese_is_quoted_with_corner_brackets():
    slips = {msgid: found for msgid, text in TRANSLATIONS if (found := quote_slips(text))}
    assert not slips, "quote Chinese text with 「」: " + repr(slips)


@pytest.mark.parametrize(
    ("text", "slips"),
    [
        ("正在浏览: 赵洋", 1),
        ("实施效果如何?", 1),
        ("费用(元)", 2),
        ("第 %(n)s 号表决: %(title)s", 1),
        ("请按 YYYY-MM-DD 格式填写，例如 2026-03-01。", 0),
        ("表头必须为 key;value", 0),
        ('更正<a href="%(url)s" rel="prev">第 %(v)s 版</a>。', 0),
        ("weishi:vote:v1；ballot:<ballot_id>；", 0),
        ("%(turnout)s（其中 %(abstained)s）", 0),
    ],
)
def test_the_punctuation_check_tells_chinese_text_from_codes(text, slips):
    assert len(half_width_slips(text)) == slips


@pytest.mark.parametrize(
    ("text", "slips"),
    [
        ('提议当前为"征集附议中"', 2),
        ("提议当前为“征集附议中”", 2),
        ("提议当前为「征集附议中」", 0),
        ('<a href="%(url)s">第 %(v)s 版</a>', 0),
        ('JSON 文件的结构为 {"dataset": name}', 0),
    ],
)
def test_the_quote_check_tells_chinese_text_from_html_and_code(text, slips):
    assert len(quote_slips(text)) == slips


# Django's own messages a resident meets, in our words (council/django_overrides.py).


def test_a_required_field_says_please_fill_it_in():
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as caught:
            forms.CharField().clean("")
        assert caught.value.messages == ["请填写此项。"]


def test_password_rules_address_the_resident_as_nin():
    with translation.override("zh-hans"):
        rules = " ".join(password_validation.password_validators_help_texts())
        with pytest.raises(ValidationError) as caught:
            password_validation.validate_password("12345678")
        said = rules + " ".join(caught.value.messages)
    assert "你" not in said
    assert "您的密码" in said


def test_a_label_ending_in_a_question_mark_gets_no_colon():
    class Form(forms.Form):
        how = forms.CharField(label="实施效果如何？")

    with translation.override("zh-hans"):
        label = Form()["how"].label_tag()
    assert "如何？</label>" in label


def test_every_django_message_we_override_is_still_one_django_says():
    """An override whose msgid Django changed would match nothing, and Django's own words (你,
    half-width punctuation) would come back unnoticed."""
    django_root = Path(django.__file__).parent
    said = {
        (entry.msgctxt, entry.msgid)
        for po in django_root.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")
        for entry in polib.pofile(str(po))
    }
    ours = [
        (entry.msgctxt, entry.msgid)
        for entry in polib.pofile(str(CATALOGUE))
        if any(path == "council/django_overrides.py" for path, _ in entry.occurrences)
    ]
    assert len(ours) > 40
    assert [key for key in ours if key not in said] == []
