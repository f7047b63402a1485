"""The witness (``manage.py witness``, council/tlog/witness.py) cosigns a log's checkpoint only
when the log signed it and it extends what the witness cosigned before, refuses everything else
with the status C2SP tlog-witness specifies and a message that says what is wrong, records each
refusal, and keeps its word across restarts. It runs here as a real separate process."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from council.tlog.merkle import ProofError, verify_consistency
from council.tlog.note import (
    CosignatureSigner,
    Signer,
    Verifier,
    checkpoint_text,
    generate_key,
    generate_witness_key,
    open_note,
    sign_note,
)
from council.tlog.witness import (
    Witness,
    WitnessError,
    load_key_file,
    witness_add_checkpoint,
)
from tests.council.tlog_reference import Log, consistency_proof, tree_hash

ROOT = Path(__file__).resolve().parents[2]
WITNESS_NAME = "witness.example.org/w1"

# ---- consistency proofs (RFC 9162 §2.1.4.2) ----------------------------------------------------
# The Certificate Transparency test tree: its leaves, the roots of its first 1…8 leaves, and the
# consistency proofs published with it (transparency-dev/merkle, certificate-transparency).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
CT_PROOFS = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def proof_error(*args) -> str:
    with pytest.raises(ProofError) as caught:
        verify_consistency(*args)
    return str(caught.value)


def test_the_reference_tree_gives_the_published_roots_and_proofs():
    # The test log (tests/council/tlog_reference.py) is the yardstick for what follows.
    assert [tree_hash(CT_LEAVES[:n]) for n in range(1, 9)] == CT_ROOTS
    for (m, n), proof in CT_PROOFS.items():
        if m != n:
            assert consistency_proof(CT_LEAVES[:n], m) == [bytes.fromhex(h) for h in proof]


@pytest.mark.parametrize(("m", "n"), list(CT_PROOFS))
def test_the_published_consistency_proofs_verify(m, n):
    proof = [bytes.fromhex(h) for h in CT_PROOFS[(m, n)]]

    verify_consistency(m, n, CT_ROOTS[m - 1], CT_ROOTS[n - 1], proof)


def test_every_proof_between_trees_of_up_to_33_leaves_verifies_and_any_changed_hash_fails():
    entries = [f"entry {i}".encode() for i in range(33)]
    roots = [tree_hash(entries[:n]) for n in range(34)]
    for n in range(1, 34):
        for m in range(1, n):
            proof = consistency_proof(entries[:n], m)
            verify_consistency(m, n, roots[m], roots[n], proof)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = hashlib.sha256(bad[i]).digest()
                with pytest.raises(ProofError):
                    verify_consistency(m, n, roots[m], roots[n], bad)
            with pytest.raises(ProofError):
                verify_consistency(m, n, roots[m], roots[n], proof[:-1])
            with pytest.raises(ProofError):
                verify_consistency(m, n, roots[m], roots[n], [*proof, roots[0]])


def test_a_wrong_proof_is_refused_saying_what_does_not_hold():
    proof = [bytes.fromhex(h) for h in CT_PROOFS[(6, 8)]]
    other = hashlib.sha256(b"other").digest()

    assert "cut short" in proof_error(6, 8, CT_ROOTS[5], CT_ROOTS[7], proof[:2])
    assert "more hashes than such a proof has" in proof_error(
        6, 8, CT_ROOTS[5], CT_ROOTS[7], [*proof, other]
    )
    assert "does not start from the root of size 6" in proof_error(6, 8, other, CT_ROOTS[7], proof)
    assert "to the root of size 8" in proof_error(6, 8, CT_ROOTS[5], other, proof)
    assert "is empty" in proof_error(6, 8, CT_ROOTS[5], CT_ROOTS[7], [])
    assert "same size is empty" in proof_error(8, 8, CT_ROOTS[7], CT_ROOTS[7], proof)
    assert "different roots" in proof_error(8, 8, CT_ROOTS[7], other, [])
    assert "from the empty tree is empty" in proof_error(0, 8, other, CT_ROOTS[7], proof)
    assert "no consistency proof goes from size 8 to size 6" in proof_error(
        8, 6, CT_ROOTS[7], CT_ROOTS[5], proof
    )


# ---- the witness, as a separate process -------------------------------------------------------


class WitnessProcess:
    """``manage.py witness`` on a free port, with its output collected line by line."""

    def __init__(self, folder: Path, log_vkeys: list[str], *, command=None):
        self.folder = folder
        self.key_file = folder / "witness.key"
        self.state = folder / "state.json"
        if not self.key_file.exists():
            skey, _ = generate_witness_key(WITNESS_NAME)
            self.key_file.write_text(skey + "\n")
            self.key_file.chmod(0o600)
        self.vkey = CosignatureSigner(self.key_file.read_text().strip()).vkey
        self.verifier = Verifier(self.vkey)
        self.log_vkeys = log_vkeys
        self.command = command or [sys.executable, "manage.py", "witness"]
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.url = ""

    def arguments(self) -> list[str]:
        arguments = ["--listen", "127.0.0.1:0", "--key", str(self.key_file)]
        arguments += ["--state", str(self.state)]
        for vkey in self.log_vkeys:
            arguments += ["--log-key", vkey]
        return arguments

    def start(self) -> "WitnessProcess":
        self.lines = []
        listening = threading.Event()
        self.process = subprocess.Popen(
            [*self.command, *self.arguments()],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

        def read(stream):
            for line in stream:
                self.lines.append(line.rstrip("\n"))
                if " listening on http://" in line:
                    self.url = (
                        line.split(" listening on ")[1].strip().removesuffix("add-checkpoint")
                    )
                    listening.set()
            listening.set()  # the process ended

        self.reader = threading.Thread(target=read, args=(self.process.stdout,), daemon=True)
        self.reader.start()
        listening.wait(60)
        assert self.url, "the witness did not start:\n" + "\n".join(self.lines)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.reader.join(timeout=5)
        self.url = ""

    def refusals(self) -> list[dict]:
        path = self.state.with_name(self.state.name + ".refused")
        return [json.loads(line) for line in path.read_text().splitlines()]

    def output(self) -> str:
        return "\n".join(self.lines)

    def said(self, text: str, timeout: float = 15) -> bool:
        """Whether the witness printed ``text``, waiting for its output to be read: the line
        may come a moment after its answer."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def post(url: str, body: bytes, path: str = "add-checkpoint", method: str = "POST"):
    """(status, content type, body text) of a raw request to the witness."""
    request = urllib.request.Request(url + path, data=body, method=method)  # noqa: S310 (http)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def body(log: Log, old_size: int, note: str, proof: list[bytes] | None = None) -> bytes:
    proof = log.proof(old_size, int(note.split("\n")[1])) if proof is None else proof
    lines = "".join(base64.b64encode(node).decode() + "\n" for node in proof)
    return f"old {old_size}\n{lines}\n{note}".encode()


