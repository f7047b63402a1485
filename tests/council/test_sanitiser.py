"""User text goes in as Markdown and comes out as HTML that cannot run anything."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from council.sanitiser import render_markdown, render_plain


def test_markdown_becomes_html():
    html = render_markdown("**更换**路灯\n\n- 一号楼\n- 二号楼")
    assert "<strong>更换</strong>" in html
    assert "<li>一号楼</li>" in html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<p style="position:fixed">x</p>',
        "<svg onload=alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_nothing_executable_survives(attack):
    html = render_markdown(attack).lower()
    for bad in ("<script", "onerror", "javascript:", "<iframe", "style=", "onload", "data:"):
        assert bad not in html


def test_links_are_kept_with_nofollow():
    html = render_markdown("见 [方案](https://example.org/plan) 和 https://example.org/b")
    assert html.count('rel="nofollow noopener noreferrer"') == 2
    assert 'href="https://example.org/plan"' in html


def test_user_headings_never_outrank_the_page():
    html = render_markdown("# 标题\n\n## 小标题")
    assert "<h1>" not in html and "<h2>" not in html
    assert "<h3>标题</h3>" in html and "<h4>小标题</h4>" in html


def test_plain_text_keeps_line_breaks_and_escapes_markup():
    html = render_plain("第一行\n<b>第二行</b>")
    assert html == "第一行<br>&lt;b&gt;第二行&lt;/b&gt;"


def test_overlong_text_is_refused():
    with pytest.raises(ValueError):
        render_markdown("长" * 20_001)


@given(st.text(max_size=300))
def test_any_text_renders_without_a_script_tag_or_event_handler(text):
    html = render_markdown(text).lower()
    assert "<script" not in html
    assert " onerror=" not in html and " onload=" not in html


def test_stored_html_read_back_is_unchanged_when_clean_and_cleaned_when_tampered():
    from council.sanitiser import sanitised_again

    clean = render_markdown("见 [方案](https://example.org) **加粗**")
    assert sanitised_again(str(clean)) == clean
    assert "<script" not in sanitised_again("<p>x</p><script>alert(1)</script>")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("### 背景\n\n#### 细节", ["h3", "h4"]),
        ("#### 只有四级", ["h3"]),
        ("# 一\n\n### 三", ["h3", "h5"]),
    ],
)
def test_the_texts_top_heading_becomes_an_h3_and_the_rest_follow_it(source, expected):
    html = render_markdown(source)
    assert re.findall(r"<(h[1-6])>", html) == expected
