"""The one scrubber: generated secrets in every form they take in our outputs never survive it."""
import html
import json
import logging
import string
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from chaosaitrapp.scrub import ScrubFilter, defang_urls, install_log_filter, scrub_data, scrub_text

URL_SAFE = string.ascii_letters + string.digits + "-_.~"
secret_text = st.text(alphabet=URL_SAFE, min_size=6, max_size=40).filter(lambda s: not s.isdigit())
any_secret = st.text(alphabet=string.printable.strip() + "äé€", min_size=6, max_size=40).filter(lambda s: s.strip() == s)

# How a secret shows up without anyone telling the scrubber it is one.
PATTERN_FORMS = [
    "redis://:{s}@127.0.0.1:6379/0",                      # the usual Redis form: empty user
    "postgresql://trader:{s}@127.0.0.1:5432/aitrapp",
    "wss://ws.kite.trade?api_key=lab&access_token={s}",
    "GET /ready?api_key={s}&x=1",
    "POST /session/token request_token={s}&checksum=abc",
    "Authorization: token lab:{s}",
    "{{'Authorization': 'token lab:{s}', 'X-Kite-Version': '3'}}",
    'curl -H "X-API-Key: {s}"',
    '{{"api_secret": "{s}"}}',
    "password={s} user=trader",
]


@settings(max_examples=60, deadline=None)
@given(secret=secret_text, form=st.sampled_from(PATTERN_FORMS))
def test_pattern_forms_are_scrubbed_without_being_told(secret, form):
    text = form.format(s=secret)
    out = scrub_text(text)
    assert secret not in out, f"{text!r} -> {out!r}"
    assert secret not in json.dumps(scrub_data({"line": text, "nested": [text]}))


@settings(max_examples=60, deadline=None)
@given(secret=any_secret)
def test_told_secrets_die_in_every_encoding(secret):
    forms = [secret, html.escape(secret), json.dumps(secret)[1:-1], quote(secret, safe=""),
             f"postgresql://trader:{quote(secret, safe='')}@h/db"]
    text = " | ".join(forms)
    out = scrub_text(text, [secret])
    for form in forms[:4]:
        if len(form) >= 4:
            assert form not in out, f"{form!r} survived in {out!r}"


def test_known_secrets_in_every_form():
    secret = 'k"e<y>&1'
    text = f"raw {secret} html {html.escape(secret)} json {secret.replace(chr(34), chr(92) + chr(34))}"
    assert scrub_text(text, [secret]) == "raw *** html *** json ***"


def test_api_key_values_without_being_told():
    cases = {
        'curl -H "X-API-Key: abc123"': 'curl -H "X-API-Key: ***"',
        "GET /ready?api_key=abc123&x=1": "GET /ready?api_key=***&x=1",
        '{"X-API-Key": "abc123"}': '{"X-API-Key": "***"}',
        "{&#x27;x-api-key&#x27;: &#x27;abc123&#x27;}": "{&#x27;x-api-key&#x27;: &#x27;***&#x27;}",
        "&quot;X-API-Key&quot;: &quot;abc123&quot;": "&quot;X-API-Key&quot;: &quot;***&quot;",
        "redis://:pw9@127.0.0.1:6379": "redis://:***@127.0.0.1:6379",
    }
    for given_text, expected in cases.items():
        assert scrub_text(given_text) == expected


def test_names_and_plain_urls_are_left_alone():
    for text in ('"API_KEY": {"type": "env", "key": "API_KEY"}', "redis://127.0.0.1:6379/0",
                 '{"instrument_token": 256265, "type": "token_refresh"}', "http://127.0.0.1:8000/ready",
                 "password authentication failed for user trader"):
        assert scrub_text(text) == text


def test_short_secret_only_as_a_word():
    assert scrub_text("<div>ab</div> about ab", ["ab"]) == "<div>***</div> about ***"


def test_scrub_data_and_defang():
    data = {"headers": {"X-API-Key": "zzz"}, "list": ["tok123", 5], "tok123": True, "access_token": "q"}
    assert scrub_data(data, ["tok123"]) == {"headers": {"X-API-Key": "***"}, "list": ["***", 5], "***": True,
                                            "access_token": "***"}
    assert "://" not in defang_urls("see http://127.0.0.1:8000/ready and HTTPS://x")


def test_log_filter_scrubs_messages_args_and_tracebacks(tmp_path):
    log = logging.getLogger("chaostoolkit.test-scrub")
    handler = logging.FileHandler(tmp_path / "ctk.log")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    handler.addFilter(ScrubFilter(["s3cr3t-value"]))
    try:
        log.info("connecting to %s", "postgresql://trader:pw77@h/db")
        log.info("key is s3cr3t-value")
        try:
            raise ValueError("token=abcdef99 in the error")
        except ValueError:
            log.exception("failed")
    finally:
        handler.close()
        log.removeHandler(handler)
    text = (tmp_path / "ctk.log").read_text()
    assert "pw77" not in text and "s3cr3t-value" not in text and "abcdef99" not in text
    assert "connecting to postgresql://trader:***@h/db" in text


def test_install_log_filter_replaces_an_earlier_one():
    logger = logging.getLogger("chaostoolkit")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        install_log_filter(["a-secret"])
        install_log_filter(["b-secret"])
        mine = [f for f in handler.filters if isinstance(f, ScrubFilter)]
        assert len(mine) == 1 and mine[0].secrets == ["b-secret"]
    finally:
        logger.removeHandler(handler)
