"""Secret-looking values out of the text podium writes: records, error messages, durable summaries and spans.

Provider SDKs put the HTTP response body in their errors, and bodies (and proxies) echo what was sent: the API key,
an `Authorization` header, the prompt. Logfire scrubs attribute values by key, but not exception messages, stack
traces or span status descriptions, so everything podium turns an exception into passes through `redact` first.
"""

from __future__ import annotations

# Hand-written patterns rather than a maintained detector: detect-secrets' default rule set, measured by
# bench/redact.py on the corpus of tests/security/secret_corpus.py, costs about 200 times as much per KB, finds
# fewer of the secrets (95%, it knows no camelCase names, escaped JSON or YAML values on the next line) and alters
# every ordinary message (its entropy rules take order ids, UUIDs and SHAs for secrets). It scans files line by line
# for review; podium needs every secret out of every error message and record, on the hot path, and nothing else.
import re

__all__ = ('MARKER', 'describe', 'redact')

MARKER = '[REDACTED]'
"""What a secret is replaced with."""

# Names whose value is a secret, grouped by first letter (the engine then rejects most words at once). A match
# starts after any non-alphanumeric, so `x-api-key`, `OPENAI_API_KEY`, `client_secret` and `aws_secret_access_key`
# are found by their last part, or at a capital after a lowercase letter, so `dbPassword`, `apiSecret` and
# `awsSecretAccessKey` are found by theirs; the prefixes here are for joined spellings (`apikey`, `accesstoken`). A
# name never runs on: `max_tokens`, `maxTokens` and `token_count` are no secrets.
_NAMES = r"""
    a(?:pi[_-]?(?:key|token|secret)|ccess[_-]?(?:key(?:[_-]?id)?|token)|uth[_-]?token|uthorization|ccount[_-]?key)
    | s(?:ecret(?:[_-]?key)?|igning[_-]?key|ession(?:[_-]?(?:id|key|token))?|hared[_-]?access[_-]?key|id)
    | p(?:rivate[_-]?key|ass(?:w(?:or)?d|phrase)?|wd|w|hpsessid|gpassword)
    | c(?:lient[_-]?(?:secret|key)|redentials?|srf[_-]?token)
    | token | xsrf[_-]?token | encryption[_-]?key | master[_-]?key | refresh[_-]?token | id[_-]?token | jsessionid
"""

# A value as it is written after `name:` or `name=`: JSON or Python quoted, JSON quoted inside JSON strings (any
# depth of escaping), or bare up to the next delimiter. A value that is already the marker is left alone, so
# redacting twice changes nothing.
_VALUE = r"""
    (?!\\*["']?\[REDACTED\])
    (?: "(?:[^"\\\n]|\\.)*"
      | '(?:[^'\\\n]|\\.)*'
      | (?P<escaped>\\+["']).*?(?P=escaped)
      | (?>[^\s"'&,;{}\[\]()<>\\]+)(?![\ \t]+\[REDACTED\])  # not a header's scheme before its redacted value
    )
"""

# Where a name is followed by its separator: `name: v`, `name=v`, `"name": "v"`, `\"name\": \"v\"`, and a YAML
# `name:` whose value is on the next, indented line (a nested mapping, `name:\n  key: v`, is no value). Atomic, so
# a value found redacted is not looked for again in the separator.
_SEPARATOR = r"""
    (?![\w-])(?>\\*["']?[\ \t]*
    (?: =[\ \t]* | :(?:[\ \t]*[|>][-+]?)?(?:[\ \t]*\r?\n[\ \t]+(?![\w-]+:))?[\ \t]* ))
"""

