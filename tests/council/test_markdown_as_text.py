"""``plain_text``: what a resident wrote in Markdown, as the words a reader sees, for wherever
it is shown as text (quotes, diffs, feeds, notifications, e-mails, excerpts)."""

from hypothesis import given
from hypothesis import strategies as st

from council.sanitiser import plain_text, render_markdown
from council.templatetags.weishi import markdown_text, stored_text

SYNTAX = ("**", "###", "- ")


def test_bold_headings_and_lists_lose_their_marks_and_keep_their_words():
    text = plain_text("**粗体** 和 *斜体*\n### 标题\n- 列表\n- 第二项\n\n1. 一\n2. 二")
    assert text == "粗体 和 斜体\n\n标题\n\n· 列表\n· 第二项\n\n1. 一\n2. 二"


def test_paragraphs_stay_apart_and_line_breaks_stay():
    assert plain_text("第一段\n第二行\n\n\n\n第二段") == "第一段\n第二行\n\n第二段"


def test_a_nested_list_is_indented_under_its_item():
    assert plain_text("- 路灯\n    - 北段\n- 楼道") == "· 路灯\n\u3000· 北段\n· 楼道"


def test_links_keep_their_words_and_characters_read_as_typed():
    assert plain_text("见[通知](https://example.org) AT&T <b>5</b> > 3") == "见通知 AT&T 5 > 3"


def test_code_keeps_its_lines_and_tables_their_cells():
    assert plain_text("```\na = 1\nb = 2\n```") == "a = 1\nb = 2"
    assert plain_text("| 项目 | 费用 |\n|---|---|\n| 灯具 | 300 |") == "项目\t费用\n灯具\t300"


def test_the_template_filters_give_the_same_text_and_empty_is_empty():
    source = "**粗体**\n### 标题\n- 列表"
    assert markdown_text(source) == stored_text(render_markdown(source)) == plain_text(source)
    assert markdown_text(None) == "" == stored_text(None) and plain_text("") == ""


@given(
    st.lists(st.sampled_from(["**粗体**", "### 标题", "- 列表", "1. 一", "文字", ""]), max_size=8)
)
def test_no_bold_heading_or_list_mark_survives_any_mix_of_them(lines):
    text = plain_text("\n".join(lines))
    assert not any(mark in text for mark in SYNTAX), text
