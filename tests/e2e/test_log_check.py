"""「验证」 on a published disclosure's page, in Chromium at 390 px: the browser checks the
log's signature and a witness's cosignature on the checkpoint, the disclosure's entry and its
inclusion proof from the hash tiles (static/js/log-check.js), and says what held, or what did
not when the server's stored entry or cosignature was rewritten.

The server is one of this module's own (a copy of the demo), with one witness configured whose
cosignature the test adds to the newest checkpoint, so that tampering with its database never
touches another module's server. The tile arithmetic on trees the demo does not reach (partial
tiles of levels 1 and 2) is checked against logs made here and served through the browser's
routing (``check`` is the same function the button calls).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from council.tlog.merkle import leaf_hash, tree_root
from council.tlog.note import (
    CosignatureSigner,
    Signer,
    checkpoint_text,
    generate_key,
    generate_witness_key,
    sign_note,
)
from council.tlog.tiles import (
    HASH_SIZE,
    TileReader,
    bundle_encode,
    parse_tile_path,
    tiles_append,
)
from tests.load.servers import manage

from .axe import run_axe
from .conftest import _demo_server, _open_page

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
WITNESS = "witness.example.org"

# Run in the server's own environment (manage.py shell): its database is its own file.
COSIGN = """
import time
from django.utils import timezone
from council.models import Checkpoint, Cosignature
from council.tlog.note import CosignatureSigner
signer = CosignatureSigner({skey!r})
checkpoint = Checkpoint.objects.order_by("-size").first()
text = checkpoint.note[: checkpoint.note.index("\\n\\n") + 1]
Cosignature.objects.create(
    checkpoint=checkpoint, witness=signer.name, line=signer.cosign(text, int(time.time())),
    received_at=timezone.now(),
)
"""

# A published disclosure whose entry is in the newest checkpoint: its pk and leaf index.
DISCLOSURE = """
from council.models import Checkpoint
from disclosure.models import Disclosure
size = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
d = (Disclosure.objects.filter(status="published", published_event__seq__lte=size)
     .order_by("-published_event__seq").first())
print(d.pk, d.published_event.seq - 1)
"""

ENTRY_SET = """
from council.models import EvidenceEvent
EvidenceEvent.objects.filter(seq={seq}).update(entry=bytes.fromhex({hex!r}))
print(bytes(EvidenceEvent.objects.get(seq={seq}).entry).hex())
"""

ENTRY_GET = """
from council.models import EvidenceEvent
print(bytes(EvidenceEvent.objects.get(seq={seq}).entry).hex())
"""

COSIGNATURE_SET = """
from council.models import Cosignature
line = {line!r}
if line is None:
    print(Cosignature.objects.get(witness={name!r}).line, end="")
else:
    Cosignature.objects.filter(witness={name!r}).update(line=line)
"""


def shell(env: dict, code: str) -> str:
    """What ``code`` prints, run by ``manage.py shell`` in the server's environment."""
    return manage(env, "shell", "-v", "0", "-c", code)


@dataclass
class LogSite:
    base_url: str
    env: dict
    disclosure_url: str
    leaf_index: int

    def shell(self, code: str) -> str:
        return shell(self.env, code)


@pytest.fixture(scope="module")
def log_site(demo_template: Path) -> Iterator[LogSite]:
    skey, vkey = generate_witness_key(WITNESS)

    def settings(_tmp: Path) -> str:
        # Nobody listens at this address: the witness's cosignature is added by the test.
        return f"\nLOG_WITNESSES = [('http://127.0.0.1:9/', {vkey!r})]\n"

    with _demo_server("weishi-logcheck-", demo_template, settings) as server:
        shell(server.env, COSIGN.format(skey=skey))
        pk, index = shell(server.env, DISCLOSURE).split()
        yield LogSite(
            base_url=server.base_url,
            env=server.env,
            disclosure_url=f"/disclosures/{pk}/",
            leaf_index=int(index),
        )


