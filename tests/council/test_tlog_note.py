"""Signed notes, checkpoints and cosignatures (council/tlog/note.py) agree byte for byte with the
Go reference implementation and with real witnesses, and refuse every malformed or tampered
input with a code and a message that says what is wrong."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from council.tlog.note import (
    MAX_SIGNATURES,
    Checkpoint,
    CosignatureSigner,
    NoteError,
    Signer,
    Verifier,
    checkpoint_text,
    generate_key,
    generate_witness_key,
    key_id,
    open_note,
    parse_checkpoint,
    sign_note,
    split_note,
)

# golang.org/x/mod/sumdb/note, note_test.go and the package documentation.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6"
    "KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WW"
    "d1RvMc+QQ=\n"
)

# A checkpoint of the Certificate Transparency staging log arche2025h1, as served with the
# cosignatures of four public witnesses (type 0x04), and the verifier keys those witnesses
# publish. The log's first signature line is of type 0x05 (an RFC 6962 tree head signature),
# which this module does not handle: it must be ignored.
ARCHE_CHECKPOINT = """\
arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
"""  # noqa: E501
ARCHE_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
ARCHE_WITNESS_VKEYS = [
    "transparency.dev/DEV:witness-little-garden+d8042a87+BCtusOxINQNUTN5Oj8HObRkh2yHf/MwYaGX4CPdiVEPM",
    "witness1.smartit.nu/witness1+a48c820f+BPSFWg9G6KPiO7QPryYO5Xq4oYJJ+kAvLKLSimDhoxMO",
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    "witness.stagemole.eu+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv",
]

ROOT = hashlib.sha256(b"root").digest()


def refusal(call, *args) -> NoteError:
    with pytest.raises(NoteError) as caught:
        call(*args)
    return caught.value


# ---- the Go reference implementation's vectors --------------------------------------------------


def test_signing_the_go_example_gives_go_s_note_byte_for_byte():
    signer = Signer(PETER_SKEY)

    assert (signer.name, signer.key_id, signer.vkey) == ("PeterNeumann", 0xC74F20A3, PETER_VKEY)
    assert signer.sign(TEXT) == PETER_SIG
    assert sign_note(TEXT, [signer]) == TEXT + "\n" + PETER_SIG


def test_opening_go_s_doubly_signed_note_verifies_the_known_keys_and_lists_the_others():
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    peter, enoch = Verifier(PETER_VKEY), Verifier(ENOCH_VKEY)

    one = open_note(note, [peter])
    both = open_note(note, [peter, enoch])

    assert one.text == TEXT
    assert [s.key for s in one.signatures] == ["PeterNeumann+c74f20a3"]
    assert [s.line for s in one.unverified] == [ENOCH_SIG]
    assert [s.line for s in both.signatures] == [PETER_SIG, ENOCH_SIG]
    assert both.unverified == []
    assert both.signature_by(enoch).timestamp is None


def test_a_note_signed_by_no_known_key_is_refused_naming_its_signers_and_the_known_keys():
    error = refusal(open_note, TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])

    assert error.code == "no_known_signature"
    assert "signed by PeterNeumann+c74f20a3, EnochRoot+af0cfe78" in str(error)
    assert "known keys: none" in str(error)


def test_an_invalid_signature_by_a_known_key_refuses_the_whole_note():
    broken = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]

    error = refusal(open_note, TEXT + "\n" + broken, [Verifier(PETER_VKEY)])

    assert error.code == "bad_signature"
    assert error.key == "PeterNeumann+c74f20a3"
    assert "signature by PeterNeumann+c74f20a3 does not verify" in str(error)


def test_repeated_signatures_count_once_and_repeated_unknown_lines_are_listed_once():
    broken_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + broken_enoch

    opened = open_note(note, [Verifier(PETER_VKEY)])

    assert [s.line for s in opened.signatures] == [PETER_SIG]
    assert [s.line for s in opened.unverified] == [ENOCH_SIG, broken_enoch]


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ", 2)[2],
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1),
    ],
    ids=[
        "no signatures",
        "empty line only",
        "no final newline",
        "control character",
        "name with a space",
        "line after the signatures",
        "101 signatures",
    ],
)
def test_go_s_malformed_notes_are_refused_as_malformed(note):
    assert refusal(open_note, note, [Verifier(PETER_VKEY)]).code == "malformed"


def test_a_note_of_invalid_utf8_is_refused_as_malformed():
    note = b"\xff" + (TEXT + "\n" + PETER_SIG).encode()

    error = refusal(open_note, note, [Verifier(PETER_VKEY)])

    assert error.code == "malformed"
    assert "not UTF-8 (byte 0 is invalid)" in str(error)


def test_every_mangling_of_go_s_verifier_key_is_refused():
    assert Verifier(PETER_VKEY).vkey == PETER_VKEY
    mangled = [
        PETER_VKEY[i:j]
        for i in range(len(PETER_VKEY) + 1)
        for j in range(i + 1, len(PETER_VKEY) + 1)
        if (i, j) != (0, len(PETER_VKEY))
    ]
    mangled += [
        PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        for i in range(len(PETER_VKEY))
    ]
    for key in mangled:
        with pytest.raises(NoteError) as caught:
            Verifier(key)
        assert caught.value.code in {"bad_key", "unknown_key"}, key


def test_go_s_wrong_length_and_unknown_type_keys_with_matching_key_ids_are_refused():
    wrong_length = refusal(
        Verifier, "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    )
    unknown_type = refusal(
        Verifier, "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )

    assert wrong_length.code == "bad_key"  # and its base64 is not canonical either
    assert unknown_type.code == "unknown_key"
    assert "key type 0x65 is not supported" in str(unknown_type)


def test_a_key_of_the_wrong_length_is_refused_even_with_its_key_id():
    short = bytes([0x01]) + b"k" * 31
    vkey = f"short+{key_id('short', 0x01, short[1:]):08x}+{base64.b64encode(short).decode()}"

    error = refusal(Verifier, vkey)

    assert error.code == "bad_key"
    assert "an Ed25519 public key is 32 bytes, this one 31" in str(error)


def test_every_mangling_of_go_s_signer_key_is_refused():
    mangled = [
        PETER_SKEY[i:j]
        for i in range(0, len(PETER_SKEY) + 1, 3)
        for j in range(i + 1, len(PETER_SKEY) + 1)
        if (i, j) != (0, len(PETER_SKEY))
    ]
    mangled += [
        PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        for i in range(len(PETER_SKEY))
    ]
    for key in mangled:
        with pytest.raises(NoteError):
            Signer(key)


def test_a_key_whose_base64_holds_a_plus_is_read_whole():
    # transparency-dev/formats, note/note_cosigv1_test.go
    verifier = Verifier("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")

    assert (verifier.name, verifier.key_id, verifier.is_cosigner) == ("TEST", 0x7997405C, False)


def test_the_c2sp_signed_note_example_verifies():
    # c2sp.org/signed-note's test vector
    vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    line = (
        "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3m"
        "FXmRKuwHjG1Yu72IneyaQM=\n"
    )

    opened = open_note("This is an example message.\n\n" + line, [Verifier(vkey)])

    assert opened.text == "This is an example message.\n"


# ---- real witnesses' cosignatures ---------------------------------------------------------------


def test_the_cosignatures_of_four_public_witnesses_verify_with_their_published_keys():
    witnesses = [Verifier(key) for key in ARCHE_WITNESS_VKEYS]

    opened = open_note(ARCHE_CHECKPOINT, [Verifier(ARCHE_LOG_VKEY), *witnesses])

    assert all(w.is_cosigner for w in witnesses)
    assert [s.key for s in opened.signatures] == [
        "arche2025h1.staging.ct.transparency.dev+ba2f06c0",
        *(w.key for w in witnesses),
    ]
    assert [s.timestamp for s in opened.signatures] == [None] + [1779573024] * 4
    # The log's type 0x05 signature shares its name but not its key ID: ignored, not refused.
    assert [s.key for s in opened.unverified] == [
        "arche2025h1.staging.ct.transparency.dev+cd333cb1"
    ]
    assert parse_checkpoint(opened.text).size == 1432088532


def test_a_cosignature_does_not_verify_for_a_changed_checkpoint():
    tampered = ARCHE_CHECKPOINT.replace("1432088532", "1432088533")

    error = refusal(open_note, tampered, [Verifier(ARCHE_WITNESS_VKEYS[2])])

    assert error.code == "bad_signature"
    assert "cosignature by remora.n621.de+da77ade7 does not verify" in str(error)


# ---- our own keys: round trips and tampering ----------------------------------------------------


def test_a_generated_key_signs_notes_its_verifier_key_opens():
    skey, vkey = generate_key("weishi.example.org/log")
    signer, verifier = Signer(skey), Verifier(vkey)
    text = checkpoint_text("weishi.example.org/log", 5, ROOT)

    opened = open_note(sign_note(text, [signer]), [verifier])

    assert skey.startswith(f"PRIVATE+KEY+weishi.example.org/log+{signer.key_id:08x}+")
    assert vkey == signer.vkey
    assert verifier.key_type == 0x01
    assert opened.signature_by(verifier) is not None


def test_a_witness_key_cosigns_in_the_c2sp_format_with_its_timestamp():
    skey, vkey = generate_witness_key("witness.example.org/w1")
    cosigner, verifier = CosignatureSigner(skey), Verifier(vkey)
    text = checkpoint_text("weishi.example.org/log", 5, ROOT)

    line = cosigner.cosign(text, 1_700_000_000)

    assert verifier.is_cosigner and cosigner.vkey == vkey
    # The line is base64(key ID ‖ 8-byte big-endian time ‖ Ed25519 over the cosigned message),
    # checked here with the public key alone.
    name, encoded = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(encoded)
    assert name == "witness.example.org/w1"
    assert int.from_bytes(raw[:4], "big") == verifier.key_id
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(vkey.split("+", 2)[2])[1:])
    public.verify(raw[12:], f"cosignature/v1\ntime 1700000000\n{text}".encode())
    opened = open_note(text + "\n" + line, [verifier])
    assert opened.signature_by(verifier).timestamp == 1_700_000_000


def test_a_cosignature_whose_time_was_changed_does_not_verify():
    skey, vkey = generate_witness_key("witness.example.org/w1")
    text = checkpoint_text("weishi.example.org/log", 5, ROOT)
    line = CosignatureSigner(skey).cosign(text, 1_700_000_000)
    name, encoded = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[11] += 1  # one second later
    forged = f"— {name} {base64.b64encode(bytes(raw)).decode()}\n"

    assert refusal(open_note, text + "\n" + forged, [Verifier(vkey)]).code == "bad_signature"


def test_a_tampered_note_text_is_refused():
    skey, vkey = generate_key("weishi.example.org/log")
    note = sign_note(checkpoint_text("weishi.example.org/log", 5, ROOT), [Signer(skey)])

    error = refusal(open_note, note.replace("\n5\n", "\n6\n"), [Verifier(vkey)])

    assert error.code == "bad_signature"


def test_a_log_key_and_a_witness_key_never_stand_in_for_each_other():
    skey, vkey = generate_key("weishi.example.org/log")
    text = checkpoint_text("weishi.example.org/log", 5, ROOT)
    # Go's NewSignerForCosignatureV1 takes a type 0x01 key too; its key ID is that of type 0x04.
    cosigner = CosignatureSigner(skey)
    cosigned = text + "\n" + cosigner.cosign(text, 1)

    assert cosigner.key_id != Signer(skey).key_id
    assert refusal(open_note, cosigned, [Verifier(vkey)]).code == "no_known_signature"
    assert open_note(cosigned, [Verifier(cosigner.vkey)]).signatures
    witness_skey, _ = generate_witness_key("witness.example.org/w1")
    error = refusal(Signer, witness_skey)
    assert error.code == "bad_key"
    assert "is a witness key (type 0x04)" in str(error)


def test_only_checkpoints_are_cosigned_and_only_at_a_valid_time():
    skey, _ = generate_witness_key("witness.example.org/w1")
    cosigner = CosignatureSigner(skey)
    text = checkpoint_text("weishi.example.org/log", 5, ROOT)

    assert refusal(cosigner.cosign, "hello\n", 1).code == "malformed_checkpoint"
    with pytest.raises(ValueError, match="0 … 2\\^63-1"):
        cosigner.cosign(text, -1)
    with pytest.raises(TypeError):
        cosigner.cosign(text, 1.5)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "line\nbreak"])
def test_a_key_cannot_be_named_with_spaces_pluses_or_nothing(name):
    assert refusal(generate_key, name).code == "bad_key"


@pytest.mark.parametrize(
    ("note", "says"),
    [
        (TEXT + "\n" + "- PeterNeumann AAAAAAA=\n", "does not start with an em dash"),
        (TEXT + "\n" + "— PeterNeumann\n", "does not start with a valid key name"),
        (TEXT + "\n" + "— PeterNeumann not*base64\n", "not canonical base64"),
        (TEXT + "\n" + "— PeterNeumann AAAAAA==\n", "not canonical base64 of a key ID"),
        (TEXT + "\n" + "— PeterNeumann AAAAAAB=\n", "not canonical base64"),
        (TEXT.replace("\n", "\r\n") + "\r\n" + PETER_SIG, "U+000D"),
        ("\ud800" + TEXT + "\n" + PETER_SIG, "U+D800"),
    ],
    ids=["hyphen", "no signature", "not base64", "too short", "non-canonical", "CRLF", "surrogate"],
)
def test_a_malformed_signature_block_is_refused_saying_what_is_wrong(note, says):
    error = refusal(split_note, note)

    assert error.code == "malformed"
    assert says in str(error)


# ---- checkpoints --------------------------------------------------------------------------------


def test_a_checkpoint_s_text_reads_back_as_the_same_checkpoint():
    text = checkpoint_text("weishi.example.org/log", 1234, ROOT)

    assert text == f"weishi.example.org/log\n1234\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(text) == Checkpoint("weishi.example.org/log", 1234, ROOT, ())
    assert parse_checkpoint(checkpoint_text("o", 0, ROOT)).size == 0


def test_extension_lines_are_kept_and_signed():
    text = checkpoint_text("weishi.example.org/log", 3, ROOT) + "extension\n"

    checkpoint = parse_checkpoint(text)

    assert checkpoint.extensions == ("extension",)
    assert checkpoint.text == text


ROOT64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"o\n12\n{ROOT64}", "must end with a newline"),
        ("o\n12\n", "three lines"),
        (f"\n12\n{ROOT64}\n", "origin (first line) is empty"),
        (f"o\n012\n{ROOT64}\n", "'012' is not a decimal number without leading zeros"),
        (f"o\n+12\n{ROOT64}\n", "not a decimal"),
        (f"o\n 12\n{ROOT64}\n", "not a decimal"),
        (f"o\n-1\n{ROOT64}\n", "not a decimal"),
        (f"o\n١٢\n{ROOT64}\n", "not a decimal"),  # Arabic-Indic digits: int() would take them
        (f"o\n{2**64}\n{ROOT64}\n", "over 2^64-1"),
        ("o\n12\nnot base64\n", "is not canonical base64 of 32 bytes"),
        (f"o\n12\n{base64.b64encode(ROOT[:31]).decode()}\n", "of 32 bytes"),
        (f"o\n12\n{ROOT64.replace('=', '')}\n", "of 32 bytes"),
        (f"o\n12\n{ROOT64}\n\n", "line 4 (an extension) is empty"),
        (f"o\r\n12\n{ROOT64}\n", "U+000D"),
    ],
    ids=[
        "no final newline",
        "two lines",
        "empty origin",
        "leading zero",
        "plus sign",
        "space",
        "negative",
        "other digits",
        "too large",
        "root not base64",
        "root of 31 bytes",
        "root without padding",
        "empty extension",
        "carriage return",
    ],
)
def test_a_malformed_checkpoint_is_refused_naming_the_line_at_fault(text, says):
    error = refusal(parse_checkpoint, text)

    assert error.code == "malformed_checkpoint"
    assert says in str(error)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), ("a\nb", 1, ROOT), ("o", -1, ROOT), ("o", 2**64, ROOT), ("o", 1, b"x" * 31)],
)
def test_a_checkpoint_cannot_be_written_from_bad_values(origin, size, root):
    assert refusal(checkpoint_text, origin, size, root).code == "malformed_checkpoint"