def refused(call) -> WitnessError:
    with pytest.raises(WitnessError) as caught:
        call()
    return caught.value


@pytest.fixture
def log():
    return Log(entries=3)


@pytest.fixture
def witness(tmp_path, log):
    process = WitnessProcess(tmp_path, [log.vkey]).start()
    yield process
    process.stop()


def cosign(witness: WitnessProcess, log: Log, old_size: int, **kwargs) -> list[str]:
    """Send the log's latest checkpoint with the proof from ``old_size``, as the log does."""
    return witness_add_checkpoint(
        witness.url,
        old_size,
        kwargs.get("proof", log.proof(old_size)),
        kwargs.get("note", log.checkpoint()),
        timeout=30,
        verifier=witness.verifier,
    )


def test_the_witness_cosigns_a_log_s_first_checkpoint_and_each_that_extends_it(witness, log):
    before = int(time.time())

    first = cosign(witness, log, 0)
    second = cosign(witness, log.grow(5), 3)

    note = log.checkpoint() + "".join(second)
    opened = open_note(note, [Verifier(log.vkey), witness.verifier])
    assert len(first) == len(second) == 1
    assert before <= opened.signature_by(witness.verifier).timestamp <= time.time()
    state = json.loads(witness.state.read_text())
    assert state["logs"][log.origin]["size"] == 8
    assert witness.said("cosigned weishi.example.org/log size 8 (old size 3, 4 proof hashes)")


