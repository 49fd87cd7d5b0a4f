"""Secret-looking values out of the text podium writes: records, error messages, durable summaries and spans.

Provider SDKs put the HTTP response body in their errors, and bodies (and proxies) echo what was sent: the API key,
an `Authorization` header, the prompt. Logfire scrubs attribute values by key, but not exception messages, stack
traces or span status descriptions, so everything podium turns an exception into passes through `redact` first.
"""

from __future__ import annotations

import re

__all__ = ('MARKER', 'describe', 'redact')

MARKER = '[REDACTED]'
"""What a secret is replaced with."""

# Names whose value is a secret, grouped by first letter (the engine then rejects most words at once). A match
# starts after any non-alphanumeric, so `x-api-key`, `OPENAI_API_KEY`, `client_secret` and `aws_secret_access_key`
# are found by their last part; the prefixes here are for joined spellings (`apiKey`, `accessToken`). A name never
# runs on: `max_tokens` and `token_count` are no secrets.
_NAMES = r"""
    a(?:pi[_-]?(?:key|token)|ccess[_-]?(?:key(?:[_-]?id)?|token)|uth[_-]?token|uthorization)
    | s(?:ecret(?:[_-]?key)?|igning[_-]?key|ession[_-]?(?:key|token))
    | p(?:rivate[_-]?key|assw(?:or)?d|assphrase|wd)
    | c(?:lient[_-]?(?:secret|key)|redentials?|srf[_-]?token)
    | token | xsrf[_-]?token | encryption[_-]?key | master[_-]?key | refresh[_-]?token | id[_-]?token
"""

# A value as it is written after `name:` or `name=`: JSON or Python quoted, JSON quoted inside a JSON string, or bare
# up to the next delimiter. A value that is already the marker is left alone, so redacting twice changes nothing.
_VALUE = r"""
    (?!\\?["']?\[REDACTED\])
    (?: "(?:[^"\\\n]|\\.)*"
      | \\"(?:[^"\\]|\\[^"])*\\"
      | '(?:[^'\\\n]|\\.)*'
      | [^\s"'&,;{}\[\]()<>\\]+
    )
"""

_PATTERN = re.compile(
    rf"""
    (?<![A-Za-z0-9])  # every shape starts a word: one check skips most positions
    (?: (?P<pem>-----BEGIN[A-Z\ ]*PRIVATE\ KEY-----
            (?:(?s:.*?)-----END[A-Z\ ]*PRIVATE\ KEY-----|[A-Za-z0-9+/=\s\\]*))
      | (?P<pair>(?:(?i:{_NAMES})|(?<=[?&])(?i:key|sig|signature))(?![\w-])\\?["']?[\ \t]*[:=][\ \t]*
            (?>(?i:(?:bearer|basic|token|digest)[\ \t]+)?))(?P<value>{_VALUE})
      | (?P<userinfo>(?<=://)[^/\s:@"']+:)(?!\[REDACTED\]@)[^/\s@"']+(?=@)
      | (?<![_-])(?P<bearer>(?i:bearer)[\ \t]+)(?=[\w.~+/=-]*[0-9])[\w.~+/=-]{{8,}}
      | (?<![_-])(?:
            sk-[\w-]{{16,}}
          | [sr]k_(?:live|test)_[A-Za-z0-9]{{16,}}
          | (?:AKIA|ASIA)[A-Z0-9]{{16}}
          | gh[pousr]_[A-Za-z0-9]{{20,}}
          | github_pat_\w{{20,}}
          | AIza[\w-]{{35}}
          | xox[abposr]-[A-Za-z0-9-]{{10,}}
          | eyJ[\w-]{{8,}}\.[\w-]{{8,}}\.[\w-]*
        )
    )
    """,
    re.VERBOSE | re.ASCII,
)


# A quick check that a text may hold a secret, far cheaper than the pattern: in the lowercased text, every shape
# above contains one of these substrings, or ends a secret's name right before its separator.
_SHAPE_ANCHORS = (
    *('sk-', 'k_live_', 'k_test_', 'akia', 'asia', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'aiza'),
    *('xox', 'eyj', '://', 'bearer', 'private key'),
)
_NAME_ANCHOR = re.compile(
    r"""(?:key(?:[_-]?id)?|token|secret|authorization|passw(?:or)?d|passphrase|pwd|credentials?|sig(?:nature)?)"""
    r"""\\?["']?[ \t]*[:=]"""
)

# Texts found clean, so the attribute values every span repeats (templates, schemas, names) are checked once.
_CLEAN_MAX_LEN = 1024
_CLEAN_MAX_COUNT = 4096
_clean: dict[str, None] = {}


def redact(text: str) -> str:
    """`text` with every secret-looking value replaced by `[REDACTED]`; `text` itself when there is none.

    Covers API keys (OpenAI, Anthropic, AWS, GitHub, Google, Slack, Stripe), JWTs, bearer tokens, PEM private
    keys, passwords in URLs, and the values of `api_key`, `token`, `secret`, `password`, `credential`,
    `private_key` and `Authorization` in JSON, Python reprs, headers and query strings. Everything else stays, so a
    redacted provider error still says what went wrong.
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
        if value.startswith('\\"'):
            return f'{pair}\\"{MARKER}\\"'
        if value[0] in '"\'':
            return f'{pair}{value[0]}{MARKER}{value[0]}'
        return pair + MARKER
    head = match['bearer'] or match['userinfo'] or ''
    return head + MARKER
