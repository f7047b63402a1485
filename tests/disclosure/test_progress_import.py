"""Progress CSV imports are all or nothing: the whole file is checked before anything is
published; every problem is named by line and column; limits are stated; no file, however
odd, gets a server error."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from council import clock
from council.errors import InvalidMove
from council.models import EvidenceEvent
from disclosure import services
from disclosure.models import Disclosure, Kind, ProgressUpdate, Provider
from disclosure.services.implementation import (
    CSV_MAX_BYTES,
    CSV_MAX_CELL,
    CSV_MAX_ROWS,
    ERRORS_SHOWN,
)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HEADER = "proposal_id,date,percent,spent,provider,text\n"


def rows(proposal, provider, count, text="进场施工", spent="2000.00"):
    today = clock.today().isoformat()
    return "".join(
        f"{proposal.pk},{today},20,{spent},{provider.name},{text}\n" for _ in range(count)
    )


def post_file(client, world, data: bytes, name="progress.csv"):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse("progress_import", args=[world.a.slug]), {"file": upload}, **EN)


def test_a_100000_row_file_imports_nothing_and_names_the_row_limit(projects, world):
    proposal = projects.in_progress()
    short = Provider.objects.create(
        district=world.district, name="甲", kind="contractor", registered_on=clock.today()
    )
    data = (HEADER + rows(proposal, short, 100_000, text="施工", spent="1")).encode()
    assert len(data) < CSV_MAX_BYTES  # the row limit is what refuses it
    with pytest.raises(InvalidMove) as caught:
        services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    message = str(caught.value)
    assert "100,000 rows" in message and "at most 1,000" in message
    assert "line 1,002" in message and "Nothing was imported" in message
    assert not ProgressUpdate.objects.exists()


def test_one_row_over_the_limit_imports_nothing(projects, world):
    proposal = projects.in_progress()
    data = (HEADER + rows(proposal, projects.provider, CSV_MAX_ROWS + 1)).encode()
    with pytest.raises(InvalidMove, match="1,001 rows"):
        services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    assert not ProgressUpdate.objects.exists()


def test_a_file_at_the_row_cell_and_number_limits_is_imported_whole(projects, world):
    proposal = projects.in_progress()
    provider = projects.provider
    today = clock.today().isoformat()
    longest = "工" * CSV_MAX_CELL  # the longest text a cell may hold (12,000 bytes in UTF-8)
    body = f'{proposal.pk},{today},0,0.00,{provider.name},"{longest}"\n'
    body += "".join(
        f"{proposal.pk},{today},{n * 100 // CSV_MAX_ROWS},{n}.00,{provider.name},第{n}次更新\n"
        for n in range(1, CSV_MAX_ROWS - 1)
    )
    body += f"{proposal.pk},{today},100,9999999999.99,{provider.name},完工\n"
    report = services.progress_import_csv(
        actor=world.a_staff, community=world.a, data=(HEADER + body).encode()
    )
    assert report.errors == [] and report.imported == CSV_MAX_ROWS
    updates = list(proposal.progress_updates.order_by("pk"))
    assert len(updates) == CSV_MAX_ROWS
    assert updates[0].text == longest and str(updates[-1].spent) == "9999999999.99"
    posted = EvidenceEvent.objects.filter(action="progress.posted").order_by("seq", "id")
    assert [e.object_id for e in posted] == [str(u.pk) for u in updates]  # one each, in order
    assert Disclosure.objects.filter(proposal=proposal, kind=Kind.IMPLEMENTATION).count() == 1


def test_a_file_at_the_size_limit_is_read(projects, world):
    proposal = projects.in_progress()
    row = rows(proposal, projects.provider, 1)
    padding = CSV_MAX_BYTES - len((HEADER + row).encode())
    blank = b" " * 1023 + b"\n"  # lines of blanks are skipped
    data = (HEADER + row).encode() + blank * (padding // 1024) + b"\n" * (padding % 1024)
    assert len(data) == CSV_MAX_BYTES
    report = services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    assert report.imported == 1
    with pytest.raises(InvalidMove, match="5 MB"):
        services.progress_import_csv(actor=world.a_staff, community=world.a, data=data + b"\n")


def test_any_bad_row_imports_nothing_and_every_problem_is_listed(projects, world):
    proposal = projects.in_progress()
    other = projects.council.maker.make("consultation")
    name = projects.provider.name
    today = clock.today().isoformat()
    data = (
        HEADER + f"{proposal.pk},{today},20,2000.00,{name},进场施工\n"
        f"{proposal.pk},2026-13-40,abc,3000.00,不存在的公司,日期错误\n"
        f"{other.pk},{today},10,100.00,{name},未在实施中\n"
        f"999999,{today},10,100.00,{name},没有这个项目\n"
        f"{proposal.pk},{today},10,1000.00,{name},比上一行少\n"
        f"{proposal.pk},{today},50,5000.00,{name},完成一半\n"
        f"{proposal.pk},{today},50,5000.00,{name}\n"
    ).encode()
    report = services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    assert report.imported == 0
    # In file order, whichever check found them.
    assert [(line, column) for line, column, _ in report.errors] == [
        (3, "date"),
        (3, "percent"),
        (3, "provider"),
        (4, "proposal_id"),  # not in progress
        (5, "proposal_id"),  # no such project
        (6, "percent"),  # less than line 2 said
        (8, ""),  # a cell short
    ]
    assert not ProgressUpdate.objects.exists()
    assert not EvidenceEvent.objects.filter(action="progress.posted").exists()


def test_the_list_of_problems_is_capped_with_a_count_of_the_rest(projects, world):
    proposal = projects.in_progress()
    data = (HEADER + rows(proposal, projects.provider, 300, spent="lots")).encode()
    report = services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    assert len(report.errors) == ERRORS_SHOWN and report.more_errors == 300 - ERRORS_SHOWN
    assert report.errors[0][:2] == (2, "spent")


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"spent": "9" * 3999}, "spent", "9,999,999,999.99"),
        ({"spent": "99999999999.00"}, "spent", "9,999,999,999.99"),
        ({"percent": "9" * 3999}, "percent", "0 to 100"),
        ({"percent": "1_0"}, "percent", "0 to 100"),
        ({"proposal_id": "9" * 30}, "proposal_id", "no project"),
        ({"proposal_id": "9" * 3999}, "proposal_id", "no project"),
        ({"text": "长" * (CSV_MAX_CELL + 1)}, "text", "4,000 characters"),
    ],
)
def test_numbers_and_cells_too_large_for_their_column_are_named(
    projects, world, cells, column, message
):
    proposal = projects.in_progress()
    row = {
        "proposal_id": str(proposal.pk),
        "date": clock.today().isoformat(),
        "percent": "20",
        "spent": "100",
        "provider": projects.provider.name,
        "text": "进场",
    } | cells
    data = (HEADER + ",".join(row.values()) + "\n").encode()
    report = services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    assert [(line, col) for line, col, _ in report.errors] == [(2, column)]
    assert message in report.errors[0][2].lower()
    assert not ProgressUpdate.objects.exists()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ((HEADER + "1,2026-03-01,20,100,阳光社工服务中心,进场\n").encode("gbk"), "GBK"),
        ((HEADER + "1,2026-03-01,20,100,阳光社工服务中心,进场\n").encode("utf-16"), "UTF-16"),
        (_png(), "not a text file"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "workbook"),
    ],
    ids=["gbk", "utf-16", "binary", "xlsx"],
)
def test_a_file_not_in_utf8_is_named_for_what_it_is(projects, world, data, named):
    with pytest.raises(InvalidMove) as caught:
        services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    assert named in str(caught.value)
    assert "UTF-8" in str(caught.value)


def test_utf8_with_or_without_a_byte_order_mark_is_read(projects, world):
    proposal = projects.in_progress()
    text = HEADER + rows(proposal, projects.provider, 1)
    for data in (text.encode(), text.encode("utf-8-sig")):
        report = services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
        assert report.imported == 1
    assert proposal.progress_updates.count() == 2


# --- The page ---------------------------------------------------------------------------------


def test_a_one_megabyte_cell_is_an_error_on_the_page_not_a_server_error(client, projects, world):
    proposal = projects.in_progress()
    client.force_login(world.a_staff)
    data = (HEADER + rows(proposal, projects.provider, 1, text="x" * 1_000_000)).encode()
    response = post_file(client, world, data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported" in page and "4,000 characters" in page
    assert "<td>2</td>" in page
    assert not ProgressUpdate.objects.exists()


def test_a_gbk_file_on_the_page_says_how_to_save_it(client, projects, world):
    client.force_login(world.a_staff)
    response = post_file(client, world, (HEADER + "1,2026-03-01,20,100,公司,进场\n").encode("gbk"))
    page = response.content.decode()
    assert response.status_code == 400 and "GBK" in page and "CSV UTF-8" in page


def test_a_file_over_the_size_limit_is_refused_by_the_form(client, projects, world):
    client.force_login(world.a_staff)
    response = post_file(client, world, HEADER.encode() + b"\n" * CSV_MAX_BYTES)
    assert response.status_code == 400 and "5 MB" in response.content.decode()


def test_the_form_states_the_limits(client, projects, world):
    client.force_login(world.a_staff)
    page = client.get(reverse("progress_import", args=[world.a.slug]), **EN).content.decode()
    assert "1,000 rows" in page and "5 MB" in page and "4,000 characters" in page