_PATTERN = re.compile(
    rf"""
    (?: (?<![A-Za-z0-9])  # every shape starts a word: one check skips most positions
      | (?=[A-Z][a-z])(?<=[a-z0-9])  # or a camelCase name's capitalised part
      | (?=[0-9])(?<=/bot)  # or a Telegram bot token in its URL
    )
    (?: (?P<pem>-----BEGIN[A-Z\ ]*PRIVATE\ KEY(?:\ BLOCK)?-----
            (?:(?s:.*?)-----END[A-Z\ ]*PRIVATE\ KEY(?:\ BLOCK)?-----|[A-Za-z0-9+/=\s\\]*))
      | (?P<header>(?i:(?:proxy-)?authorization|(?:set-)?cookie)
            (?>[\ \t]*:[\ \t]*(?:[A-Za-z][\w.-]*[\ \t]+(?=[^\s\\]))?))
            (?!\[REDACTED\])[^\s"'\\](?:[^\r\n"'\\]*[^\s"'\\])?
      | (?P<pair>(?:(?i:{_NAMES})|(?<=[?&])(?i:key|sig)|(?i:signature|credential)(?==)|(?<=[A-Z0-9]_)KEY)
            {_SEPARATOR}(?>(?i:(?:bearer|basic|token|digest)[\ \t]+)?))(?P<value>{_VALUE})
      | (?P<userinfo>(?<=://)[^/\s:@"']*:)(?!\[REDACTED\]@)[^/\s@"']+(?=@)
      | (?<![_-])(?P<bearer>(?i:bearer)[\ \t]+)(?!\[REDACTED\])
            (?=[\w.~+/=-]*[0-9]|[\w.~+/=-]+[A-Z]|[\w.~+/=-]{{20}})[\w.~+/=-]{{8,}}
      | (?<![_-])(?:
            sk-[\w-]{{16,}}
          | [sr]k_(?:live|test)_[A-Za-z0-9]{{16,}}
          | whsec_[A-Za-z0-9]{{24,}}
          | (?:AKIA|ASIA)[A-Z0-9]{{16}}
          | gh[pousr]_[A-Za-z0-9]{{20,}}
          | github_pat_\w{{20,}}
          | gl(?:pat|dt|rt|ptt|oas)-[\w-]{{20,}}
          | AIza[\w-]{{35}}
          | ya29\.[\w-]{{20,}}
          | GOCSPX-[\w-]{{20,}}
          | xox[abposre]-[A-Za-z0-9-]{{10,}}
          | xapp-[\w-]{{20,}}
          | T[A-Z0-9]{{8,}}/B[A-Z0-9]{{8,}}/[A-Za-z0-9]{{24}}
          | SG\.[\w-]{{16,}}\.[\w-]{{30,}}
          | npm_[A-Za-z0-9]{{36}}
          | pypi-AgE[\w-]{{50,}}
          | hf_[A-Za-z0-9]{{30,}}
          | do[por]_v1_[a-f0-9]{{64}}
          | shp(?:at|ca|pa|ss)_[a-fA-F0-9]{{32}}
          | [\w~.-]{{3}}\dQ~[\w~.-]{{31,34}}
          | \d{{8,10}}:AA[\w-]{{33}}
          | eyJ[\w-]{{8,}}\.[\w-]{{8,}}\.[\w-]*
        )
    )
    """,
    re.VERBOSE | re.ASCII,
)


# A quick check that a text may hold a secret, far cheaper than the pattern: in the lowercased text, every shape
# above contains one of these substrings, or ends a secret's name right before its separator.
_SHAPE_ANCHORS = (
    *('sk-', 'k_live_', 'k_test_', 'whsec_', 'akia', 'asia', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'),
    *('glpat-', 'gldt-', 'glrt-', 'glptt-', 'gloas-', 'aiza', 'ya29.', 'gocspx-', 'xox', 'xapp-', 'sg.', 'npm_'),
    *('pypi-', 'hf_', '_v1_', 'shp', 'q~', ':aa', 'eyj', '://', 'bearer', 'private key', 'authorization', 'cookie'),
)
_NAME_ANCHOR = re.compile(
    r"""(?:key(?:[_-]?id)?|token|secret|passw(?:or)?d|pass|passphrase|pwd|pw|credentials?|sig(?:nature)?"""
    r"""|session(?:[_-]?id)?|sessid|sessionid|sid)\\*["']?[ \t]*[:=]"""
)

# Texts found clean, so the attribute values every span repeats (templates, schemas, names) are checked once.
_CLEAN_MAX_LEN = 1024
_CLEAN_MAX_COUNT = 4096
_clean: dict[str, None] = {}


def redact(text: str) -> str:
    """`text` with every secret-looking value replaced by `[REDACTED]`; `text` itself when there is none.

    Covers API keys by shape (OpenAI, Anthropic, AWS, GitHub, GitLab, Google, Azure, Slack, Stripe and more), JWTs,
    bearer tokens, PEM private keys, passwords in URLs, `Authorization` and cookie headers of any scheme, and the
    values of `api_key`, `token`, `secret`, `password`, `credential`, `private_key`, session ids and the like, in
    any case style, in JSON (escaped too), YAML, Python reprs, headers and query strings. Everything else stays, so
    a redacted provider error still says what went wrong.
    """
    cacheable = len(text) <= _CLEAN_MAX_LEN
    if cacheable and text in _clean:
        return text
    if _may_hold_secret(text):
        redacted = _PATTERN.sub(_replace, text)  # `text` itself when nothing matched
        if redacted is not text:
            return redacted
    if cacheable:
        if len(_clean) >= _CLEAN_MAX_COUNT:
            _clean.clear()
        _clean[text] = None
    return text


def describe(exc: object) -> str:
    """`ExceptionClass: message` with secrets redacted, as records and error messages show an exception."""
    try:
        message = str(exc)
    except Exception:  # an exception whose `__str__` raises still has a class worth recording
        return type(exc).__name__
    return f'{type(exc).__name__}: {redact(message)}'


def _may_hold_secret(text: str) -> bool:
    lowered = text.lower()
    for anchor in _SHAPE_ANCHORS:  # a loop, not any(): this runs for every new attribute value of every span
        if anchor in lowered:
            return True
    return _NAME_ANCHOR.search(lowered) is not None


def _replace(match: re.Match[str]) -> str:
    pair = match['pair']
    if pair is not None:
        value = match['value']
        escaped = match['escaped']
        if escaped is not None:
            return f'{pair}{escaped}{MARKER}{escaped}'
        if value[0] in '"\'':
            return f'{pair}{value[0]}{MARKER}{value[0]}'
        return pair + MARKER
    head = match['header'] or match['bearer'] or match['userinfo'] or ''
    return head + MARKER
