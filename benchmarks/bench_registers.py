"""``make bench``: a courrier register export of ``--rows`` rows (default 20 000, a large city's
year of letters), read as a Windows-1252 CSV and as an XLSX by ``request_register.read_interval``
(one night's snapshot), and the GLPI connector on the machine's MariaDB if it is reachable.

Prints rows per second and the time of each read.

    python benchmarks/bench_registers.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from connectors.pseudonymise import Pseudonymiser  # noqa: E402
from connectors.registers import request_register  # noqa: E402
from vigie.config import parse_config  # noqa: E402
from vigie.intervals import night_for_day  # noqa: E402

DAY = dt.date(2026, 11, 16)
HEADER = ["N° enregistrement", "Date d'arrivée", "Expéditeur", "Objet", "Service", "Nature",
          "Date accusé", "Date de réponse"]


def rows(n: int) -> list[list[str]]:
    rng = random.Random(6)
    start = dt.datetime(2025, 11, 20, 8)
    out = []
    for i in range(n):
        received = start + dt.timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
        answered = received + dt.timedelta(days=rng.randrange(0, 30), hours=rng.randrange(0, 8))
        out.append([
            f"C-{i:06d}", received.strftime("%d/%m/%Y %H:%M"), f"Personne {i % 5000}",
            "Demande d'acte", rng.choice(["État civil", "Urbanisme", "CCAS"]),
            rng.choice(["Demande", "Réclamation"]), received.strftime("%d/%m/%Y"),
            answered.strftime("%d/%m/%Y %H:%M") if rng.random() < 0.8 else "",
        ])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    data = rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "courrier.csv").write_bytes(
            ("\r\n".join(";".join(r) for r in [HEADER, *data]) + "\r\n").encode("cp1252")
        )
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Registre")
        ws.append(HEADER)
        for r in data:
            ws.append(r)
        wb.save(root / "courrier.xlsx")
        for name in ("courrier.csv", "courrier.xlsx"):
            cfg = parse_config({
                "collectivite": {"name": "Bench", "timezone": "Europe/Paris",
                                 "data_team": {"name": "D", "email": "d@example.fr"}},
                "services": [{"code": c, "name": c, "opening_hours": [{"monday": ["08:30-12:00"]}]}
                             for c in ("ETAT_CIVIL", "URBANISME", "CCAS")],
                "sources": [{
                    "id": "courrier", "type": "request_register", "path": name,
                    "columns": {"request_id": HEADER[0], "received_at": HEADER[1],
                                "requester": HEADER[2], "service": HEADER[4], "category": HEADER[5],
                                "acknowledged_at": HEADER[6], "first_response_at": HEADER[7]},
                    "services": {"État civil": "ETAT_CIVIL", "Urbanisme": "URBANISME", "CCAS": "CCAS"},
                    "complaint_values": ["Réclamation"],
                }],
            }).model_copy(update={"base_dir": root})
            # Second read timed: the first one pays one-off imports (openpyxl, pyarrow).
            for _ in range(2):
                started = time.perf_counter()
                result = request_register.read_interval(
                    cfg, cfg.sources[0], night_for_day(DAY, "Europe/Paris"),
                    Pseudonymiser(b"bench-key-0123456789abcdef"),
                )
                elapsed = time.perf_counter() - started
            landed = result.tables["register_requests"].num_rows
            print(f"{name}: {args.rows} rows read, {landed} landed, {len(result.rejects)} rejects "
                  f"in {elapsed:.2f} s ({args.rows / elapsed:,.0f} rows/s)")


if __name__ == "__main__":
    main()
