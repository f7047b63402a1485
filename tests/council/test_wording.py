"""Lists, labels, asides and money differences are punctuated the reader's way."""

from decimal import Decimal
from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import translation

from council.money import format_yuan
from council.wording import bracketed, label_colon, listing, money_difference


def _presence(language: str) -> str:
    people = [SimpleNamespace(public_name="赵洋"), SimpleNamespace(public_name="马文华")]
    with translation.override(language):
        return render_to_string(
            "council/thread.html#presence",
            {"thread": SimpleNamespace(pk=1), "presence": {"users": people, "anonymous": 0}},
        )


def test_the_people_viewing_a_thread_are_listed_with_a_chinese_list_comma():
    html = _presence("zh-hans")
    assert "正在浏览：</span><span" in html
    assert '赵洋</span>、<span class="viewer">马文华' in html


def test_the_people_viewing_a_thread_are_listed_with_commas_in_english():
    assert '赵洋</span>, <span class="viewer">马文华' in _presence("en")


def test_lists_labels_and_asides_follow_the_language():
    with translation.override("zh-hans"):
        assert listing(["赵洋", "马文华", "李娜"]) == "赵洋、马文华、李娜"
        assert label_colon() == "："
        assert bracketed("proposals") == "（proposals）"
    with translation.override("en"):
        assert listing(["a", "b"]) == "a, b"
        assert label_colon() == ": "
        assert bracketed("proposals") == " (proposals)"


def test_an_aside_is_escaped():
    assert "&lt;b&gt;" in bracketed("<b>")


def test_a_negative_amount_has_its_minus_sign_before_the_yuan_sign():
    assert format_yuan(Decimal("-660")) == "-¥660.00"
    assert format_yuan(Decimal("1200.5")) == "¥1,200.50"


def test_a_difference_of_money_shows_its_sign_and_percentage_in_full_width_brackets():
    with translation.override("zh-hans"):
        assert money_difference(Decimal("-660.00"), "-3.0") == "-¥660.00（-3.0%）"
        assert money_difference("800.00", "6.8") == "+¥800.00（+6.8%）"
        assert money_difference("800.00", "+6.8") == "+¥800.00（+6.8%）"
        assert money_difference("0.00", "0.0") == "¥0.00（0.0%）"
        assert money_difference("-5.00") == "-¥5.00"
    with translation.override("en"):
        assert money_difference("-660.00", "-3.0") == "-¥660.00 (-3.0%)"
