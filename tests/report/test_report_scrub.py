"""The scrubber: secrets, API-key values and URL passwords become ***; URLs are defanged."""
import html

from chaosaitrapp.report.scrub import defang_urls, scrub_data, scrub_text


def test_known_secrets_in_every_form():
    secret = 'k"e<y>&1'
    text = f"raw {secret} html {html.escape(secret)} json {secret.replace(chr(34), chr(92) + chr(34))}"
    out = scrub_text(text, [secret])
    assert out == "raw *** html *** json ***"


def test_api_key_values_without_being_told():
    cases = {
        'curl -H "X-API-Key: abc123"': 'curl -H "X-API-Key: ***"',
        "GET /ready?api_key=abc123&x=1": "GET /ready?api_key=***&x=1",
        '{"X-API-Key": "abc123"}': '{"X-API-Key": "***"}',
        "{&#x27;x-api-key&#x27;: &#x27;abc123&#x27;}": "{&#x27;x-api-key&#x27;: &#x27;***&#x27;}",
        "&quot;X-API-Key&quot;: &quot;abc123&quot;": "&quot;X-API-Key&quot;: &quot;***&quot;",
    }
    for given, expected in cases.items():
        assert scrub_text(given) == expected


def test_config_names_are_left_alone():
    assert scrub_text('"API_KEY": {"type": "env", "key": "API_KEY"}') == '"API_KEY": {"type": "env", "key": "API_KEY"}'


def test_url_passwords():
    assert scrub_text("postgresql://trader:s3cret@127.0.0.1:5432/aitrapp") == \
        "postgresql://trader:***@127.0.0.1:5432/aitrapp"
    assert scrub_text("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_short_secret_only_as_a_word():
    assert scrub_text("<div>ab</div> about ab", ["ab"]) == "<div>***</div> about ***"


def test_scrub_data_and_defang():
    data = {"headers": {"X-API-Key": "zzz"}, "list": ["tok123", 5], "tok123": True}
    assert scrub_data(data, ["tok123"]) == {"headers": {"X-API-Key": "***"}, "list": ["***", 5], "***": True}
    assert "://" not in defang_urls("see http://127.0.0.1:8000/ready and HTTPS://x")
