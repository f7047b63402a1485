"""Every error page — 400, 403, 404, 413, 429, 500, 503 — answers in the reader's language on
the site's layout, without a trace of what went wrong inside; the 500 and 503 pages even while
the database refuses every query."""

import re

import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client
from psycopg_pool import PoolTimeout

from tests.disclosure.test_language import _english_runs

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.error_urls")]

LANGUAGES = {"zh-hans": {}, "en": {"HTTP_ACCEPT_LANGUAGE": "en"}}
# What an error must not show a reader: its trace, its class, the library it came from.
INTERNALS = re.compile(r"Traceback|File \"|Error|Exception|Timeout|psycopg|django|sqlite|relation")


def visitor(**kwargs) -> Client:
    return Client(raise_request_exception=False, **kwargs)


def check_page(response, status: int, language: str, heading: str) -> str:
    assert response.status_code == status
    page = response.content.decode()
    # The site's layout, in the reader's language.
    assert 'class="site-header"' in page and 'class="site-footer"' in page
    assert f'<html lang="{"zh-CN" if language == "zh-hans" else "en"}">' in page
    assert heading in page
    text = re.sub(r"<[^>]*>", " ", page)
    assert not INTERNALS.search(text), INTERNALS.search(text)
    if language == "zh-hans":
        assert not _english_runs(page), _english_runs(page)
    return page


HEADINGS = {
    400: {"zh-hans": "无法识别您发送的内容", "en": "Request not understood"},
    403: {"zh-hans": "无权操作", "en": "Not allowed"},
    404: {"zh-hans": "页面不存在", "en": "Not found"},
    413: {"zh-hans": "提交的内容过多", "en": "Too much sent at once"},
    429: {"zh-hans": "操作过于频繁", "en": "Too many requests"},
    500: {"zh-hans": "出错了", "en": "Something went wrong"},
    503: {"zh-hans": "网站繁忙", "en": "Busy right now"},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bad_host_gets_the_400_page(language):
    response = visitor().get("/", HTTP_HOST="evil.example", **LANGUAGES[language])
    check_page(response, 400, language, HEADINGS[400][language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refusal_gets_the_403_page(language):
    response = visitor().get("/test-forbidden/", **LANGUAGES[language])
    check_page(response, 403, language, HEADINGS[403][language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_from_a_stale_page_gets_the_403_page_saying_so(world, language):
    response = visitor(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "a_resident", "password": "x"}, **LANGUAGES[language]
    )
    expired = {"zh-hans": "表单已过期", "en": "This form has expired"}[language]
    check_page(response, 403, language, expired)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_missing_page_gets_the_404_page(world, language):
    response = visitor().get("/no-such-page/", **LANGUAGES[language])
    check_page(response, 404, language, HEADINGS[404][language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_body_over_the_limit_gets_the_413_page(world, language, settings):
    body = "字" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 10)
    response = visitor().post(
        "/accounts/login/", {"username": "a_resident", "password": body}, **LANGUAGES[language]
    )
    page = check_page(response, 413, language, HEADINGS[413][language])
    assert "2.5" in page  # the limit, in megabytes


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", ["/test-throttled/", "/test-rate-limited/"])
def test_too_many_requests_get_the_429_page(language, path):
    response = visitor().get(path, **LANGUAGES[language])
    check_page(response, 429, language, HEADINGS[429][language])


def refusing(error: Exception):
    """Every query fails with ``error``, as it would with the database gone."""

    def execute(execute, sql, params, many, context):
        raise error

    return connection.execute_wrapper(execute)


def pool_timeout() -> OperationalError:
    """What Django raises when its pool lends no connection in time."""
    try:
        raise PoolTimeout("couldn't get a connection after 5.00 sec")
    except PoolTimeout as cause:
        try:
            raise OperationalError(str(cause)) from cause
        except OperationalError as error:
            return error


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_page_whose_database_is_out_of_reach_gets_the_503_page(world, language):
    with refusing(pool_timeout()):
        response = visitor().get("/", **LANGUAGES[language])
    page = check_page(response, 503, language, HEADINGS[503][language])
    assert response["Retry-After"] == "10"
    assert "10" in page


def test_the_busy_page_keeps_large_text_for_a_browser_that_chose_it(world):
    client = visitor()
    client.cookies["weishi_large_text"] = "1"
    with refusing(pool_timeout()):
        page = client.get("/").content.decode()
    assert '<html lang="zh-CN" class="large-text">' in page and HEADINGS[503]["zh-hans"] in page
    assert 'aria-pressed="true"' in page  # the switch shows it is on, to turn it off


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_failure_inside_gets_the_500_page_even_with_the_database_failing(world, language):
    with refusing(ProgrammingError('relation "council_community" does not exist')):
        response = visitor().get("/", **LANGUAGES[language])
    page = check_page(response, 500, language, HEADINGS[500][language])
    assert "council_community" not in page


def test_a_signed_in_reader_keeps_the_whole_layout_on_a_404(world):
    client = visitor()
    client.force_login(world.a_resident.user)
    page = client.get("/no-such-page/").content.decode()
    assert world.a_resident.user.public_name in page  # "signed in as …"
    assert "东湖社区" in page  # the communities menu


def test_a_404_falls_back_to_the_plain_layout_when_the_database_fails(world):
    client = visitor()
    client.force_login(world.a_resident.user)
    with refusing(pool_timeout()):
        # The URL resolves to nothing before any query; the layout's queries then fail.
        response = client.get("/no-such-page/")
    check_page(response, 404, "zh-hans", HEADINGS[404]["zh-hans"])
