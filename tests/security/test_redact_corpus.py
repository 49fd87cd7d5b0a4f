"""`redact` measured on a corpus: nearly every realistic secret goes, nearly every ordinary message stays as it is.

The corpus (`secret_corpus.py`) holds secrets of every kind podium knows, each in the text it arrives in, and a thousand
generated support messages with none. docs/security.md quotes the numbers these tests hold.
"""

from __future__ import annotations

import pytest
from secret_corpus import ORDINARY, SECRETS, Secret

from podium._core._redact import _PATTERN, _replace, redact

MIN_REDACTED = 0.98
MAX_ALTERED = 0.01


def leftover(case: Secret) -> str | None:
    """The first 8-character piece of the secret still in the redacted text (and not in the text around it)."""
    redacted = redact(case.text)
    around = case.text.replace(case.secret, ' ')
    width = min(8, len(case.secret))
    for start in range(len(case.secret) - width + 1):
        piece = case.secret[start : start + width]
        if piece in redacted and piece not in around:
            return piece
    return None


def test_the_corpus_is_as_large_and_varied_as_documented():
    assert (len(SECRETS) >= 60, len({case.kind for case in SECRETS}) >= 25, len(ORDINARY)) == (True, True, 1000)
    assert all(case.secret in case.text for case in SECRETS)


def test_at_least_98_percent_of_the_secrets_are_redacted():
    missed = [f'{case.kind}: {case.text!r} keeps {leftover(case)!r}' for case in SECRETS if leftover(case)]

    assert 1 - len(missed) / len(SECRETS) >= MIN_REDACTED, '\n'.join(missed)


def test_at_most_1_percent_of_ordinary_messages_are_altered():
    altered = [f'{text!r} -> {redact(text)!r}' for text in ORDINARY if redact(text) != text]

    assert len(altered) / len(ORDINARY) <= MAX_ALTERED, '\n'.join(altered)


@pytest.mark.parametrize('case', SECRETS, ids=[f'{i}-{case.kind}' for i, case in enumerate(SECRETS)])
def test_each_redacted_secret_stays_redacted_and_the_quick_check_agrees(case: Secret):
    once = redact(case.text)

    assert (redact(once), once) == (once, _PATTERN.sub(_replace, case.text))
