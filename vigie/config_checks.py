"""What ``vigie check-config`` verifies beyond the file itself: that this host can run it.

A configuration can be valid YAML with every key right and still fail every night: the demo's
configuration mounted in a production image points at ``var/demo_sources/`` that does not exist
there, a Maildir folder is misspelt, the pseudonymisation key was never created, a named volume
came up owned by root. Each of these is found here, at check time, with the configuration key
to fix, instead of as a failed extract at 02:00.

Two families of checks:

- **host checks** (default; ``--skip-paths`` turns them off on a machine that is not the
  production host): every enabled source's files and folders exist and are readable (queue_log
  globs, Master.csv and its column layout, Maildir mailboxes and their folders with
  ``cur/ new/ tmp/``, mbox files, the GLPI SQLite file and its tables, register and survey exports
  and their mapped headers), the pseudonymisation key is found, and every output directory is
  writable;
- **connection checks** (``--connections``, in ``vigie/connection_checks.py``): each server
  the configuration names answers. Nothing is ever written or sent.

Where a connector already defines a check (the CDR layout, the register headers, the GLPI
tables, the IMAP folder encoding), it is called here, so a check and a night fail with the same
rule. Every finding is a :class:`Check`: ``problem`` (the night would fail), ``warning`` (it would
run, but something looks wrong) or ``ok``.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vigie.config import (
    AsteriskCdrCsvSource,
    AsteriskQueueLogSource,
    GlpiSqlSource,
    MaildirSource,
    MboxSource,
    RequestRegisterSource,
    SatisfactionSurveySource,
    VigieConfig,
)

Status = Literal["ok", "warning", "problem"]
MAILDIR_SUBDIRS = ("cur", "new", "tmp")
SKIP_HINT = "or run check-config with --skip-paths on a machine that is not the production host"


@dataclass(frozen=True)
class Check:
    """One finding: its status, the configuration key it is about, what was found and what to do."""

    status: Status
    where: str
    message: str


def ok(where: str, message: str) -> Check:
    return Check("ok", where, message)


def problem(where: str, message: str) -> Check:
    return Check("problem", where, message)


def warning(where: str, message: str) -> Check:
    return Check("warning", where, message)


def _shown(cfg: VigieConfig, raw: str) -> str:
    """The resolved path, with the configured text when it differs (relative paths)."""
    resolved = str(cfg.path(raw))
    return resolved if resolved == raw else f"{resolved} (configured as {raw!r})"


# -- host checks: files and folders ------------------------------------------------------------
def _matching_files(cfg: VigieConfig, raw: str) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(cfg.path(raw))) if Path(p).is_file())


def _unreadable(files: list[Path]) -> list[Path]:
    return [p for p in files if not os.access(p, os.R_OK)]


def _files_check(
    cfg: VigieConfig, where: str, raw: str, what: str, fix: str
) -> tuple[list[Path], Check | None]:
    """Files matching ``raw`` (a path or a glob); a problem when none or one is unreadable."""
    files = _matching_files(cfg, raw)
    if not files:
        return [], problem(where, f"no {what} at {_shown(cfg, raw)}: {fix}, {SKIP_HINT}")
    bad = _unreadable(files)
    if bad:
        return files, problem(
            where,
            f"{len(bad)} {what} file(s) not readable by this user (uid {os.geteuid()}): "
            f"{', '.join(map(str, bad[:3]))}; give the user that runs Vigie read access",
        )
    return files, None


def _check_queue_log(cfg: VigieConfig, s: AsteriskQueueLogSource) -> Iterator[Check]:
    where = f"sources[{s.id}].path"
    files, bad = _files_check(
        cfg, where, s.path, "queue_log file",
        "point path at the PBX's queue_log (a glob covers its rotations: "
        "/var/log/asterisk/queue_log*) mounted read-only",
    )
    yield bad or ok(where, f"{len(files)} file(s): {', '.join(p.name for p in files[:4])}")


def _check_cdr_csv(cfg: VigieConfig, s: AsteriskCdrCsvSource) -> Iterator[Check]:
    # The connector's own layout rule (columns / custom_columns against the file's first records).
    from connectors.extract import SourceUnavailable
    from connectors.telephony.asterisk_cdr_csv import _head_lines, _layout, _records

    where = f"sources[{s.id}].path"
    files, bad = _files_check(
        cfg, where, s.path, "CDR file",
        "point path at Asterisk's Master.csv (usually /var/log/asterisk/cdr-csv/Master.csv) "
        "mounted read-only",
    )
    if bad:
        yield bad
        return
    if len(files) > 1:
        yield problem(where, f"matches {len(files)} files; point it at Master.csv only")
        return
    try:
        head = _head_lines(s.id, files[0])
        records = _records(head, list(range(1, len(head) + 1)))
        names = _layout(s, files[0], records) if records else ()
    except SourceUnavailable as exc:
        key = "custom_columns" if s.custom_columns is not None else "columns"
        yield problem(f"sources[{s.id}].{key}", str(exc))
        return
    shape = f"{len(names)} columns" if names else "empty so far"
    yield ok(where, f"{files[0]} ({shape})")


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _check_maildir_folder(
    s: MaildirSource, where: str, mdir: Path, role: str, folder: str
) -> Check:
    """One folder, where the configured layout puts it (the connector's ``folder_dir``); when
    it is not there but the other layout holds it, that layout is named."""
    from connectors.email.maildir import folder_dir

    fdir = folder_dir(mdir, folder, s.layout)
    if _is_maildir(fdir):
        absent = [d for d in MAILDIR_SUBDIRS if not (fdir / d).is_dir()]
        if absent:
            return warning(
                where, f"{fdir} lacks {'/, '.join(absent)}/ (a Maildir folder has cur/, new/ "
                "and tmp/): is it a complete copy of the mailbox?"
            )
        return ok(where, f"{role} folder {folder!r}: {fdir}")
    other = "fs" if s.layout == "maildir++" else "maildir++"
    if _is_maildir(folder_dir(mdir, folder, other)):
        return problem(
            where, f"{role} folder {folder!r} is not at {fdir} ({s.layout} layout) but a "
            f"Maildir was found at {folder_dir(mdir, folder, other)} ({other} layout): set "
            f"sources[{s.id}].layout: {other}"
        )
    reads = "the service's replies are" if role == "sent" else "citizens' messages are"
    return problem(
        where, f"{role} folder {folder!r} not found at {fdir} (no cur/ or new/); {reads} "
        f"read from it: set it to the folder's name ({s.layout} layout), {SKIP_HINT}"
    )


def _check_maildir(cfg: VigieConfig, s: MaildirSource) -> Iterator[Check]:
    root = cfg.path(s.path)
    if not root.is_dir():
        yield problem(
            f"sources[{s.id}].path",
            f"no directory {_shown(cfg, s.path)}: point path at the directory that holds the "
            f"mailboxes (mounted read-only), {SKIP_HINT}",
        )
        return
    for mb in s.mailboxes:
        where = f"sources[{s.id}].mailboxes[{mb.name}]"
        mdir = root / mb.path
        if not mdir.is_dir():
            yield problem(
                f"{where}.path", f"no mailbox directory {mdir}: set path to the mailbox's "
                f"directory under {root}"
            )
            continue
        for role, folder in (("inbox", mb.inbox), ("sent", mb.sent)):
            yield _check_maildir_folder(s, f"{where}.{role}", mdir, role, folder)


def _check_mbox(cfg: VigieConfig, s: MboxSource) -> Iterator[Check]:
    root = cfg.path(s.path)
    if not root.is_dir():
        yield problem(
            f"sources[{s.id}].path",
            f"no directory {_shown(cfg, s.path)}: point path at the directory of the mbox "
            f"files, {SKIP_HINT}",
        )
        return
    for mb in s.mailboxes:
        for role, rel in (("inbox", mb.inbox), ("sent", mb.sent)):
            where = f"sources[{s.id}].mailboxes[{mb.name}].{role}"
            path = root / rel
            if not path.is_file():
                yield problem(where, f"no mbox file {path}: set {role} to the file's name under {root}")
            elif not os.access(path, os.R_OK):
                yield problem(where, f"{path} is not readable by uid {os.geteuid()}")
            else:
                yield ok(where, str(path))


def _check_glpi_file(cfg: VigieConfig, s: GlpiSqlSource) -> Iterator[Check]:
    from connectors.extract import SourceUnavailable
    from connectors.ticketing.glpi import make_engine, reflect_tables

    assert s.path is not None
    where = f"sources[{s.id}].path"
    if not cfg.path(s.path).is_file():
        yield problem(
            where, f"no SQLite file {_shown(cfg, s.path)}: a site reads GLPI through "
            f"connection_id (its MariaDB or PostgreSQL database) instead of path, {SKIP_HINT}"
        )
        return
    engine = make_engine(cfg, s)
    try:
        reflect_tables(engine, s.id)
    except SourceUnavailable as exc:
        yield problem(where, str(exc))
        return
    finally:
        engine.dispose()
    yield ok(where, f"{cfg.path(s.path)} (GLPI tables present)")


def _check_exports(
    cfg: VigieConfig, s: RequestRegisterSource | SatisfactionSurveySource
) -> Iterator[Check]:
    from connectors.extract import SourceUnavailable
    from connectors.registers.request_register import read_exports

    where = f"sources[{s.id}].path"
    files, bad = _files_check(
        cfg, where, s.path, "export file",
        "point path at the export (a glob such as exports/courrier-*.csv covers several) "
        "mounted read-only",
    )
    if bad:
        yield bad
        return
    try:
        read_exports(cfg, s)  # the connector's reading and header mapping
    except SourceUnavailable as exc:
        yield problem(f"sources[{s.id}].columns", str(exc))
        return
    yield ok(where, f"{len(files)} export file(s), mapped columns present")


SOURCE_PATH_CHECKS: dict[type, Callable[[VigieConfig, Any], Iterator[Check]]] = {
    AsteriskQueueLogSource: _check_queue_log,
    AsteriskCdrCsvSource: _check_cdr_csv,
    MaildirSource: _check_maildir,
    MboxSource: _check_mbox,
    RequestRegisterSource: _check_exports,
    SatisfactionSurveySource: _check_exports,
}


def check_source_paths(cfg: VigieConfig) -> list[Check]:
    """Every enabled source's files and folders (sources reached by connection: none here)."""
    out: list[Check] = []
    for s in cfg.sources:
        if not s.enabled:
            continue
        if isinstance(s, GlpiSqlSource):
            if s.path is not None:
                out.extend(_check_glpi_file(cfg, s))
            continue
        check = SOURCE_PATH_CHECKS.get(type(s))
        if check is not None:
            out.extend(check(cfg, s))
    return out


# -- host checks: the key and the outputs -------------------------------------------------------
def check_key(cfg: VigieConfig) -> list[Check]:
    """The pseudonymisation key is found (where from; never the key itself)."""
    from vigie.secrets import PseudonymisationKeyMissing, find_pseudonymisation_key, key_file_path

    where = "pseudonymisation"
    try:
        found = find_pseudonymisation_key(cfg)
    except PseudonymisationKeyMissing as exc:
        return [problem(where, str(exc))]
    out = [ok(where, f"key found in {found.origin}")]
    path = key_file_path(cfg)
    if path is not None and path.is_file():
        if found.origin != f"the file {path}":
            if path.read_bytes().strip() != found.key:
                out.append(warning(
                    f"{where}.key_file", f"{path} holds another key than {found.origin}, which "
                    "wins: processes without that variable would hash citizens differently; "
                    "keep one key"
                ))
        elif path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            out.append(warning(
                f"{where}.key_file", f"{path} is readable by other users "
                f"(mode {stat.S_IMODE(path.stat().st_mode):o}): chmod 600 {path}"
            ))
    return out


def _writable_dir(path: Path) -> tuple[bool, Path]:
    """(can this user create or write ``path``, the directory that decides it)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK), probe


def check_outputs(cfg: VigieConfig) -> list[Check]:
    """Each output directory exists or can be created, and is writable by this user."""
    out = cfg.outputs
    dirs = {
        "outputs.warehouse": cfg.path(out.warehouse).parent,
        "outputs.landing": cfg.path(out.landing),
        "outputs.bi_snapshot": cfg.path(out.bi_snapshot).parent,
        "outputs.data_docs": cfg.path(out.data_docs),
        "outputs.gx_project": cfg.path(out.gx_project),
        "outputs.outbox": cfg.path(out.outbox),
    }
    checks = []
    for where, path in dirs.items():
        writable, decided_by = _writable_dir(path)
        if writable:
            checks.append(ok(where, f"{path} writable"))
        else:
            checks.append(problem(
                where, f"{path} cannot be written by uid {os.geteuid()} ({decided_by} is not a "
                "writable directory): a volume that came up owned by root needs chown to the "
                "user that runs Vigie"
            ))
    return checks


def check_host(cfg: VigieConfig) -> list[Check]:
    """Everything that depends on this host's files: sources, key, outputs."""
    return check_source_paths(cfg) + check_key(cfg) + check_outputs(cfg)
