"""User text reads the same however many people load pages at once: the sanitiser shares no
bleach state between threads."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from council.sanitiser import render_markdown, render_plain, sanitised_again
from council.threads import message_post
from proposals.models import Stage
from tests.proposals.conftest import ProposalMaker

THREADS = 32


def _texts() -> list[str]:
    """Texts that exercise every part of the cleaner: headings, lists, tables, links typed as
    Markdown and bare addresses the linkifier turns into links, and markup to escape."""
    texts = []
    for i in range(8):
        items = "\n".join(f"- 第 {j} 项 **要点** https://a{j}.example.org/{i}" for j in range(12))
        rows = "\n".join(f"| {j} | 路灯 {i} | https://t{j}.example.org |" for j in range(10))
        texts.append(
            f"# 方案 {i}\n\n## 背景\n\n见 [方案](https://example.org/p{i}) 和 "
            f"https://example.org/{i} 以及 <b>AT&T</b>。\n\n{items}\n\n"
            f"1. 第一步\n2. 第二步\n\n| 号 | 名 | 链接 |\n|---|---|---|\n{rows}\n"
        )
    return texts


def _render_all(texts: list[str]) -> list[str]:
    outputs = []
    for text in texts:
        html = str(render_markdown(text))
        outputs += [html, str(sanitised_again(html)), str(render_plain(text))]
    return outputs


def test_every_thread_renders_exactly_what_one_thread_renders():
    texts = _texts()
    expected = _render_all(texts)
    start = threading.Barrier(THREADS)

    def one_reader(_):
        start.wait()  # all at once, so the threads really interleave
        try:
            return _render_all(texts) + _render_all(texts)
        except Exception as error:  # a crash is a wrong answer too: count it, don't hang
            return [repr(error)]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one_reader, range(THREADS)))

    wrong = sum(
        1
        for outputs in results
        for got, want in zip(outputs, expected + expected, strict=False)
        if got != want
    ) + sum(abs(len(outputs) - 2 * len(expected)) for outputs in results)
    calls = THREADS * 2 * len(expected)
    assert wrong == 0, f"{wrong} of {calls} renderings differ from the single-threaded ones"


PAGE_READERS, PAGE_READS = 30, 4
# What legitimately differs between two loads of one page: per-request tokens and nonces.
_PER_REQUEST = re.compile(r'(csrfmiddlewaretoken" value="|nonce="|"X-CSRFToken": ")[^"]*')


def _body(client: Client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    return f"{response.status_code} " + _PER_REQUEST.sub(r"\1…", response.content.decode())


@pytest.fixture
def pool_waits_long():
    """On PostgreSQL each process lends at most DATABASE_POOL_MAX connections and a request
    that waits DATABASE_POOL_TIMEOUT (5 s) for one gets the "busy" page: 30 readers in one
    process on two loaded cores can queue longer than that. This test is about what the pages
    say, not about the pool (``tests/load/test_limits.py`` is): let them wait."""
    options = connection.settings_dict.get("OPTIONS", {})
    pool = options.get("pool")
    if not pool:
        yield
        return
    connection.close_pool()
    options["pool"] = {**pool, "timeout": 300}
    try:
        yield
    finally:
        connection.close_pool()
        options["pool"] = pool


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pool_waits_long")
def test_pages_with_stored_user_text_read_the_same_for_30_readers_at_once(world):
    texts = _texts()
    proposal = ProposalMaker(world).make(Stage.CONSULTATION, body=texts[0])
    for i, text in enumerate(texts[1:6]):
        author = world.a_staff if i % 2 else world.a_resident.user
        message_post(actor=author, thread=proposal.thread, body=text)
    url = reverse("proposal", args=[world.a.slug, proposal.pk])
    expected = _body(Client(), url)
    assert expected.startswith("200 ") and "AT&amp;T" in expected
    start = threading.Barrier(PAGE_READERS)

    def one_reader(_):
        client = Client(raise_request_exception=False)  # a 500 is a differing page too
        start.wait()
        try:
            return [_body(client, url) for _ in range(PAGE_READS)]
        finally:
            connection.close()

    with ThreadPoolExecutor(PAGE_READERS) as pool:
        bodies = [body for reads in pool.map(one_reader, range(PAGE_READERS)) for body in reads]

    wrong = [body for body in bodies if body != expected]
    assert not wrong, f"{len(wrong)} of {len(bodies)} pages differ from the page read alone"
