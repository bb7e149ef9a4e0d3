"""Keyed pseudonymisation of citizen identifiers (domain.md §6).

Every phone number, email address or other identifier that could name a citizen is replaced at
ingestion by ``HMAC-SHA256(key, f"{kind}:{value}")`` in hex. A keyed hash, not a plain one: the
phone-number space is small enough (about 10^9 French numbers) to be enumerated in minutes, so
only secrecy of the key protects the citizens; hence the key comes from a secret (environment or
Airflow connection), never from the configuration file, and must be at least 16 bytes long.
The ``kind`` prefix keeps a value that is both an agent id and a phone number from linking.

Values are normalised before hashing so that the same caller links across formats:
``+33 6 12 34 56 78``, ``0033612345678``, ``06.12.34.56.78`` and ``33612345678`` all give the
key of ``+33612345678``; an address is hashed as its lower-cased addr-spec.

Connectors hash whole Arrow columns with :meth:`Pseudonymiser.key_array` /
:meth:`Pseudonymiser.phone_array`, which hash each *distinct* value once (a queue log of five
million lines has a few thousand distinct callers).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from email.utils import parseaddr
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

# Where the key is found, its minimum length and the error are defined once, in vigie.secrets
# (re-exported here for the connectors and their tests).
from vigie.secrets import KEY_ENV as KEY_ENV
from vigie.secrets import MIN_KEY_BYTES, PseudonymisationKeyMissing

if TYPE_CHECKING:
    from vigie.config import VigieConfig

# National prefixes (after the trunk 0) of the overseas departments, which use their own
# country codes: 0590 12 34 56 is +590 590 12 34 56, not +33 590...
# fmt: off
_OVERSEAS_PREFIX = {
    "590": "590", "690": "590", "691": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "594": "594", "694": "594",  # Guyane
    "596": "596", "696": "596", "697": "596",  # Martinique
    "262": "262", "692": "262", "693": "262",  # La Réunion
    "269": "262", "639": "262",  # Mayotte
}
# fmt: on
_STRIP = re.compile(r"[\s.\-()/]")
_DIALABLE = re.compile(r"^\+?\d+$")


def normalise_phone(number: str | None) -> str | None:
    """Canonical form of a phone number, or None when it holds no number (anonymous, empty).

    French national numbers become E.164 (``0612345678`` -> ``+33612345678``); ``00`` becomes
    ``+``; an 11-digit ``33...`` (trunks that drop the ``+``) becomes ``+33...``; short internal
    extensions (``1001``) stay as they are.
    """
    if number is None:
        return None
    s = _STRIP.sub("", number)
    if not s or not _DIALABLE.match(s):
        return None
    if s.startswith("+"):
        return s
    if s.startswith("00") and len(s) > 4:
        return "+" + s[2:]
    if len(s) == 10 and s[0] == "0" and s[1] != "0":
        national = s[1:]
        return "+" + _OVERSEAS_PREFIX.get(national[:3], "33") + national
    if len(s) == 11 and s.startswith("33") and s[2] != "0":
        return "+" + s
    return s


def normalise_email(address: str | None) -> str | None:
    """Lower-cased addr-spec (``"Alice" <Alice@Mairie.FR>`` -> ``alice@mairie.fr``), or None."""
    if address is None:
        return None
    _, addr = parseaddr(address)
    addr = addr.strip().lower()
    return addr or None


class Pseudonymiser:
    """Turns identifiers into stable keyed digests; one instance per run, key held in memory."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
            raise PseudonymisationKeyMissing(
                f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes long "
                "(a short key lets anyone enumerate phone numbers against the keys); generate "
                "one with: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        self._key = bytes(key)

    def __repr__(self) -> str:  # never show the key
        return "Pseudonymiser(<key hidden>)"

    @classmethod
    def from_config(cls, cfg: VigieConfig) -> Pseudonymiser:
        """Key from env ``VIGIE_PSEUDONYMISATION_KEY``, else ``pseudonymisation.key_file``, else
        the password of the Airflow connection ``key_connection_id`` (vigie.secrets)."""
        from vigie.secrets import pseudonymisation_key

        return cls(pseudonymisation_key(cfg))

    # -- one value ---------------------------------------------------------------------
    def key(self, kind: str, value: str | None) -> str | None:
        """Hex HMAC-SHA256 of ``f"{kind}:{value}"``; None stays None."""
        if value is None:
            return None
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def phone(self, number: str | None) -> str | None:
        return self.key("phone", normalise_phone(number))

    def email(self, address: str | None) -> str | None:
        return self.key("email", normalise_email(address))

    # -- whole columns (hash each distinct value once) ---------------------------------
    def _map_distinct(
        self, values: pa.Array | pa.ChunkedArray, fn: Callable[[str | None], str | None]
    ) -> pa.Array:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        values = values.cast(pa.string())
        encoded = pc.dictionary_encode(values)
        mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], type=pa.string())
        return mapped.take(encoded.indices)

    def key_array(self, kind: str, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return self._map_distinct(values, lambda v: self.key(kind, v))

    def phone_array(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return self._map_distinct(values, self.phone)

    def email_array(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return self._map_distinct(values, self.email)


_LONG_DIGITS = re.compile(r"\d{6,}")


def mask_digit_runs(value: str | None) -> str | None:
    """Replace every run of 6 or more digits by as many ``X`` (``SIP/0612345678-1`` ->
    ``SIP/XXXXXXXXXX-1``): a dialled number inside a channel name or a transfer target is a
    citizen's phone number; extensions (3-5 digits) and counters stay readable."""
    if value is None:
        return None
    return _LONG_DIGITS.sub(lambda m: "X" * len(m.group(0)), value)


def mask_digit_runs_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`mask_digit_runs` over a column, computed once per distinct value."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values.cast(pa.string()))
    mapped = pa.array(
        [mask_digit_runs(v) for v in encoded.dictionary.to_pylist()], type=pa.string()
    )
    return mapped.take(encoded.indices)
