"""Keyed pseudonymisation and secret resolution."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pytest

from connectors.pseudonymise import (
    PseudonymisationKeyMissing,
    Pseudonymiser,
    mask_digit_runs,
    normalise_email,
    normalise_phone,
)
from vigie.secrets import get_connection

KEY = b"0123456789abcdef-test"


def test_key_is_hmac_sha256_of_kind_and_value():
    expected = hmac.new(KEY, b"phone:+33612345678", hashlib.sha256).hexdigest()
    assert Pseudonymiser(KEY).key("phone", "+33612345678") == expected
    assert Pseudonymiser(KEY).key("phone", None) is None


def test_keys_are_stable_for_a_key_and_differ_with_another_key_or_kind():
    a, a2, b = Pseudonymiser(KEY), Pseudonymiser(KEY), Pseudonymiser(b"another-key-0123456789")
    assert a.phone("0612345678") == a2.phone("0612345678")
    assert a.phone("0612345678") != b.phone("0612345678")
    assert a.key("agent", "1001") != a.key("phone", "1001")
    assert len(a.phone("0612345678") or "") == 64


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("0612345678", "+33612345678"),
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("33612345678", "+33612345678"),
        ("0590123456", "+590590123456"),  # Guadeloupe uses +590
        ("0692123456", "+262692123456"),  # Réunion mobile
        ("1001", "1001"),  # internal extension
        ("anonymous", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_normalisation(raw, canonical):
    assert normalise_phone(raw) == canonical


def test_email_normalisation():
    assert normalise_email('"Alice Martin" <Alice.Martin@Mairie.FR>') == "alice.martin@mairie.fr"
    p = Pseudonymiser(KEY)
    assert p.email("Alice.Martin@Mairie.FR") == p.email("<alice.martin@mairie.fr>")
    assert p.email("") is None


def test_arrays_hash_like_single_values():
    p = Pseudonymiser(KEY)
    values = pa.array(["0612345678", None, "+33612345678", "anonymous", "0612345678"])
    assert p.phone_array(values).to_pylist() == [p.phone(v) for v in values.to_pylist()]
    assert p.key_array("agent", pa.chunked_array([["SIP/1", None]])).to_pylist() == [
        p.key("agent", "SIP/1"),
        None,
    ]


def test_mask_digit_runs():
    assert mask_digit_runs("Local/0612345678@from-queue") == "Local/XXXXXXXXXX@from-queue"
    assert mask_digit_runs("SIP/1001") == "SIP/1001"
    assert mask_digit_runs("123456") == "XXXXXX"
    assert mask_digit_runs(None) is None


def test_short_key_is_refused():
    with pytest.raises(PseudonymisationKeyMissing, match="at least 16 bytes"):
        Pseudonymiser(b"short")


def test_key_from_environment(monkeypatch, bare_cfg):
    monkeypatch.setenv("VIGIE_PSEUDONYMISATION_KEY", KEY.decode())
    cfg = bare_cfg
    assert Pseudonymiser.from_config(cfg).phone("0612345678") == Pseudonymiser(KEY).phone(
        "0612345678"
    )


@pytest.mark.parametrize(
    "value",
    [
        "generic://:0123456789abcdef-test@",
        '{"conn_type": "generic", "password": "0123456789abcdef-test"}',
    ],
)
def test_key_from_airflow_connection_env(monkeypatch, bare_cfg, value):
    monkeypatch.delenv("VIGIE_PSEUDONYMISATION_KEY", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_PSEUDONYMISATION", value)
    cfg = bare_cfg
    assert Pseudonymiser.from_config(cfg).phone("0612345678") == Pseudonymiser(KEY).phone(
        "0612345678"
    )


def test_connection_without_password_fails_clearly(monkeypatch, bare_cfg):
    monkeypatch.delenv("VIGIE_PSEUDONYMISATION_KEY", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_PSEUDONYMISATION", "generic://host")
    with pytest.raises(
        PseudonymisationKeyMissing, match="'vigie_pseudonymisation' has no password"
    ):
        Pseudonymiser.from_config(bare_cfg)


def test_uri_connection_fields(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_GLPI_DB",
        "mysql://reader:p%40ss@db.example:3306/glpi?charset=utf8mb4",
    )
    conn = get_connection("glpi_db")
    assert (conn.conn_type, conn.host, conn.port, conn.login, conn.password, conn.schema) == (
        "mysql", "db.example", 3306, "reader", "p@ss", "glpi",
    )  # fmt: skip
    assert conn.extra == {"charset": "utf8mb4"}
    assert "p@ss" not in repr(conn)
