"""What Vigie checks, as plain data: one suite per landed table, one for the marts, one for
the configured commitments.

The suites are *generated*, never hand-written: the landing suites from
``connectors.landing_schemas`` (a column added to the landing contract is checked the next
night without touching this file), the commitments suite from ``cfg.all_commitments()``. This
module does not import Great Expectations (3 s of import time): it returns ``SuiteSpec``
objects that ``expectations.gx_context`` turns into GX suites, and whose fingerprint tells
whether the stored suite must be rewritten.

Severity (in each expectation's ``meta``):
- ``blocking``: the numbers of the night cannot be trusted (schema broken, ids missing, an
  enum value the models would misclassify, a mart that breaks its own keys). The run stops.
- ``warning``: suspicious data or a business finding (a breached commitment) that leaves the
  computation right. Shown in Data Docs and in the night's summary; the run goes on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from connectors.landing_schemas import ALL_TABLES, REJECTS, REJECTS_TABLE
from expectations.commitment_findings import percent
from vigie.config import CHANNELS, VigieConfig

BLOCKING = "blocking"
WARNING = "warning"
# GX 1.x's own ``severity`` field of an expectation, per Vigie severity: Data Docs show a failed
# warning as a warning (expectations.data_docs_severity), GX's summaries rank failures by it.
GX_SEVERITY = {BLOCKING: "critical", WARNING: "warning"}
# Bumped when the way a Check becomes a GX expectation changes (2: GX severity and
# description), so that suites stored by an earlier version are rewritten once.
SUITE_FORMAT = 2

# The table-level type check of a landed table (expectations.landing_types).
LANDING_TYPES = "ExpectTableColumnsToHaveLandingTypes"

# Suite parameter filled per batch by expectations.run (so a suite does not change nightly).
P_SOURCE_ID = "source_id"  # list with the batch's source id
# Columns expectations.run.landing_frame appends to every landed table it validates: the
# batch's night and that night's window of plausible timestamps, per row. Per row, not suite
# parameters, so that the batches of many nights validate in one frame with the same suite
# (the backfill's older nights, expectations.run.run_landing_checks; DECISIONLOG Part 6,
# "Landing checks of a backfill's older nights").
NIGHT_COLUMN = "vigie_night"  # the batch's day, ISO
WINDOW_START_COLUMN = "vigie_window_start"  # earliest plausible timestamp of the row's batch
WINDOW_END_COLUMN = "vigie_window_end"  # latest plausible timestamp of the row's batch
BATCH_COLUMNS = (NIGHT_COLUMN, WINDOW_START_COLUMN, WINDOW_END_COLUMN)

QUEUE_LOG_EVENTS_KNOWN = [
    # caller events (source-formats.md §2)
    "ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "EXITWITHTIMEOUT",
    "EXITWITHKEY", "EXITEMPTY", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER",
    "RINGNOANSWER", "RINGCANCELED",
    # member and system events
    "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL", "AGENTLOGIN",
    "AGENTLOGOFF", "PENALTY", "RINGINUSE", "QUEUESTART", "CONFIGRELOAD",
    # Wazo
    "FULL", "CLOSED", "JOINEMPTY", "LEAVEEMPTY", "DIVERT_CA_RATIO", "DIVERT_HOLDTIME",
    "WRAPUPSTART",
]  # fmt: skip
CDR_DISPOSITIONS = ["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION", "CANCEL"]
EMAIL_FOLDER_ROLES = ["inbox", "sent"]
EMAIL_AUTO_REASONS = ["auto-submitted", "x-autoreply", "x-autorespond", "precedence", "bounce", "spam", "list"]
EVALUATION_STATUSES = ["met", "missed", "overdue", "pending", "excluded"]
PERIOD_GRAINS = ["day", "week", "month"]
INDICATORS = ["compliance_rate", "requests_received", "requests_excluded"]

MART_COLUMNS: dict[str, list[str]] = {
    "requests": [
        "request_id", "request_ref", "source_system", "channel", "service_code", "received_at",
        "first_response_at", "acknowledged_at", "resolved_at", "requester_key", "is_excluded",
        "exclusion_reason",
    ],
    "commitment_evaluations": [
        "request_id", "request_ref", "commitment_id", "service_code", "channel", "received_at",
        "deadline_at", "responded_at", "elapsed_value", "elapsed_unit", "status",
        "exclusion_reason", "evaluated_as_of",
    ],
    "service_indicators": [
        "period_grain", "period_start", "period_end", "service_code", "channel", "commitment_id",
        "indicator", "numerator", "denominator", "value", "target_value", "target_unit",
        "threshold", "min_volume", "is_breached", "is_final", "evaluated_as_of",
    ],
}  # fmt: skip


@dataclass(frozen=True)
class Check:
    """One expectation: the GX class name, its keyword arguments, severity and a why.

    ``where`` is a conjunction of (column, operator, value) applied as a GX row condition.
    """

    expectation: str
    kwargs: dict[str, Any]
    severity: str
    why: str
    where: tuple[tuple[str, str, Any], ...] = ()
    extra_meta: dict[str, Any] = field(default_factory=dict)
    # Shown in Data Docs instead of GX's generated sentence (GX 1.x ``description``).
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "kwargs": self.kwargs,
            "severity": self.severity,
            "why": self.why,
            "where": [list(w) for w in self.where],
            "meta": self.extra_meta,
            "description": self.description,
        }


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    checks: tuple[Check, ...]
    # Columns GX reports for each unexpected row (to say which service/period failed).
    index_columns: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """Stable hash of the suite's content: unchanged fingerprint = no rewrite of the suite."""
        body = json.dumps(
            {"name": self.name, "checks": [c.as_json() for c in self.checks],
             "index": self.index_columns, "format": SUITE_FORMAT},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def columns_read(self) -> set[str]:
        """The columns whose values some check reads (its column arguments and its ``where``);
        a column-set check reads names only."""
        read: set[str] = set()
        for check in self.checks:
            for key in ("column", "column_A", "column_B"):
                if key in check.kwargs:
                    read.add(check.kwargs[key])
            read.update(check.kwargs.get("column_list", ()))
            read.update(w[0] for w in check.where)
        return read | set(self.index_columns)


def pandas_dtype(t: pa.DataType) -> Any:
    """pandas dtype a landed column is read as (``types_mapper`` of ``Table.to_pandas``).

    Nullable ``Int64`` and ``boolean`` keep integers and flags typed when they hold nulls
    (numpy would turn them into float64 / object); every other type keeps pandas' default
    (``str``, ``datetime64[us, UTC]``, ``object`` for lists). Not ``pd.ArrowDtype``: GX 1.24
    spends about 0.25 s per validation on ArrowDtype frames against 0.02 s on these.
    """
    import pandas as pd

    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


def _python_type(t: pa.DataType) -> str:
    """GX ``type_`` matching the ``.type`` of the dtype ``pandas_dtype`` gives the column."""
    if pa.types.is_timestamp(t):
        return "Timestamp"
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_list(t):
        return "object"  # lists arrive as object arrays; a list read as text would be 'str'
    if pa.types.is_floating(t):
        return "float64"
    raise ValueError(f"no GX type mapping for Arrow type {t}")


def _contract_type(t: pa.DataType) -> str:
    """An Arrow type in words for Data Docs, which put a description's text in the page as
    HTML: ``list of string``, not ``list<item: string>`` (read as a tag, hence invisible)."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"list of {_contract_type(t.value_type)}"
    return str(t)


def _not_null(column: str, severity: str, why: str) -> Check:
    return Check("ExpectColumnValuesToNotBeNull", {"column": column}, severity, why)


def _in_set(column: str, values: list[Any] | dict[str, str], severity: str, why: str) -> Check:
    return Check("ExpectColumnValuesToBeInSet", {"column": column, "value_set": values}, severity, why)


def _between(column: str, severity: str, why: str, lo: Any = None, hi: Any = None) -> Check:
    kwargs: dict[str, Any] = {"column": column}
    if lo is not None:
        kwargs["min_value"] = lo
    if hi is not None:
        kwargs["max_value"] = hi
    return Check("ExpectColumnValuesToBeBetween", kwargs, severity, why)


def _pair_ge(a: str, b: str, severity: str, why: str) -> Check:
    return Check(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
        severity,
        why,
    )


_IN_WINDOW = "the batch holds the records of its night (± tolerance); dbt ignores later ones anyway"
_NOT_AFTER = "a child row of the night's batch is dated before the night's end (± tolerance)"


def _window(column: str, severity: str, why: str, *, start: bool = True) -> list[Check]:
    """``column`` within its batch's night window (per-row bounds, BATCH_COLUMNS), nulls
    ignored; ``start=False``: not after the window's end only. The failure names ``column``."""
    def bound(a: str, b: str, text: str) -> Check:
        return Check(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
            severity, why, extra_meta={"column": column},
            description=f"{column} {text} of its batch's night window ({b if a == column else a}, ± tolerance)",
        )

    after_start = [bound(column, WINDOW_START_COLUMN, "not before the start")] if start else []
    return [*after_start, bound(WINDOW_END_COLUMN, column, "not after the end")]


def _unique_in_batch(column: str, why: str) -> Check:
    """``column`` unique within each batch (night): the same id may land again another night
    (GLPI's overlap), nulls ignored. The failure names ``column``."""
    return Check(
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": [column, NIGHT_COLUMN], "ignore_row_if": "any_value_is_missing"},
        BLOCKING, why, extra_meta={"column": column},
        description=f"{column} unique within its batch",
    )


def _table_rules(table: str) -> list[Check]:
    """Checks specific to one landed table (domain.md, source-formats.md)."""
    if table == "queue_log_events":
        return [
            _not_null("event_at", BLOCKING, "every queue_log line has an epoch"),
            _not_null("event", BLOCKING, "the call models branch on the event name"),
            *_window("event_at", WARNING, _IN_WINDOW),
            _in_set("event", QUEUE_LOG_EVENTS_KNOWN, WARNING, "an unknown event is ignored by the call models"),
            _between("source_line", WARNING, "line numbers start at 1", lo=1),
        ]
    if table == "cdr_legs":
        return [
            _not_null("start_at", BLOCKING, "a CDR leg without start cannot be placed in a night"),
            *_window("start_at", WARNING, _IN_WINDOW),
            _between("duration", WARNING, "durations are non-negative", lo=0),
            _between("billsec", WARNING, "durations are non-negative", lo=0),
            _pair_ge("duration", "billsec", WARNING, "billsec = end - answer <= duration = end - start"),
            _in_set("disposition", CDR_DISPOSITIONS, WARNING, "CDR dispositions of cdr_csv"),
        ]
    if table == "email_messages":
        return [
            _not_null("folder_role", BLOCKING, "threading needs to know inbox from sent"),
            _in_set("folder_role", EMAIL_FOLDER_ROLES, BLOCKING, "the email models know inbox and sent only"),
            _not_null("received_at", BLOCKING, "receipt starts the clock"),
            _not_null("service_code", BLOCKING, "a message belongs to its mailbox's service"),
            *_window("received_at", WARNING, _IN_WINDOW),
            _in_set("auto_reason", EMAIL_AUTO_REASONS, WARNING, "auto_reason values of domain.md §5"),
            _not_null("message_key", WARNING, "messages without Message-ID thread by the fallback only"),
        ]
    if table == "glpi_tickets":
        return [
            _not_null("id", BLOCKING, "ticket id makes the request id"),
            _unique_in_batch("id", "one row per ticket in a batch"),
            _not_null("date", BLOCKING, "ticket opening date starts the clock"),
            *_window("date_mod", WARNING, "tickets modified in [night - overlap_days, night end)"),
            _in_set("status", [1, 2, 3, 4, 5, 6], WARNING, "GLPI statuses 1..6"),
            _in_set("is_deleted", [0, 1], WARNING, "GLPI boolean"),
            _in_set("type", [1, 2], WARNING, "1 incident, 2 request"),
            _between("waiting_duration", WARNING, "durations are non-negative", lo=0),
            _between("takeintoaccount_delay_stat", WARNING, "durations are non-negative", lo=0),
            _between("solve_delay_stat", WARNING, "durations are non-negative", lo=0),
        ]
    if table in ("glpi_groups_tickets", "glpi_tickets_users"):
        return [
            _not_null("tickets_id", BLOCKING, "a link row names its ticket"),
            _in_set("type", [1, 2, 3], WARNING, "1 requester, 2 assigned, 3 observer"),
        ]
    if table == "glpi_itilfollowups":
        return [
            _not_null("items_id", BLOCKING, "a follow-up names its ticket"),
            _in_set("itemtype", ["Ticket"], WARNING, "only ticket follow-ups are landed"),
            _in_set("is_private", [0, 1], WARNING, "GLPI boolean"),
            *_window("date", WARNING, _NOT_AFTER, start=False),
        ]
    if table == "glpi_tickettasks":
        return [
            _not_null("tickets_id", BLOCKING, "a task names its ticket"),
            _in_set("is_private", [0, 1], WARNING, "GLPI boolean"),
            *_window("date", WARNING, _NOT_AFTER, start=False),
        ]
    if table == "glpi_itilsolutions":
        return [
            _not_null("items_id", BLOCKING, "a solution names its ticket"),
            _in_set("itemtype", ["Ticket"], WARNING, "only ticket solutions are landed"),
            *_window("date_creation", WARNING, _NOT_AFTER, start=False),
        ]
    if table == "glpi_ticketsatisfactions":
        return [
            _not_null("tickets_id", BLOCKING, "a survey names its ticket"),
            _between("satisfaction", WARNING, "scores are 0-5 (or 0-10)", lo=0, hi=10),
            *_window("date_answered", WARNING, _NOT_AFTER, start=False),
        ]
    if table == "glpi_logs":
        return [
            _not_null("items_id", BLOCKING, "a log row names its item"),
            *_window("date_mod", WARNING, _NOT_AFTER, start=False),
        ]
    if table == "register_requests":
        return [
            _not_null("request_id", BLOCKING, "the register's reference makes the request id"),
            _unique_in_batch("request_id", "one row per reference in a batch (the connector rejects repeats)"),
            _not_null("received_at", BLOCKING, "receipt starts the clock"),
            _in_set("channel", list(CHANNELS), BLOCKING, "the engine judges the channels of domain.md §3 only"),
            *_window("received_at", WARNING, _NOT_AFTER, start=False),
            _not_null("service_code", WARNING, "a letter whose service value is not mapped is judged by no commitment"),
            _pair_ge("first_response_at", "received_at", WARNING, "a response before receipt is excluded by the engine"),
            _pair_ge("resolved_at", "received_at", WARNING, "a resolution before receipt is excluded by the engine"),
        ]
    if table == "survey_responses":
        return [
            _not_null("response_id", BLOCKING, "one survey, one id"),
            _unique_in_batch("response_id", "one row per survey in a batch (the connector rejects repeats)"),
            _not_null("sent_at", BLOCKING, "the response rate counts surveys by the day they were sent"),
            *_window("sent_at", WARNING, _NOT_AFTER, start=False),
            _between("score", BLOCKING, "scores are read on the export's scale, never negative", lo=0),
            _pair_ge("scale", "score", BLOCKING, "a score above the scale would be a share above 100 %"),
            _pair_ge("answered_at", "sent_at", WARNING, "a survey is answered after it was sent"),
        ]
    if table == REJECTS_TABLE:
        return [
            _not_null("table_name", BLOCKING, "a reject names its table"),
            _not_null("reason", BLOCKING, "a reject says why"),
        ]
    return []


def landing_suite_name(table: str) -> str:
    return f"landing.{table}"


def landing_suite(table: str) -> SuiteSpec:
    """Suite for one landed table: contract columns in order, types, source id, table rules.

    Validated against ``expectations.run.landing_frame`` (the landed table plus BATCH_COLUMNS),
    one night's batch or the batches of several nights of one schema concatenated: every rule
    holds for the concatenation exactly when it holds for each batch (bounds and uniqueness
    are per batch)."""
    schema = REJECTS if table == REJECTS_TABLE else ALL_TABLES[table]
    checks: list[Check] = [
        Check(
            "ExpectTableColumnsToMatchOrderedList",
            {"column_list": [*schema.names, *BATCH_COLUMNS]},
            BLOCKING,
            "the landing contract (connectors/landing_schemas.py) fixes columns and order"
            " (then the batch's night and window, added by the check)",
        )
    ]
    # One table-level check for every column's type (expectations.landing_types: the verdict
    # of a per-column ExpectColumnValuesToBeOfType for each column, at the cost of one).
    checks.append(
        Check(
            LANDING_TYPES,
            {"column_types": {f.name: _python_type(f.type) for f in schema}},
            BLOCKING,
            "the landing contract (connectors/landing_schemas.py) fixes each column's type",
            description="each column has its landing contract type: "
            + ", ".join(f"{f.name} {_contract_type(f.type)}" for f in schema),
        )
    )
    checks.append(_not_null("source_id", BLOCKING, "every landed row names its source"))
    checks.append(
        _in_set("source_id", {"$PARAMETER": P_SOURCE_ID}, BLOCKING, "a batch holds its own source's rows only")
    )
    checks.extend(_table_rules(table))
    return SuiteSpec(name=landing_suite_name(table), checks=tuple(checks))


def mart_suites() -> list[SuiteSpec]:
    """Blocking integrity of the marts the BI tools and the alerts read."""
    def columns(mart: str) -> Check:
        return Check(
            "ExpectTableColumnsToMatchSet",
            {"column_set": MART_COLUMNS[mart], "exact_match": False},
            BLOCKING,
            "the BI contract (docs/bi.md) fixes these columns",
        )

    requests = SuiteSpec(
        "marts.requests",
        (
            columns("requests"),
            _not_null("request_id", BLOCKING, "request_id is the key"),
            Check("ExpectColumnValuesToBeUnique", {"column": "request_id"}, BLOCKING, "request_id is the key"),
            _not_null("request_ref", BLOCKING, "alerts reference requests by request_ref"),
            _in_set("channel", list(CHANNELS), BLOCKING, "channels of domain.md §2"),
        ),
    )
    evaluations = SuiteSpec(
        "marts.commitment_evaluations",
        (
            columns("commitment_evaluations"),
            Check(
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": ["request_id", "commitment_id"]},
                BLOCKING,
                "one evaluation per request and commitment",
            ),
            _not_null("status", BLOCKING, "every evaluation has a status"),
            _in_set("status", EVALUATION_STATUSES, BLOCKING, "statuses of domain.md §5"),
            _between("elapsed_value", WARNING, "elapsed values are non-negative", lo=0),
        ),
    )
    indicators = SuiteSpec(
        "marts.service_indicators",
        (
            columns("service_indicators"),
            _in_set("period_grain", PERIOD_GRAINS, BLOCKING, "grains day, week, month"),
            _in_set("indicator", INDICATORS, BLOCKING, "indicator names of the BI contract"),
            _pair_ge("denominator", "numerator", BLOCKING, "a rate's numerator never exceeds its denominator"),
            Check(
                "ExpectColumnValuesToBeBetween",
                {"column": "value", "min_value": 0, "max_value": 1},
                BLOCKING,
                "a compliance rate is a share",
                where=(("indicator", "==", "compliance_rate"),),
            ),
        ),
    )
    return [requests, evaluations, indicators]


COMMITMENTS_SUITE = "commitments"
COMMITMENT_INDEX_COLUMNS = ("service_code", "period_grain", "period_start")


def commitments_suite(cfg: VigieConfig) -> SuiteSpec:
    """One warning expectation per configured commitment: no breached period among tonight's.

    Validated against the compliance rows of ``marts.service_indicators`` whose period became
    final with the night (expectations.run._marts_present), so each breach is a finding once, on
    the night its period closes. Breached is the mart's ``is_breached`` (one definition, in
    dbt); ``finding`` is its sentence (expectations.commitment_findings), so Data Docs list
    "Accueil — semaine du 2 novembre 2026 : 80 % (8 sur 10) pour un seuil de 90 %", not margins.
    """
    checks = []
    latest = {c.id: c for c in cfg.all_commitments()}  # sorted by valid_from: the newest wins
    for c in sorted(latest.values(), key=lambda c: c.id):
        # One expectation per id, whatever its versions: each row's finding is worded with the
        # threshold of the version that judged it.
        rule = f"seuil {percent(c.threshold)}, volume minimal {c.min_volume} ({c.reference})"
        checks.append(
            Check(
                "ExpectColumnValuesToBeNull",
                {"column": "finding"},
                WARNING,
                f"{c.label} — {rule}",
                where=(("commitment_id", "==", c.id),),
                extra_meta={"commitment_id": c.id},
                description=(
                    f"{c.label} — {rule} : aucune période close cette nuit sous le seuil"
                    " (chaque valeur listée est une période où l'engagement n'a pas été tenu)"
                ),
            )
        )
    return SuiteSpec(COMMITMENTS_SUITE, tuple(checks), index_columns=COMMITMENT_INDEX_COLUMNS)