def test_asking_again_for_the_size_it_holds_gets_a_fresh_cosignature(witness, log):
    cosign(witness, log, 0)

    again = cosign(witness, log, 3)

    assert again and json.loads(witness.state.read_text())["logs"][log.origin]["size"] == 3


def test_a_checkpoint_whose_log_signature_does_not_verify_is_refused_with_403(witness, log):
    cosign(witness, log, 0)
    note = log.grow(2).checkpoint().replace("\n5\n", "\n6\n", 1)  # signed for 5, says 6

    error = refused(lambda: cosign(witness, log, 3, note=note, proof=log.proof(3, 5)))

    assert (error.code, error.status) == ("not_signed", 403)
    assert "the log's signature does not verify" in str(error)
    assert f"log key {Verifier(log.vkey).key}" in str(error)
    assert witness.refusals()[-1]["reason"] == "bad_log_signature"


def test_a_checkpoint_signed_with_another_key_for_the_log_s_origin_is_refused(witness, log):
    impostor = Log(log.origin, entries=3)  # same origin, another key

    error = refused(lambda: cosign(witness, impostor, 0))

    assert (error.code, error.status) == ("not_signed", 403)
    assert f"not signed by the log's key {Verifier(log.vkey).key}" in str(error)
    assert f"it is signed by {Verifier(impostor.vkey).key}" in str(error)
    assert witness.refusals()[-1]["reason"] == "not_signed_by_log"


def test_a_checkpoint_of_a_log_it_does_not_witness_is_refused_with_404(witness, log):
    stranger = Log("elsewhere.example.org/log", entries=3)

    error = refused(lambda: cosign(witness, stranger, 0))

    assert (error.code, error.status) == ("unknown_log", 404)
    assert "does not witness the log 'elsewhere.example.org/log'" in str(error)


def test_a_truncated_proof_is_refused_with_422_and_nothing_is_cosigned(witness, log):
    cosign(witness, log, 0)
    log.grow(5)

    error = refused(lambda: cosign(witness, log, 3, proof=log.proof(3)[:-1]))

    assert (error.code, error.status) == ("inconsistent", 422)
    assert "the consistency proof is wrong" in str(error) and "cut short" in str(error)
    assert json.loads(witness.state.read_text())["logs"][log.origin]["size"] == 3


def test_a_rewritten_history_is_refused_even_when_the_log_signs_it(witness, log):
    cosign(witness, log.grow(5), 0)
    rewritten = log.rewritten(2).grow(4)  # entry 2 replaced, then the log goes on

    same_size = refused(
        lambda: cosign(witness, rewritten, 8, note=rewritten.checkpoint(8), proof=[])
    )
    extended = refused(lambda: cosign(witness, rewritten, 8))

    assert (same_size.code, same_size.status) == ("conflict", 409)
    assert "already cosigned size 8" in str(same_size) and "history was rewritten" in str(same_size)
    assert (extended.code, extended.status) == ("inconsistent", 422)
    assert "the log's history up to size 8" in str(extended)
    reasons = [r["reason"] for r in witness.refusals()]
    assert reasons == ["conflicting_root", "inconsistent"]
    # Each refusal keeps the signed checkpoint and the one it contradicts: evidence on its own.
    record = witness.refusals()[0]
    assert record["signed_by_log"] is True
    assert rewritten.checkpoint(8) in record["request"]
    assert record["last_cosigned"] == log.checkpoint(8)


def test_a_smaller_tree_is_refused_whatever_old_size_the_log_claims(witness, log):
    cosign(witness, log.grow(5), 0)

    claims_8 = refused(lambda: cosign(witness, log, 8, note=log.checkpoint(5), proof=[]))
    status, content_type, text = post(witness.url, body(log, 5, log.checkpoint(5)))

    assert (claims_8.code, claims_8.status) == ("bad_request", 400)
    assert "smaller than the old size 8: a log only grows" in str(claims_8)
    assert (status, content_type, text) == (409, "text/x.tlog.size", "8\n")


def test_a_wrong_old_size_gets_409_with_the_size_it_cosigned(witness, log):
    cosign(witness, log, 0)

    error = refused(lambda: cosign(witness, log.grow(1), 0, proof=[]))

    assert (error.code, error.status, error.size) == ("wrong_old_size", 409, 3)
    assert witness.refusals()[-1]["message"] == (
        "the old size is 0 but the witness last cosigned size 3 of weishi.example.org/log"
    )


