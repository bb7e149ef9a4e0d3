"""The demo's pseudonymisation key: generated once into the demo configuration's key file.

Why a file and not a key built into ``vigie demo``: after ``make demo``, ``vigie run --config
config/vigie.yml --from D --to D`` must hash citizens exactly as the demo did (same keys, same
threads, same repeat callers), in another process. The demo configuration names
``pseudonymisation.key_file: ../var/secrets/pseudonymisation.key``; the first ``vigie demo``
writes a random key there (mode 0600, under ``var/``, which git ignores) and later runs reuse it.
A random key rather than a fixed one: a site that starts from the demo must never inherit a key
that is public.
"""

from __future__ import annotations

import os

from vigie.config import VigieConfig
from vigie.secrets import (
    PseudonymisationKeyMissing,
    env_var_name,
    find_pseudonymisation_key,
    key_file_path,
    write_new_key,
)


def ensure_demo_key(cfg: VigieConfig) -> str:
    """Make sure the demo has a key; return one line saying where it is (never the key).

    A key that is already found (environment, key file, connection) is kept. Otherwise, when the
    configuration names a ``key_file`` that does not exist yet (and no connection variable would
    be read before it), a new key is written there. Any other problem (an empty or short key
    file, no key_file and no key anywhere) is raised as is: the demo never replaces a key.
    """
    try:
        return f"pseudonymisation key: {find_pseudonymisation_key(cfg).origin}"
    except PseudonymisationKeyMissing:
        path = key_file_path(cfg)
        shadowed = os.environ.get(env_var_name(cfg.pseudonymisation.key_connection_id), "").strip()
        if path is None or path.exists() or shadowed:
            raise
    write_new_key(path)
    return f"pseudonymisation key: generated {path} (mode 0600; keep it with your backups)"
