"""Logfire tracing of podium runs: `instrument()` turns it on; secrets are redacted from every span."""

from ._redacting import install_redaction, remove_redaction
from ._tracing import Tracing, instrument, uninstrument

__all__ = ('Tracing', 'install_redaction', 'instrument', 'remove_redaction', 'uninstrument')
