"""Logfire tracing of podium runs: `instrument()` turns it on."""

from ._tracing import Tracing, active_tracing, instrument, uninstrument

__all__ = ('Tracing', 'active_tracing', 'instrument', 'uninstrument')