@pytest.fixture
def phone(browser, log_site):
    contexts = []

    def open_phone(locale: str = "zh-CN", **options) -> Page:
        page, problems = _open_page(browser, log_site.base_url, locale, **PHONE, **options)
        contexts.append((page.context, problems))
        return page

    yield open_phone
    for context, problems in contexts:
        context.close()
        assert not problems.all(), problems.all()


def verify(page: Page, button: str = "验证"):
    """Press the button as a person does (scrolled to, tapped) and wait for the answer."""
    check = page.locator("[data-log-check]")
    pressed = check.get_by_role("button", name=button)
    pressed.scroll_into_view_if_needed()
    pressed.tap()
    result = check.get_by_role("status")
    expect(result.locator(".log-check-title")).to_be_visible(timeout=30_000)
    return result


def large_text(page: Page) -> None:
    """Turn 长辈版 on with the header's switch, as a person does."""
    page.get_by_role("banner").locator(".large-text-switch button").tap()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge-text\b"))


def test_a_resident_presses_verify_and_reads_what_was_checked(phone, log_site):
    page = phone()
    page.goto(log_site.disclosure_url)
    number = log_site.leaf_index + 1
    panel = page.locator("section.hashes")
    expect(panel).to_contain_text(f"第 {number} 条")
    result = verify(page)
    expect(result).to_contain_text("验证通过")
    expect(result).to_contain_text(f"本页内容的哈希值在存证记录第 {number} 条中；")
    expect(result).to_contain_text(
        "条记录的最新检查点中；检查点由本站签名，并经 1 个见证方签名确认。"
    )
    expect(result).to_contain_text(f"见证方：{WITNESS}。")
    expect(result).to_contain_text("weishi.test/log+")  # the key the check used, shown
    expect(panel.get_by_role("link", name="如何自行验证")).to_have_attribute("href", "/evidence/")
    SHOTS.mkdir(exist_ok=True)
    panel.screenshot(path=SHOTS / "log-check-390-ok.png")

    large_text(page)
    result = verify(page)
    expect(result).to_contain_text("验证通过")
    size = page.evaluate(
        "() => getComputedStyle(document.querySelector('.log-check-result')).fontSize"
    )
    assert float(size.removesuffix("px")) >= 20
    height = page.locator(".log-check-button").bounding_box()["height"]
    assert height >= 48
    page.locator("section.hashes").screenshot(path=SHOTS / "log-check-390-large-ok.png")


def test_without_javascript_the_panel_gives_the_facts_and_no_button(phone, log_site):
    page = phone(java_script_enabled=False)
    page.goto(log_site.disclosure_url)
    panel = page.locator("section.hashes")
    expect(panel).to_contain_text(f"第 {log_site.leaf_index + 1} 条")
    expect(panel).to_contain_text("最早包含它的检查点")
    expect(panel.get_by_role("button", name="验证")).to_be_hidden()


# A browser whose WebCrypto has no Ed25519 (as before Chrome 137 and Safari 17).
NO_ED25519 = """
const importKey = crypto.subtle.importKey.bind(crypto.subtle);
crypto.subtle.importKey = (format, key, algorithm, ...rest) =>
  algorithm && algorithm.name === "Ed25519"
    ? Promise.reject(new DOMException("Ed25519", "NotSupportedError"))
    : importKey(format, key, algorithm, ...rest);
"""


def test_a_browser_without_ed25519_is_told_to_use_another_or_the_checker(phone, log_site):
    page = phone()
    page.add_init_script(NO_ED25519)
    page.goto(log_site.disclosure_url)
    check = page.locator("[data-log-check]")
    expect(check.get_by_role("status")).to_contain_text(
        "这个浏览器无法核对存证记录的签名（Ed25519）。"
    )
    expect(check.get_by_role("button", name="验证")).to_be_hidden()