def test_after_a_restart_it_remembers_what_it_cosigned_and_keeps_refusing(witness, log):
    cosign(witness, log.grow(5), 0)
    rewritten = log.rewritten(2)

    witness.stop()
    witness.start()

    assert witness.said("log weishi.example.org/log: size 8 cosigned")
    assert refused(lambda: cosign(witness, log, 0, proof=[])).size == 8
    assert refused(lambda: cosign(witness, rewritten, 8)).code == "conflict"
    assert cosign(witness, log.grow(3), 8)
    witness.stop()
    witness.start()
    assert refused(lambda: cosign(witness, rewritten.grow(3), 8)).size == 11
    assert [r["reason"] for r in witness.refusals()] == [
        "wrong_old_size",
        "conflicting_root",
        "wrong_old_size",
    ]


def test_concurrent_requests_never_roll_the_witness_back(witness, log):
    cosign(witness, log, 0)
    log.grow(20)

    def send(size):
        try:
            return cosign(witness, log, 3, note=log.checkpoint(size), proof=log.proof(3, size))
        except WitnessError as error:
            return error

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(4, 24)))

    cosigned = [
        size for size, result in zip(range(4, 24), results, strict=True) if isinstance(result, list)
    ]
    assert len(cosigned) == 1
    assert {r.size for r in results if isinstance(r, WitnessError)} == set(cosigned)
    assert json.loads(witness.state.read_text())["logs"][log.origin]["size"] == cosigned[0]


MALFORMED = {
    b"": "does not start with a line `old <size>`",
    b"old 03\n\n": "not `old <size>`",
    b"old 0\nnot a hash\n\n": "proof line 1 is not a hash",
    b"old 0\nAAAA\n": "proof line 1 is not a hash",
    b"old 0\n": "no empty line between the proof and the checkpoint",
    b"old 0\n\nweishi.example.org/log\n3\n": "the checkpoint is malformed",
    b"old 0\n" + (b"A" * 43 + b"=\n") * 64 + b"\n": "more than 63 lines",
    b"\xff": "not UTF-8",
}


def test_a_malformed_request_is_refused_with_400_saying_what_is_wrong(witness):
    for payload, says in MALFORMED.items():
        status, content_type, text = post(witness.url, payload)

        assert (status, content_type) == (400, "text/plain; charset=utf-8"), payload
        assert says in text, (payload, text)
    assert [r["reason"] for r in witness.refusals()] == ["malformed"] * len(MALFORMED)


def test_the_witness_answers_other_requests_without_cosigning(witness, log):
    assert post(witness.url, None, method="GET")[:2] == (405, "text/plain; charset=utf-8")
    assert post(witness.url, b"x", path="other")[0] == 404
    status, _, text = post(witness.url, None, path="", method="GET")
    assert status == 200
    assert text == f"witness {witness.vkey}\nlog weishi.example.org/log: nothing cosigned yet\n"


def test_the_client_says_when_no_witness_answers(log):
    error = refused(
        lambda: witness_add_checkpoint("http://127.0.0.1:9", 0, [], log.checkpoint(), timeout=5)
    )

    assert error.code == "unreachable" and "unreachable" in str(error)


# ---- starting and stopping ---------------------------------------------------------------------


