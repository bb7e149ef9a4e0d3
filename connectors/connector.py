"""What a connector module is: the interface ``connectors.extract`` calls, stated once.

A source type's connector is a module (``SourceType.connector`` in vigie/source_types.py),
imported only when a source of that type runs, so a site without GLPI never imports its driver.
The module implements :class:`Connector`; a connector that keeps a read state which must move
only once the night's batch is safely on disk (IMAP's last UIDs) also implements
:class:`AdvancesAfterLanding`. Why protocols and not a base class: a module is the natural unit
here (functions, no instance state), and a ``typing.Protocol`` lets ``load_connector`` check
and type a module without the connectors inheriting anything.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from vigie.source_types import source_type

if TYPE_CHECKING:
    from connectors.landing import ExtractResult
    from connectors.pseudonymise import Pseudonymiser
    from vigie.config import VigieConfig
    from vigie.intervals import NightInterval


@runtime_checkable
class Connector(Protocol):
    """Reads one night of one source."""

    def read_interval(
        self, cfg: VigieConfig, source: Any, night: NightInterval, pseudo: Pseudonymiser
    ) -> ExtractResult:
        """Read what the source knows of ``night`` (its local day; some types re-read a margin
        before it, see each module) and return the tables of its type, pseudonymised with
        ``pseudo``: no citizen identity in any column, ``*_key`` columns are keyed hashes.

        ``source`` is the source's configuration model (the registry's ``SourceType.model``).
        Bad records become ``Reject`` rows (position and reason, never the raw record); a
        source that cannot be read at all raises ``connectors.extract.SourceUnavailable`` (or
        an ``OSError``) naming what to fix. Must not write to the landing: ``extract_source``
        lands the result atomically, so a failure leaves the previous batch whole."""
        ...


@runtime_checkable
class AdvancesAfterLanding(Protocol):
    """A connector whose read state moves forward only once its batch has landed."""

    def after_landing(self, cfg: VigieConfig, source: Any, day: dt.date, result: ExtractResult) -> None:
        """Save the read state ``result`` reached (e.g. ``result.meta``); called by
        ``extract_source`` right after the batch of night ``day`` landed, never when reading or
        landing failed, so a failed night is read again from the same state."""
        ...


def load_connector(type_name: str) -> Connector:
    """Import the connector module of a registered source type and check its interface."""
    module = importlib.import_module(source_type(type_name).connector)
    if not isinstance(module, Connector):
        raise TypeError(f"{module.__name__} (connector of {type_name!r}) has no read_interval")
    return module
