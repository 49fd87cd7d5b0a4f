"""What `redact` costs per KB of text, against detect-secrets' rule set doing the same job on the same corpus.

    python bench/redact.py [--repeat 5]

The texts are the corpus of tests/security/secret_corpus.py: the secrets in their surrounding text, and a thousand
ordinary support messages (the common case: most text podium redacts holds no secret). `redact` runs with its
clean-text memo cleared before each pass, so every text is scanned, not looked up. detect-secrets (when installed;
it is no dependency of podium) scans each line with all its default plugins and filters, and its secrets are then
replaced in the text, which is what redaction would need from it. Its share of the corpus' secrets it finds is
printed too, and the share of ordinary messages each alters. The last line of stdout is JSON: `podium_us_per_kb`,
`podium_ordinary_us_per_kb`, `podium_found`, `podium_ordinary_altered` and the same four for `detect_secrets_`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / 'src'), str(ROOT / 'tests' / 'security')]

from secret_corpus import ORDINARY, SECRETS  # noqa: E402

from podium._core import _redact  # noqa: E402


def podium_redact(text: str) -> str:
    _redact._clean.clear()  # pyright: ignore[reportPrivateUsage]  # measure the scan, not the memo
    return _redact.redact(text)


def detect_secrets_redactor() -> Callable[[str], str] | None:
    try:
        from detect_secrets.core.scan import scan_line  # pyright: ignore[reportMissingImports]
        from detect_secrets.settings import default_settings  # pyright: ignore[reportMissingImports]
    except ImportError:
        return None
    settings: Any = default_settings()  # a context manager, entered for the rest of the process
    settings.__enter__()

    def redact(text: str, _settings: Any = settings) -> str:  # holds the context, which restores on collection
        for line in text.splitlines():
            for found in scan_line(line):
                if found.secret_value:
                    text = text.replace(found.secret_value, _redact.MARKER)
        return text

    return redact


def us_per_kb(redact: Callable[[str], str], texts: Sequence[str], repeat: int) -> float:
    size_kb = sum(len(text.encode()) for text in texts) / 1024
    best = float('inf')
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            redact(text)
        best = min(best, time.perf_counter() - start)
    return round(best * 1e6 / size_kb, 1)


def found(redact: Callable[[str], str]) -> float:
    return round(sum(case.secret not in redact(case.text) for case in SECRETS) / len(SECRETS), 3)


def altered(redact: Callable[[str], str]) -> float:
    return round(sum(redact(text) != text for text in ORDINARY) / len(ORDINARY), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    everything = [*(case.text for case in SECRETS), *ORDINARY]
    result: dict[str, float | None] = {
        'podium_us_per_kb': us_per_kb(podium_redact, everything, args.repeat),
        'podium_ordinary_us_per_kb': us_per_kb(podium_redact, ORDINARY, args.repeat),
        'podium_found': found(podium_redact),
        'podium_ordinary_altered': altered(podium_redact),
    }
    other = detect_secrets_redactor()
    result |= {
        'detect_secrets_us_per_kb': None if other is None else us_per_kb(other, everything, 1),
        'detect_secrets_ordinary_us_per_kb': None if other is None else us_per_kb(other, ORDINARY, 1),
        'detect_secrets_found': None if other is None else found(other),
        'detect_secrets_ordinary_altered': None if other is None else altered(other),
    }
    for name, value in result.items():
        print(f'{name:36} {value}')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
