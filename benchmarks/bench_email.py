"""``make bench``: the IMAP connector against a throwaway Dovecot holding 200 000 messages.

Loads ``--messages`` messages (default 200 000) straight into the server's Maildir (one file per
message, mtime = delivery time = INTERNALDATE, all on one night), lets Dovecot index them (a
first EXAMINE + UID SEARCH, timed apart), then measures in the same run, each in its own child
process (so that each peak memory is its own):

1. the floor: a bare ``imaplib`` ``UID FETCH`` of the same items (UID, INTERNALDATE and the same
   ``BODY.PEEK[HEADER.FIELDS (...)]``) in the same batches, nothing parsed;
2. Vigie: ``connectors.email.imap.read_interval`` for that night (fetch, parse, pseudonymise,
   build the Arrow table), first read of the folder.

Prints messages per second and peak memory (max RSS) of each. Needs dovecot installed.

    python benchmarks/bench_email.py [--messages 200000] [--batch 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR / "tests" / "fixtures" / "email"))
sys.path.insert(0, str(PROJECT_DIR))

from dovecot_server import DovecotServer, dovecot_available  # noqa: E402

DAY = dt.date(2026, 11, 16)
CONN = "vigie_bench_imap"


def _message(i: int) -> bytes:
    reply = f"In-Reply-To: <req{i - 1}@exemple.fr>\r\nReferences: <req{i - 1}@exemple.fr>\r\n"
    return (
        f"Return-Path: <citoyen{i % 5000}@exemple.fr>\r\n"
        f"Received: from mx.exemple.fr by mx1.val-de-vigie.fr; Mon, 16 Nov 2026 09:00:00 +0100\r\n"
        f"From: Citoyen {i} <citoyen{i % 5000}@exemple.fr>\r\n"
        f"To: etat-civil@val-de-vigie.fr\r\n"
        f"Subject: RE: Demande d'acte de naissance n°{i % 20000}\r\n"
        f"Message-ID: <req{i}@exemple.fr>\r\n"
        + (reply if i % 3 == 0 else "")
        + "Date: Mon, 16 Nov 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Bonjour,\r\nje souhaite obtenir un acte.\r\nCordialement.\r\n"
    ).encode()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor(host: str, port: int, user: str, password: str, batch: int, q: mp.Queue) -> None:
    import imaplib

    from connectors.email.imap import FETCH_ITEMS

    start = time.perf_counter()
    conn = imaplib.IMAP4(host, port)
    conn.login(user, password)
    conn.select("INBOX", readonly=True)
    _, data = conn.uid("SEARCH", "ALL")
    uids = data[0].split()
    n = 0
    for i in range(0, len(uids), batch):
        _, items = conn.uid("FETCH", b",".join(uids[i : i + batch]).decode(), FETCH_ITEMS)
        n += sum(1 for it in items if isinstance(it, tuple))
    conn.logout()
    q.put({"messages": n, "seconds": time.perf_counter() - start, "peak_mb": _peak_mb()})


def _vigie(workdir: str, batch: int, q: mp.Queue) -> None:
    from connectors.email import imap
    from connectors.pseudonymise import Pseudonymiser
    from vigie.config import parse_config
    from vigie.intervals import night_for_day

    cfg = parse_config({
        "collectivite": {
            "name": "Bench", "timezone": "Europe/Paris",
            "internal_email_domains": ["val-de-vigie.fr"],
            "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"},
        },
        "services": [{"code": "ETAT_CIVIL", "name": "État civil",
                      "opening_hours": [{"monday": ["08:30-12:00"]}]}],
        "sources": [{"id": "bench_imap", "type": "imap", "connection_id": CONN,
                     "fetch_batch": batch, "mailboxes": [
                         {"name": "etat-civil", "service": "ETAT_CIVIL", "sent": "Sent"}]}],
        "outputs": {"landing": f"{workdir}/landing", "warehouse": f"{workdir}/w.duckdb"},
    })
    pseudo = Pseudonymiser(b"bench-key-0123456789abcdef-not-secret")
    start = time.perf_counter()
    result = imap.read_interval(cfg, cfg.sources[0], night_for_day(DAY, "Europe/Paris"), pseudo)
    q.put({
        "messages": result.tables["email_messages"].num_rows,
        "rejects": len(result.rejects),
        "seconds": time.perf_counter() - start,
        "peak_mb": _peak_mb(),
    })


def _child(target, *args) -> dict:  # noqa: ANN001
    q: mp.Queue = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    if not dovecot_available():
        print("bench_email: dovecot is not installed (apt-get install dovecot-imapd); skipped")
        return
    with tempfile.TemporaryDirectory(prefix="vigie-bench-email-") as workdir:
        os.chmod(workdir, 0o755)  # the mail user (nobody when run as root) must traverse it
        server = DovecotServer(Path(workdir) / "dovecot")
        server.start()
        try:
            t = time.perf_counter()
            night_start = dt.datetime(2026, 11, 15, 23, 0, tzinfo=dt.UTC)  # 16 Nov 00:00 Paris
            step = 86_000 / args.messages
            server.write_maildir("INBOX", [
                (night_start + dt.timedelta(seconds=i * step), _message(i))
                for i in range(args.messages)
            ])
            server.write_maildir("Sent", [])
            load_s = time.perf_counter() - t
            t = time.perf_counter()
            conn = server.connect()
            conn.select("INBOX", readonly=True)
            conn.uid("SEARCH", "ALL")
            conn.logout()
            index_s = time.perf_counter() - t
            os.environ[f"AIRFLOW_CONN_{CONN.upper()}"] = json.dumps({
                "host": server.host, "port": server.port, "login": server.user,
                "password": server.password, "extra": {"security": "none"}})
            floor = _child(_floor, server.host, server.port, server.user, server.password,
                           args.batch)
            vigie = _child(_vigie, workdir, args.batch)
            # figures first: removing 200 000 files takes minutes on some file systems
            _report(args.messages, load_s, index_s, floor, vigie)
        finally:
            server.cleanup()


def _report(messages: int, load_s: float, index_s: float, floor: dict, vigie: dict) -> None:
    print(f"messages in Dovecot: {messages} (written as Maildir in {load_s:.1f} s, "
          f"indexed by the first EXAMINE in {index_s:.1f} s)")
    for name, r in (("floor: bare imaplib UID FETCH", floor),
                    ("vigie imap.read_interval", vigie)):
        print(f"{name:32s} {r['messages']:>8d} msgs  {r['seconds']:7.1f} s  "
              f"{r['messages'] / r['seconds']:8.0f} msg/s  peak {r['peak_mb']:.0f} MB")
    print(f"vigie / floor time: {vigie['seconds'] / floor['seconds']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
