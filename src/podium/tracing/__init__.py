"""Logfire tracing of podium runs: `instrument()` turns it on; secrets are redacted from every span."""

from ._redacting import install_redaction, remove_redaction
from ._tracing import Tracing, active_tracing, instrument, uninstrument

__all__ = ('Tracing', 'active_tracing', 'install_redaction', 'instrument', 'remove_redaction', 'uninstrument')
