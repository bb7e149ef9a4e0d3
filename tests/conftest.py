"""Shared test set-up: a test pseudonymisation key, isolated Airflow home, service probes."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent

os.environ.setdefault("VIGIE_PSEUDONYMISATION_KEY", "test-key-0123456789abcdef-not-secret")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def require_service(name: str, host: str, port: int) -> None:
    """Skip with a clear reason when a loopback service is absent; fail instead under CI=true."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        reason = f"{name} is not reachable on {host}:{port} ({exc}); start it to run this test"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


@pytest.fixture
def project_dir() -> Path:
    return PROJECT_DIR