def run_command(*arguments: str, django: bool = True) -> subprocess.CompletedProcess:
    """``manage.py witness`` (or with ``django=False``, ``python -m council.tlog.witness``, the
    same program without Django's start-up time) run to its end."""
    program = ["manage.py", "witness"] if django else ["-m", "council.tlog.witness"]
    return subprocess.run(
        [sys.executable, *program, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_generate_key_writes_a_private_key_file_and_prints_its_verifier_key(tmp_path):
    key_file = tmp_path / "w.key"

    done = run_command("--generate-key", WITNESS_NAME, "--key", str(key_file))
    again = run_command("--generate-key", WITNESS_NAME, "--key", str(key_file))

    assert done.returncode == 0, done.stderr
    vkey = done.stdout.strip().splitlines()[-1]
    assert Verifier(vkey).is_cosigner
    assert CosignatureSigner(key_file.read_text().strip()).vkey == vkey
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert again.returncode == 2
    assert "already exists: a witness key is never overwritten" in again.stderr
    assert CosignatureSigner(key_file.read_text().strip()).vkey == vkey


def test_the_witness_does_not_start_on_a_damaged_state_file(tmp_path, log):
    witness = WitnessProcess(tmp_path, [log.vkey])
    witness.state.write_text('{"format": "weishi-witness-state/1", "logs": {')

    done = run_command(*witness.arguments())

    assert done.returncode == 2
    assert f"the state file {witness.state} is damaged (not JSON" in done.stderr
    assert "Restore it from a backup" in done.stderr


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"--log-key": "not a key"}, "is not a verifier key"),
        ({"--log-key": generate_witness_key("w")[1]}, "is a witness's key (type 0x04)"),
        ({"--key": "/nonexistent/witness.key"}, "cannot read the key file"),
        ({"--listen": "localhost"}, "give HOST:PORT"),
        ({"--state": "/nonexistent/state.json"}, "the folder /nonexistent does not exist"),
    ],
    ids=["malformed log key", "witness key as log key", "no key file", "no port", "no folder"],
)
def test_the_witness_does_not_start_with_a_wrong_option_and_says_which(tmp_path, log, change, says):
    arguments = WitnessProcess(tmp_path, [log.vkey]).arguments()
    for flag, value in change.items():
        arguments[arguments.index(flag) + 1] = value

    done = run_command(*arguments, django=False)

    assert done.returncode == 2
    assert says in done.stderr


def test_a_second_witness_on_the_same_state_file_does_not_start(witness):
    done = run_command(*witness.arguments())

    assert done.returncode == 2
    assert "another witness is running with the state file" in done.stderr


def test_the_witness_runs_without_django_as_a_module(tmp_path, log):
    witness = WitnessProcess(
        tmp_path, [log.vkey], command=[sys.executable, "-m", "council.tlog.witness"]
    ).start()
    try:
        assert cosign(witness, log, 0)
    finally:
        witness.stop()
    imports = subprocess.run(
        [sys.executable, "-c", "import sys, council.tlog.witness; print('django' in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert imports.stdout == "False\n"


# ---- the witness in this process: what the network cannot easily show --------------------------


def test_the_first_checkpoint_of_an_empty_tree_must_have_the_empty_tree_s_root(tmp_path):
    skey, vkey = generate_key("weishi.example.org/log")
    witness_skey, _ = generate_witness_key(WITNESS_NAME)
    witness = Witness(CosignatureSigner(witness_skey), [Verifier(vkey)], tmp_path / "state.json")

    def send(root):
        note = sign_note(checkpoint_text("weishi.example.org/log", 0, root), [Signer(skey)])
        return witness.add_checkpoint(f"old 0\n\n{note}".encode())

    wrong = send(hashlib.sha256(b"not empty").digest())
    right = send(hashlib.sha256(b"").digest())

    assert (wrong.status, wrong.body) == (
        422,
        "the root of the empty tree is SHA-256 of nothing; the checkpoint's is not\n",
    )
    assert right.status == 200


def test_an_oversized_request_is_refused_without_being_kept(tmp_path, log):
    witness_skey, _ = generate_witness_key(WITNESS_NAME)
    witness = Witness(CosignatureSigner(witness_skey), [Verifier(log.vkey)], tmp_path / "s.json")

    response = witness.add_checkpoint(b"old 0\n" + b"x" * 300_000)

    assert response.status == 413
    record = json.loads((tmp_path / "s.json.refused").read_text())
    assert (record["reason"], record["request"]) == ("body_too_large", "")


def test_a_key_file_others_can_read_is_used_with_a_warning(tmp_path):
    key_file = tmp_path / "witness.key"
    key_file.write_text(generate_witness_key(WITNESS_NAME)[0] + "\n")
    key_file.chmod(0o644)

    signer, warning = load_key_file(key_file)
    key_file.chmod(0o600)

    assert signer.name == WITNESS_NAME
    assert warning == (
        f"warning: {key_file} can be read by other users; whoever reads it can cosign as this "
        f"witness (chmod 600 {key_file})"
    )
    assert load_key_file(key_file)[1] is None