def test_the_check_speaks_english_on_the_english_page(phone, log_site):
    page = phone("en", bypass_csp=True)  # for axe
    page.goto(log_site.disclosure_url)
    result = verify(page, "Verify")
    expect(result).to_contain_text("Verified")
    expect(result).to_contain_text(
        f"The hash of this page's content is in entry No. {log_site.leaf_index + 1} of the "
        "evidence log"
    )
    expect(result).to_contain_text("confirmed by 1 witness.")
    found = run_axe(page)
    assert not found.blocking(), found.describe(found.blocking())


def test_a_rewritten_entry_fails_the_check_and_the_page_says_so(phone, log_site):
    seq = log_site.leaf_index + 1
    original = log_site.shell(ENTRY_GET.format(seq=seq)).strip()
    entry = json.loads(bytes.fromhex(original))
    entry["payload"]["version"] = entry["payload"]["version"] + 1  # the hash itself kept
    rewritten = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert (
        log_site.shell(ENTRY_SET.format(seq=seq, hex=rewritten.encode().hex())).strip() != original
    )
    try:
        page = phone(bypass_csp=True)  # for axe
        page.goto(log_site.disclosure_url)
        result = verify(page)
        expect(result).to_contain_text("验证未通过")
        expect(result).to_contain_text(
            f"由存证记录提供的第 {seq} 条记录算不出检查点的根哈希值：检查点签名之后，这条记录或"
            "存证记录的哈希值被篡改过。"
        )
        page.locator("section.hashes").screenshot(path=SHOTS / "log-check-390-failed.png")
        found = run_axe(page)
        assert not found.blocking(), found.describe(found.blocking())
    finally:
        log_site.shell(ENTRY_SET.format(seq=seq, hex=original))


def test_a_forged_witness_signature_fails_the_check_naming_the_witness(phone, log_site):
    line = log_site.shell(COSIGNATURE_SET.format(name=WITNESS, line=None))
    prefix, encoded = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1  # one bit of the signature
    log_site.shell(
        COSIGNATURE_SET.format(name=WITNESS, line=f"{prefix} {base64.b64encode(raw).decode()}\n")
    )
    try:
        page = phone()
        page.goto(log_site.disclosure_url)
        result = verify(page)
        expect(result).to_contain_text(
            f"见证方 {WITNESS} 在检查点上的签名核对不上：该见证方没有确认过这个检查点。"
        )
    finally:
        log_site.shell(COSIGNATURE_SET.format(name=WITNESS, line=line))


# --- The tile arithmetic on larger trees, against logs made here ------------------------------


class MadeLog:
    """A log of ``size`` entries made with council/tlog (the server's own code), signed by a
    log key and one witness, served under ``/made/<size>/`` through the browser's routing.
    ``tamper`` names what it serves wrong."""

    def __init__(self, size: int, log_key: Signer, witness: CosignatureSigner, log_vkey: str):
        self.size = size
        self.entries = [
            json.dumps(
                {"index": i, "action": "disclosure.published",
                 "payload": {"content_sha256": self.content(i)}},
                sort_keys=True, separators=(",", ":"),
            ).encode()
            for i in range(size)
        ]  # fmt: skip
        self.tiles = tiles_append(lambda level, index: b"", 0, [leaf_hash(e) for e in self.entries])
        reader = TileReader(lambda lv, ix, w: self.tiles[lv, ix][: w * HASH_SIZE], size)
        text = checkpoint_text(log_key.name, size, tree_root(reader.hash_at, size))
        self.note = sign_note(text, [log_key]) + witness.cosign(text, 1_700_000_000)
        self.keys = f"{log_vkey}\n{witness.vkey}\n"
        self.tamper: str | None = None

    @staticmethod
    def content(i: int) -> str:
        return hashlib.sha256(f"disclosure {i}".encode()).hexdigest()

    def serve(self, route: Route, path: str) -> None:
        if path == "checkpoint":
            return route.fulfill(body=self.note, content_type="text/plain; charset=utf-8")
        if path == "key":
            return route.fulfill(body=self.keys, content_type="text/plain; charset=utf-8")
        level, index, width = parse_tile_path(path)
        if level == "entries":
            body = bundle_encode(self.entries[index * 256 : index * 256 + width])
        else:
            body = self.tiles[level, index][: width * HASH_SIZE]
            if self.tamper == "tile" and level == 0:
                body = bytes([body[0] ^ 1]) + body[1:]
        return route.fulfill(body=body, content_type="application/octet-stream")


