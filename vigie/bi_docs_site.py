"""The dbt documentation site, built offline into the BI folder for analysts.

Why: an analyst who wonders what ``counted_on`` means or where ``compliance_rate`` comes from
should find the definition and the lineage (source -> staging -> engine -> mart -> dashboard,
the exposures of ``_bi_exposures.yml``) without reading the code or reaching a server.
``dbt docs generate --static`` writes one self-contained ``static_index.html`` (manifest and
catalog inlined): it opens from disk in a browser with no ``dbt docs serve`` and no internet.

The site goes to ``<folder of outputs.bi_snapshot>/dbt_docs/index.html``, replaced with
``os.replace`` (a reader gets the old page or the new one). dbt reads the warehouse for the
catalog (column types, row counts): run it where the warehouse may be opened (the Airflow pool
``vigie_duckdb``), after the night's transform.

    python -m vigie.bi_docs_site --config /etc/vigie/vigie.yml --day 2026-11-27
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
from pathlib import Path

from vigie.config import VigieConfig, load_config
from vigie.transform import run_dbt
from vigie.warehouse_config import warehouse_path

SITE_DIR = "dbt_docs"


def docs_dir(cfg: VigieConfig) -> Path:
    return cfg.path(cfg.outputs.bi_snapshot).parent / SITE_DIR


def build_dbt_docs(cfg: VigieConfig, day: dt.date) -> Path:
    """Generate the static dbt docs for night ``day``; return the path of its index.html."""
    run_dbt(cfg, day, ["docs", "generate", "--static"])
    generated = warehouse_path(cfg).parent / "dbt" / "target" / "static_index.html"
    if not generated.is_file():
        raise FileNotFoundError(f"dbt docs generate --static wrote no {generated}")
    folder = docs_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.html"
    tmp = folder / f".index.html.{os.getpid()}.tmp"
    shutil.copyfile(generated, tmp)
    os.replace(tmp, index)
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the dbt docs site into the BI folder.")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--day", required=True, type=dt.date.fromisoformat,
                        help="the night whose warehouse is described (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    print(build_dbt_docs(load_config(args.config), args.day))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
