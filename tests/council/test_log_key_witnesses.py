"""/log/key gives each witness's whole verifier key, so that a checker (the disclosure page's
「验证」, tools/weishi_verify.py) can check its cosignatures with it."""

from django.urls import reverse

from council.evidence import log_signer
from council.tlog.note import Verifier, generate_witness_key


def test_the_key_list_holds_the_logs_key_then_each_witness_key_whole(client, settings):
    _skey, vkey = generate_witness_key("witness.example.org")
    settings.LOG_WITNESSES = [("http://127.0.0.1:9/", vkey)]
    response = client.get(reverse("log_key"))
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines == [log_signer().vkey, vkey]
    assert Verifier(lines[1]).is_cosigner