SIZES_AND_LEAVES = [
    (1, [0]),
    (2, [0, 1]),
    (7, [0, 3, 6]),
    (256, [0, 255]),
    (257, [0, 255, 256]),
    (600, [1, 300, 511, 512, 599]),
    (65536, [0, 40000, 65535]),
    (65536 + 256 * 3 + 17, [65535, 65536, 66000, 65536 + 256 * 3 + 16]),
]


@pytest.fixture(scope="module")
def made_logs() -> dict[int, MadeLog]:
    log_skey, log_vkey = generate_key("made.example/log")
    witness_skey, _ = generate_witness_key(WITNESS)
    log_key, witness = Signer(log_skey), CosignatureSigner(witness_skey)
    return {size: MadeLog(size, log_key, witness, log_vkey) for size, _ in SIZES_AND_LEAVES}


CHECK = """async ([made, leaves, contents]) => {
  const out = [];
  for (let i = 0; i < leaves.length; i++) {
    try {
      const held = await window.WeishiLogCheck.check({
        leafIndex: leaves[i], contentSha256: contents[i],
        checkpointUrl: made + "checkpoint", keyUrl: made + "key",
      });
      out.push({number: held.number, size: held.size, witnesses: held.witnesses});
    } catch (error) {
      out.push({code: error.code || String(error)});
    }
  }
  return out;
}"""


@pytest.fixture
def made_page(phone, log_site, made_logs) -> Page:
    page = phone()
    page.goto(log_site.disclosure_url)
    expect(page.locator("[data-log-check]")).to_be_visible()

    def handle(route: Route) -> None:
        size, path = re.fullmatch(r".*/made/(\d+)/(.+)", route.request.url).groups()
        made_logs[int(size)].serve(route, path)

    page.route(re.compile(r".*/made/\d+/.+"), handle)
    return page


def check_in_browser(page: Page, made: MadeLog, leaves: list[int], contents=None) -> list[dict]:
    contents = contents or [made.content(i) for i in leaves]
    return page.evaluate(CHECK, [f"/made/{made.size}/", leaves, contents])


def test_inclusion_proofs_from_partial_and_higher_level_tiles_verify(made_page, made_logs):
    for size, leaves in SIZES_AND_LEAVES:
        results = check_in_browser(made_page, made_logs[size], leaves)
        assert results == [
            {"number": i + 1, "size": size, "witnesses": [WITNESS]} for i in leaves
        ], size


def test_each_failure_of_a_made_log_is_named(made_page, made_logs):
    made = made_logs[600]
    assert check_in_browser(made_page, made, [300], ["0" * 64]) == [{"code": "wrong-hash"}]
    assert check_in_browser(made_page, made, [600]) == [{"code": "not-yet"}]
    made.tamper = "tile"
    try:
        assert check_in_browser(made_page, made, [300]) == [{"code": "proof"}]
    finally:
        made.tamper = None
    keys = made.keys
    made.keys = keys.replace("made.example/log+", "other.example/log+")
    try:
        assert check_in_browser(made_page, made, [300]) == [{"code": "bad-key"}]
    finally:
        made.keys = keys
    note = made.note
    made.note = note.replace("\n600\n", "\n599\n", 1)
    try:
        assert check_in_browser(made_page, made, [300]) == [{"code": "bad-signature"}]
    finally:
        made.note = note
