"""Load and validate a Vigie configuration file.

One YAML file describes a collectivité: its calendar, services, commitments, sources and
outputs (docs/configuration.md documents every key). Validation is strict (unknown keys are
errors) because a typo in a commitment silently changes every number Vigie shows; each error
names the file, the dotted key and what was expected.

Secrets never sit here: sources and outputs name Airflow connection ids, resolved at run time
by ``vigie.secrets``.

This module only imports pydantic and yaml so that DAG files may use it at parse time.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from vigie.commitment_presets import PRESET_ENTRIES

CHANNELS = ("phone", "email", "online", "letter", "counter", "other")
Channel = Literal["phone", "email", "online", "letter", "counter", "other"]
TARGET_UNITS = (
    "seconds",
    "business_minutes",
    "business_hours",
    "business_days",
    "working_days",
    "calendar_days",
    "weeks",
)
TargetUnit = Literal[
    "seconds",
    "business_minutes",
    "business_hours",
    "business_days",
    "working_days",
    "calendar_days",
    "weeks",
]
# What a commitment measures. Phone: first_response is the agent's CONNECT, so "picked up
# within 20 s" is first_response/seconds/20 and the pickup rate is first_response with no target.
Metric = Literal["first_response", "acknowledgement", "resolution"]
# Which requests of its channel a commitment judges (None: all of them). Only what a source
# classifies: GLPI complaint_categories and register complaint_values set is_complaint; no source
# classifies suggestions yet, so 'suggestion' is not a kind (docs/configuration.md).
RequestKind = Literal["complaint"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CDR_COLUMN_NAMES = frozenset(
    "accountcode src dst dcontext clid channel dstchannel lastapp lastdata start answer end "
    "duration billsec disposition amaflags uniqueid userfield peeraccount linkedid sequence".split()
)

_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class ConfigError(ValueError):
    """A configuration file that cannot be used; ``problems`` lists (key, message) pairs."""

    def __init__(self, path: Path | str, problems: list[tuple[str, str]]):
        self.path = str(path)
        self.problems = problems
        lines = [f"{self.path}: {key}: {msg}" for key, msg in problems]
        super().__init__("invalid configuration\n" + "\n".join(lines))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Strict):
    name: str
    email: str

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, v: str) -> str:
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v):
            raise ValueError(f"expected an email address such as chef@mairie.fr, got {v!r}")
        return v


class Closure(_Strict):
    """One closed day (a pont, an exceptional closure), or a range with ``until``."""

    date: dt.date
    until: dt.date | None = None
    reason: str = "fermeture"

    def days(self) -> list[dt.date]:
        end = self.until or self.date
        return [self.date + dt.timedelta(days=i) for i in range((end - self.date).days + 1)]


def _check_ranges(ranges: list[str]) -> list[str]:
    previous_end = -1
    for r in ranges:
        m = _RANGE.match(r)
        if not m:
            raise ValueError(f"expected opening ranges like '08:30-12:00', got {r!r}")
        start = int(m.group(1)) * 60 + int(m.group(2))
        end = int(m.group(3)) * 60 + int(m.group(4))
        if end > 24 * 60 or end <= start:
            raise ValueError(f"range {r!r} must end after it starts, at 24:00 at the latest")
        if start < previous_end:
            raise ValueError(f"range {r!r} overlaps or precedes the range before it")
        previous_end = end
    return ranges


DayRanges = Annotated[list[str], Field(default_factory=list)]


class OpeningHours(_Strict):
    """Opening hours of one service from ``valid_from`` until the next version (split ranges)."""

    valid_from: dt.date = dt.date(2000, 1, 1)
    monday: DayRanges
    tuesday: DayRanges
    wednesday: DayRanges
    thursday: DayRanges
    friday: DayRanges
    saturday: DayRanges
    sunday: DayRanges

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        return _check_ranges(v)

    def ranges_for(self, weekday: int) -> list[tuple[int, int]]:
        """(start, end) in minutes after local midnight for a weekday (0 = Monday)."""
        out = []
        for r in getattr(self, WEEKDAYS[weekday]):
            m = _RANGE.match(r)
            assert m
            out.append(
                (int(m.group(1)) * 60 + int(m.group(2)), int(m.group(3)) * 60 + int(m.group(4)))
            )
        return out


class Service(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    name: str
    head: Person | None = None
    deputies: list[Person] = Field(default_factory=list)
    opening_hours: list[OpeningHours] = Field(min_length=1)
    closures: list[Closure] = Field(default_factory=list)

    @field_validator("opening_hours")
    @classmethod
    def _versions_in_order(cls, v: list[OpeningHours]) -> list[OpeningHours]:
        dates = [o.valid_from for o in v]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("versions must have distinct valid_from dates in increasing order")
        return v


class Target(_Strict):
    value: float = Field(gt=0)
    unit: TargetUnit


class Commitment(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    label: str
    channel: Channel
    metric: Metric = "first_response"
    target: Target | None = None  # None: any response meets it (pickup rate)
    threshold: float = Field(ge=0, le=1)
    min_volume: int = Field(default=1, ge=1)
    services: list[str] | Literal["all"] = "all"
    # None: every request of the channel; 'complaint': only requests classified as complaints
    request_kind: RequestKind | None = None
    valid_from: dt.date = dt.date(2000, 1, 1)
    valid_to: dt.date | None = None  # exclusive: the first day it no longer applies
    reference: str = "local"

    @model_validator(mode="after")
    def _dates(self) -> Commitment:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from (valid_to is exclusive)")
        if self.target is not None and self.target.unit == "seconds" and self.channel != "phone":
            raise ValueError("unit 'seconds' (wall-clock wait) is for phone commitments only")
        judges_calls_only = self.channel == "phone" and (self.target is None or self.target.unit == "seconds")
        if self.request_kind is not None and judges_calls_only:
            # such a commitment judges calls only, and no telephony source classifies a call
            raise ValueError(
                f"request_kind {self.request_kind!r} cannot scope a phone commitment in seconds or "
                "without a target: calls are never classified (only tickets and registers are)"
            )
        return self


# The ready-made commitments (vigie/commitment_presets.py), validated as a site's own are.
PRESETS: dict[str, list[Commitment]] = {
    name: [Commitment.model_validate(entry) for entry in entries]
    for name, entries in PRESET_ENTRIES.items()
}


# Alsace and Moselle: the package knows '57' (Moselle) and '6AE' (Collectivité européenne
# d'Alsace, ex-67 and 68). Configurations may name the old department numbers.
SUBDIVISION_ALIASES = {"67": "6AE", "68": "6AE"}


class Holidays(_Strict):
    country: Literal["FR"] = "FR"
    subdivision: str | None = None  # '57', '6AE', '971'... (holidays.France subdivisions)
    worked: list[dt.date] = Field(default_factory=list)  # e.g. Whit Monday as journée de solidarité

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, value: str | None) -> str | None:
        """Refused at load time, not at the first night's transform (the package raises then)."""
        if value is None:
            return value
        import holidays  # imported only when a configuration names a subdivision

        known = {*holidays.France.subdivisions, *holidays.France.subdivisions_aliases}
        if SUBDIVISION_ALIASES.get(value, value) not in known:
            codes = sorted({*holidays.France.subdivisions, *SUBDIVISION_ALIASES})
            raise ValueError(f"unknown subdivision {value!r}; holidays.France knows {codes}")
        return value


class Collectivite(_Strict):
    name: str
    timezone: str = "Europe/Paris"
    holidays: Holidays = Holidays()
    closures: list[Closure] = Field(default_factory=list)
    internal_email_domains: list[str] = Field(default_factory=list)
    data_team: Person

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except Exception as exc:  # any failure means unknown zone
            raise ValueError(f"expected an IANA time zone such as Europe/Paris, got {v!r}") from exc
        return v


class SourceModel(_Strict):
    """Keys every source type shares; each type's model adds its own and its ``type`` literal
    (the registry of types and what they land: vigie/source_types.py)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    enabled: bool = True
    # What people call the source ("Standard téléphonique", "Messagerie de la mairie"): shown
    # to the data team and service heads instead of the id. None: the id.
    name: str | None = Field(default=None, min_length=1, max_length=120)

    @property
    def display_name(self) -> str:
        return self.name or self.id


class AsteriskQueueLogSource(SourceModel):
    type: Literal["asterisk_queue_log"]
    path: str  # a file, or a glob of rotated files (queue_log, queue_log.1 ...)
    queues: dict[str, str]  # queue name -> service code
    short_abandon_seconds: int = Field(default=5, ge=0)
    # An ENTERQUEUE with no closing event is closed (ended_at) this long after its last entry.
    orphan_close_seconds: int = Field(default=3600, ge=1)
    # Saved read positions (<landing>/<id>/_state.json) and their safety margin, in seconds.
    incremental: bool = True
    overlap_seconds: int = Field(default=3600, ge=0)


class AsteriskQueueLogSqlSource(SourceModel):
    """Asterisk realtime queue_log table (PostgreSQL, MySQL/MariaDB) through SQLAlchemy."""

    type: Literal["asterisk_queue_log_sql"]
    connection_id: str  # Airflow connection to the database (read-only session)
    table: str = "queue_log"
    # Zone of the naive `time` column: None = the collectivité's zone (Asterisk's default);
    # "UTC" when queue_log_realtime_use_gmt=yes.
    timezone: str | None = None
    queues: dict[str, str]  # queue name -> service code
    short_abandon_seconds: int = Field(default=5, ge=0)
    orphan_close_seconds: int = Field(default=3600, ge=1)


class _CdrCallModel(_Strict):
    """Keys of the CDR-only call model (sites without a queue_log; DECISIONLOG.md Part 3).

    A call (legs sharing a linkedid) is a request of the service its first leg's ``dcontext``
    maps to; it is answered when a leg whose ``dstchannel`` matches ``agent_channel_pattern``
    (a regular expression, e.g. ``^PJSIP/1\\d\\d-``) was answered. Mapping by context, not by
    dialled number: ``dst`` is HMAC-hashed at landing and the config tables have no key.
    """

    services_by_dcontext: dict[str, str] = Field(default_factory=dict)
    agent_channel_pattern: str | None = None

    @model_validator(mode="after")
    def _agent_pattern(self) -> _CdrCallModel:
        if self.services_by_dcontext and not self.agent_channel_pattern:
            raise ValueError("services_by_dcontext needs agent_channel_pattern (which legs are agents)")
        if self.agent_channel_pattern is not None:
            try:
                re.compile(self.agent_channel_pattern)
            except re.error as exc:
                raise ValueError(f"agent_channel_pattern is not a regular expression: {exc}") from exc
        return self


class AsteriskCdrSqlSource(SourceModel, _CdrCallModel):
    """Asterisk SQL cdr table (Asterisk start/answer/"end" or FreePBX calldate schema)."""

    type: Literal["asterisk_cdr_sql"]
    connection_id: str  # Airflow connection to the CDR database (read-only session)
    table: str = "cdr"
    timezone: str | None = None  # zone of naive timestamps; None = the collectivité's


class WazoCdrSource(SourceModel, _CdrCallModel):
    """Wazo call-logd GET /1.0/cdr (token: the password of the Airflow connection).

    A CDR-only Wazo site maps ``call_direction`` (landed as ``dcontext``: ``inbound``) to a
    service and marks agents with ``agent_channel_pattern: ^wazo/user/`` (the connector lands
    ``wazo/user/<extension>`` when a user was the destination; DECISIONLOG.md Part 3 §3b)."""

    type: Literal["wazo_cdr"]
    connection_id: str  # https://:TOKEN@wazo.example:443/api/call-logd
    page_size: int = Field(default=1000, ge=1, le=1000)
    timeout_seconds: float = Field(default=60, gt=0)
    verify_tls: bool = True


class AsteriskCdrCsvSource(SourceModel, _CdrCallModel):
    type: Literal["asterisk_cdr_csv"]
    path: str
    # Required, never guessed: cdr.conf's usegmtime=yes (Asterisk's sample config) writes UTC,
    # Asterisk's own default writes the server's local time; a wrong guess shifts every call.
    timezone: str
    columns: Literal["auto", 16, 17, 18, 21] = "auto"
    # cdr_custom: the file's column list (cdr_custom.conf mapping order); "-" skips a column.
    custom_columns: list[str] | None = None
    # Saved read positions (<landing>/<id>/_state.json): a night reads its few days of bytes.
    incremental: bool = True

    @field_validator("custom_columns")
    @classmethod
    def _known_columns(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        known = CDR_COLUMN_NAMES
        unknown = [c for c in value if c != "-" and c not in known]
        if unknown:
            raise ValueError(f"unknown CDR column(s) {unknown}; use {sorted(known)} or '-'")
        if "start" not in value:
            raise ValueError("custom_columns must include 'start' (the night is chosen by it)")
        named = [c for c in value if c != "-"]
        if len(named) != len(set(named)):
            raise ValueError("custom_columns names a column twice")
        return value


class Mailbox(_Strict):
    name: str
    path: str  # Maildir folder of this mailbox, relative to the source path
    service: str
    inbox: str = "INBOX"
    sent: str = "Sent"
    address: str | None = None


class MaildirSource(SourceModel):
    type: Literal["maildir"]
    path: str
    mailboxes: list[Mailbox] = Field(min_length=1)
    # Where folders live in a mailbox directory: "maildir++" (Dovecot/Courier default: INBOX is
    # the mailbox directory, folder F is .F) or "fs" (<mailbox>/INBOX, <mailbox>/Sent as sibling
    # Maildirs: mbsync/isync, offlineimap, Dovecot LAYOUT=fs).
    layout: Literal["maildir++", "fs"] = "maildir++"


class ImapMailbox(_Strict):
    """One mailbox read over IMAP: folder names as the server shows them (non-ASCII allowed,
    sent in modified UTF-7), credentials from its own connection or the source's."""

    name: str
    service: str
    inbox: str = "INBOX"
    sent: str = "Sent"
    address: str | None = None
    connection_id: str | None = None  # default: the source's connection_id


class ImapSource(SourceModel):
    type: Literal["imap"]
    connection_id: str  # Airflow connection: host, port, login, password; extra.security
    mailboxes: list[ImapMailbox] = Field(min_length=1)
    fetch_batch: int = Field(default=500, ge=1, le=10000)  # UIDs per UID FETCH command
    timeout_seconds: float = Field(default=60.0, gt=0)


class MboxMailbox(_Strict):
    name: str
    service: str
    inbox: str  # mbox file of received messages, relative to the source path
    sent: str  # mbox file of the service's sent messages
    address: str | None = None


class MboxSource(SourceModel):
    type: Literal["mbox"]
    path: str
    mailboxes: list[MboxMailbox] = Field(min_length=1)


DEFAULT_REQUEST_TYPES: dict[int, Channel] = {
    1: "online",
    2: "email",
    3: "phone",
    4: "counter",
    5: "letter",
    6: "other",
}


class GlpiSqlSource(SourceModel):
    type: Literal["glpi_sql"]
    path: str | None = None  # a SQLite file (demo, tests)
    connection_id: str | None = None  # an Airflow connection to the GLPI database (read-only)
    timezone: str = "UTC"  # zone of GLPI's naive timestamps
    request_types: dict[int, Channel] = Field(default_factory=lambda: dict(DEFAULT_REQUEST_TYPES))
    groups: dict[int, str] = Field(default_factory=dict)  # glpi_groups.id -> service code
    categories: dict[int, str] = Field(default_factory=dict)  # fallback: itilcategories.id
    overlap_days: int = Field(default=1, ge=0)
    # glpi_entities.id of the collectivité's entities; tickets of other entities (another
    # commune of a shared instance) are never read. None = every entity.
    entities: list[int] | None = Field(default=None, min_length=1)
    complaint_categories: list[int] = Field(default_factory=list)  # itilcategories.id = complaints
    # Link to a ticket in digests, "{id}" replaced by the ticket number, e.g.
    # "https://glpi.mairie.fr/front/ticket.form.php?id={id}". None: the number alone.
    ticket_url: str | None = Field(default=None, pattern=r"^https?://\S*\{id\}\S*$")

    @field_validator("request_types")
    @classmethod
    def _over_defaults(cls, value: dict[int, Channel]) -> dict[int, Channel]:
        """Site entries override or add to GLPI's defaults (1-6): a site that adds its type 7
        « Courrier recommandé » need not restate the six others."""
        return {**DEFAULT_REQUEST_TYPES, **value}

    @model_validator(mode="after")
    def _one_location(self) -> GlpiSqlSource:
        if (self.path is None) == (self.connection_id is None):
            raise ValueError("give exactly one of 'path' (SQLite file) or 'connection_id'")
        return self


# -- tabular exports: courrier registers and satisfaction surveys (CSV or XLSX) -------------
class _TabularSource(SourceModel):
    path: str  # one export file, or a glob of several (.csv, .txt or .xlsx)
    sheet: str | None = None  # XLSX sheet name; default the first sheet
    encoding: Literal["auto", "utf-8", "latin-1", "cp1252"] = "auto"  # auto: BOM, UTF-8, else 1252
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)  # auto: ; , or tab
    timezone: str | None = None  # zone of the dates; None = the collectivité's
    lookback_days: int = Field(default=400, ge=1)  # rows received earlier are not landed
    channels: dict[str, Channel] = Field(default_factory=dict)  # channel cell value -> channel
    services: dict[str, str] = Field(default_factory=dict)  # service cell value -> service code


class RegisterColumns(_Strict):
    """Header of each field in the export (exact text of the header cell)."""

    request_id: str
    received_at: str
    acknowledged_at: str | None = None
    first_response_at: str | None = None
    resolved_at: str | None = None
    channel: str | None = None
    service: str | None = None
    category: str | None = None
    requester: str | None = None  # pseudonymised (keyed HMAC); never landed as text
    status: str | None = None


class RequestRegisterSource(_TabularSource):
    """A courrier register or another tool's export: one row per request."""

    type: Literal["request_register"]
    columns: RegisterColumns
    default_channel: Channel = "letter"
    default_service: str | None = None  # when the row has no (mapped) service value
    complaint_values: list[str] = Field(default_factory=list)  # category values = complaints


class SurveyColumns(_Strict):
    response_id: str
    sent_at: str
    answered_at: str | None = None
    score: str
    request_ref: str | None = None  # e.g. GLPI-123 or a register id: service/channel from it
    service: str | None = None
    channel: str | None = None


class SatisfactionSurveySource(_TabularSource):
    """A satisfaction survey export (Services Publics+ style 0-10 scale by default)."""

    type: Literal["satisfaction_survey"]
    columns: SurveyColumns
    scale: int = Field(default=10, ge=1)  # best score; satisfied = at least 80 % of it
    default_channel: Channel | None = None


Source = Annotated[
    AsteriskQueueLogSource
    | AsteriskCdrCsvSource
    | MaildirSource
    | ImapSource
    | MboxSource
    | GlpiSqlSource
    | RequestRegisterSource
    | SatisfactionSurveySource
    | AsteriskQueueLogSqlSource
    | AsteriskCdrSqlSource
    | WazoCdrSource,
    Field(discriminator="type"),
]


def source_type_name(model: type[SourceModel]) -> str:
    """The ``type:`` value that selects ``model`` (the single value of its ``type`` literal)."""
    (name,) = get_args(model.model_fields["type"].annotation)
    return str(name)


# The discriminator values, from the union itself (vigie/source_types.py registers each type).
SOURCE_TYPES: tuple[str, ...] = tuple(source_type_name(m) for m in get_args(get_args(Source)[0]))


class BiPostgres(_Strict):
    """Where the BI contract is published in PostgreSQL after each good night (vigie/publish_postgres.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    connection_id: str  # Airflow connection to the database (a role that may create schemas)
    # The schema BI tools read; rebuilt whole each night and swapped in (<schema>_work while
    # loading). Key `schema` in YAML; `schema_name` in Python (pydantic reserves `schema`).
    schema_name: str = Field(default="vigie", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,50}$")


class Outputs(_Strict):
    warehouse: str = "var/warehouse/vigie.duckdb"
    landing: str = "var/landing"
    bi_snapshot: str = "var/bi/vigie_bi.duckdb"
    data_docs: str = "var/data_docs"
    gx_project: str = "var/gx"
    outbox: str = "var/outbox"
    smtp_connection_id: str | None = None
    bi_postgres: BiPostgres | None = None  # None: no PostgreSQL publication


class Alerts(_Strict):
    language: Literal["fr", "en"] = "fr"
    from_address: str = "vigie@localhost"
    max_age_days: int = Field(default=35, ge=0)  # older periods never page service heads
    # Each digest also posted as JSON to this webhook (URL from the Airflow connection).
    webhook_connection_id: str | None = None
    webhook_format: Literal["mattermost", "slack", "teams"] = "mattermost"
    # Period grains whose breaches (and recoveries) page service heads; the marts keep every
    # grain. A site whose heads read a monthly report can keep ["month"] only.
    breach_grains: list[Literal["day", "week", "month"]] = Field(default=["week", "month"], min_length=1)
    # A source's business day is suspect when P(X <= landed rows | the weekday's mean) < this
    # (Poisson lower tail, intermediate/quality/int_source_day_completeness.sql).
    completeness_alpha: float = Field(default=0.001, gt=0, lt=0.5)

    @field_validator("breach_grains")
    @classmethod
    def _distinct_grains(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a grain is listed twice")
        return value


class Quality(_Strict):
    # A business day whose landed rows fall below volume_ratio x the median of the same weekday
    # over the previous baseline_weeks weeks (at least min_baseline_days known) is incomplete.
    volume_ratio: float = Field(default=0.5, gt=0, le=1)
    baseline_weeks: int = Field(default=4, ge=1, le=52)
    min_baseline_days: int = Field(default=2, ge=1)


class EmailRules(_Strict):
    # A reply that matches no In-Reply-To / References joins a thread by normalised subject and
    # common correspondent only within this many days of the thread's previous message.
    thread_window_days: int = Field(default=30, ge=1, le=365)


class Pseudonymisation(_Strict):
    # Airflow connection whose password is the HMAC key (or env VIGIE_PSEUDONYMISATION_KEY).
    key_connection_id: str = "vigie_pseudonymisation"
    # A file holding the key (relative to this file); when set, it is used instead of the
    # connection (vigie.secrets.find_pseudonymisation_key says the order).
    key_file: str | None = None


# Smallest retention of landed batches. The history of indicators (history.service_indicators)
# stops rewriting a period once it starts before (newest night - landed_days + 31 days), so a
# month (31 days at most, final from the night before its end) is recorded from complete batches
# during landed_days - 60 nights: 90 leaves 30 nights to re-run or correct a month
# (vigie/retention.py, DECISIONLOG Part 6 "Retention").
MIN_LANDED_DAYS = 90


class Retention(_Strict):
    # Landed batches (<landing>/<source>/day=D/) older than this many days before the newest
    # landed night are deleted after a successful transform. None: keep everything.
    landed_days: int | None = Field(default=None, ge=MIN_LANDED_DAYS)


class Schedule(_Strict):
    """How the scheduler waits for a night's sources (DECISIONLOG Part 1 "Nights never mix").

    A source that fails its extract is retried every ``retry_minutes`` until ``wait_minutes``
    have passed; then the night is built with what landed, the failed source's days are
    incomplete and the data team is told."""

    wait_minutes: int = Field(default=60, ge=0, le=24 * 60)
    retry_minutes: int = Field(default=10, ge=1, le=24 * 60)
    # How often the triggerer looks at dropped register and survey exports (latency of a drop).
    export_poll_seconds: int = Field(default=30, ge=1, le=3600)

    @property
    def retries(self) -> int:
        return -(-self.wait_minutes // self.retry_minutes)  # ceil: never less wait than asked


class PublicationStructure(_Strict):
    """A structure as Services Publics+ lists it: the open-data CSV carries one row per
    structure and indicator, pooling the structure's services (vigie/results/opendata.py)."""

    code: str = Field(min_length=1)  # the structure's code on Services Publics+ (or its SIRET)
    name: str | None = None  # None: collectivite.name
    postal_code: str = Field(pattern=r"^(?:\d{5}|2[AB]\d{3})$")
    town: str = Field(min_length=1)
    services: list[str] | Literal["all"] = "all"


class PublicationIndicator(_Strict):
    """One Services Publics+ indicator code and the Vigie figure published under it: the
    compliance rate of a commitment, or the share of satisfied survey answers."""

    code: str = Field(min_length=1)
    commitment: str | None = None
    satisfaction: bool = False

    @model_validator(mode="after")
    def _one_figure(self) -> PublicationIndicator:
        if (self.commitment is None) == (not self.satisfaction):
            raise ValueError("give either 'commitment: <id>' or 'satisfaction: true', not both or neither")
        return self


class Publication(_Strict):
    """What `vigie results` publishes to citizens (docs/configuration.md "publication")."""

    # A cell (service x commitment x period) decided on fewer requests than this shows
    # "moins de N" instead of a rate (DECISIONLOG Part 9 "Small cells").
    min_requests: int = Field(default=5, ge=1)
    structures: list[PublicationStructure] = Field(default_factory=list)
    indicators: list[PublicationIndicator] = Field(default_factory=list)

    @field_validator("indicators")
    @classmethod
    def _distinct_codes(cls, value: list[PublicationIndicator]) -> list[PublicationIndicator]:
        codes = [i.code for i in value]
        if len(set(codes)) != len(codes):
            raise ValueError("an indicator code is listed twice")
        return value


class VigieConfig(_Strict):
    version: Literal[1] = 1
    collectivite: Collectivite
    services: list[Service] = Field(min_length=1)
    presets: list[str] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    outputs: Outputs = Outputs()
    alerts: Alerts = Alerts()
    quality: Quality = Quality()
    email: EmailRules = EmailRules()
    pseudonymisation: Pseudonymisation = Pseudonymisation()
    retention: Retention = Retention()
    schedule: Schedule = Schedule()
    publication: Publication = Publication()
    # Filled by load_config: the directory relative paths resolve against.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _references(self) -> VigieConfig:
        codes = [s.code for s in self.services]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(f"services: duplicate service codes {sorted(dupes)}")
        known = set(codes)
        ids = [s.id for s in self.sources]
        if len(set(ids)) != len(ids):
            raise ValueError("sources: source ids must be unique")

        _check_service_codes(known, (
            (f"commitments[{c.id}].services", code)
            for c in self.commitments if c.services != "all" for code in c.services
        ))
        _check_commitment_versions(self.commitments)
        _check_service_codes(known, (
            (f"publication.structures[{st.code}].services", code)
            for st in self.publication.structures if st.services != "all" for code in st.services
        ))
        if self.publication.indicators:
            commitment_ids = {c.id for c in self.all_commitments()}
            for ind in self.publication.indicators:
                if ind.commitment is not None and ind.commitment not in commitment_ids:
                    raise ValueError(
                        f"publication.indicators[{ind.code}].commitment: unknown commitment "
                        f"{ind.commitment!r}; expected one of {sorted(commitment_ids)}"
                    )
        _check_service_codes(known, (ref for s in self.sources for ref in _source_service_references(s)))
        return self

    # -- helpers used everywhere -------------------------------------------------------
    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.collectivite.timezone)

    def path(self, value: str) -> Path:
        """Resolve a configured path against the configuration file's directory."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def service(self, code: str) -> Service:
        return next(s for s in self.services if s.code == code)

    def all_commitments(self) -> list[Commitment]:
        """Every commitment version: presets, then the file's own, stably sorted by valid_from.

        Several entries with one id are versions of one commitment (non-overlapping
        [valid_from, valid_to), checked at load). A file version of a preset's id replaces the
        preset on its own dates only; the preset still applies where no file version does, so
        changing a preset "from 1 March" keeps history judged by the preset. Sorted by
        valid_from so that a mapping built by id keeps each id's latest version.
        """
        merged: list[Commitment] = []
        for name in self.presets:
            for c in PRESETS[name]:
                overrides = [f for f in self.commitments if f.id == c.id]
                merged.extend(_uncovered_versions(c, overrides))
        merged.extend(self.commitments)
        return sorted(merged, key=lambda c: c.valid_from)

    def commitments_in_force(self, day: dt.date) -> list[Commitment]:
        """The version of each commitment id in force on local date ``day`` (one per id)."""
        return [
            c for c in self.all_commitments()
            if c.valid_from <= day and (c.valid_to is None or day < c.valid_to)
        ]

    def sources_of(self, *types: str) -> list[Any]:
        return [s for s in self.sources if s.type in types and s.enabled]


_FOREVER = dt.date.max


def _span(c: Commitment) -> str:
    return f"[{c.valid_from}, {c.valid_to or 'open'})"


def _check_service_codes(known: set[str], references: Iterable[tuple[str, str]]) -> None:
    """Fail on the first (where, code) whose service code is not configured."""
    for where, code in references:
        if code not in known:
            raise ValueError(f"{where}: unknown service code {code!r}; expected one of {sorted(known)}")


def _source_service_references(s: Source) -> Iterator[tuple[str, str]]:
    """(where, service code) of each service a source maps its queues, contexts, mailboxes,
    groups, categories or register values to."""
    if isinstance(s, AsteriskQueueLogSource | AsteriskQueueLogSqlSource):
        yield from ((f"sources[{s.id}].queues.{q}", code) for q, code in s.queues.items())
    elif isinstance(s, AsteriskCdrCsvSource | AsteriskCdrSqlSource | WazoCdrSource):
        yield from ((f"sources[{s.id}].services_by_dcontext.{ctx}", code)
                    for ctx, code in s.services_by_dcontext.items())
    elif isinstance(s, MaildirSource | ImapSource | MboxSource):
        yield from ((f"sources[{s.id}].mailboxes[{m.name}].service", m.service) for m in s.mailboxes)
    elif isinstance(s, GlpiSqlSource):
        yield from ((f"sources[{s.id}].groups.{g}", code) for g, code in s.groups.items())
        yield from ((f"sources[{s.id}].categories.{g}", code) for g, code in s.categories.items())
    elif isinstance(s, RequestRegisterSource | SatisfactionSurveySource):
        yield from ((f"sources[{s.id}].services.{value}", code) for value, code in s.services.items())
        if isinstance(s, RequestRegisterSource) and s.default_service is not None:
            yield f"sources[{s.id}].default_service", s.default_service


def _check_commitment_versions(commitments: list[Commitment]) -> None:
    """Versions of one id must not overlap and must judge the same channel, metric and kind
    of request.

    Why: the engine judges a request by the version in force on its local receipt date; two
    versions in force on one date would judge it twice, and a version changing the channel or
    the request kind would make one commitment's history mix two kinds of requests.
    """
    for i, a in enumerate(commitments):
        for j in range(i + 1, len(commitments)):
            b = commitments[j]
            if a.id != b.id:
                continue
            where = f"commitments[{i}:{a.id}] {_span(a)} and commitments[{j}:{b.id}] {_span(b)}"
            if (a.channel, a.metric, a.request_kind) != (b.channel, b.metric, b.request_kind):
                raise ValueError(
                    f"versions of one commitment must share channel, metric and request_kind: {where}"
                )
            if a.valid_from < (b.valid_to or _FOREVER) and b.valid_from < (a.valid_to or _FOREVER):
                raise ValueError(
                    f"versions of commitment {a.id!r} overlap: {where}; "
                    "give each version a valid_from after the previous one's valid_to (exclusive)"
                )


def _uncovered_versions(preset: Commitment, overrides: list[Commitment]) -> list[Commitment]:
    """The preset cut to the date ranges that no file version of its id covers."""
    pieces: list[Commitment] = []
    start, end = preset.valid_from, preset.valid_to or _FOREVER
    for o in sorted(overrides, key=lambda c: c.valid_from):
        if o.valid_from > start:
            cut = min(o.valid_from, end)
            pieces.append(preset.model_copy(update={"valid_from": start, "valid_to": cut}))
        start = max(start, o.valid_to or _FOREVER)
        if start >= end:
            break
    if start < end:
        pieces.append(preset.model_copy(update={"valid_from": start, "valid_to": preset.valid_to}))
    return pieces


def _key(loc: tuple[Any, ...], data: Any) -> str:
    """Dotted key for a pydantic error location, naming list items by their id or code."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            label = str(item)
            if item < len(node) and isinstance(node[item], dict):
                ident = node[item].get("id") or node[item].get("code") or node[item].get("name")
                if ident:
                    label = f"{item}:{ident}"
            parts[-1:] = [f"{parts[-1]}[{label}]"] if parts else [f"[{label}]"]
            node = node[item] if item < len(node) else None
        else:
            if isinstance(node, dict) and item in node:
                node = node[item]
            elif isinstance(node, dict) and isinstance(item, str) and item not in node:
                node = None
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


# What to write for a required key whose value Vigie must never guess, by (source type, key).
_MISSING_HINTS: dict[tuple[str, str], str] = {
    ("asterisk_cdr_csv", "timezone"): (
        "required key is missing: the zone Master.csv's timestamps are written in; 'UTC' when "
        "cdr.conf has usegmtime=yes (Asterisk's sample config), else the PBX's zone, e.g. "
        "'Europe/Paris'"
    ),
}


def parse_config(data: Any, path: Path | str = "<memory>") -> VigieConfig:
    if not isinstance(data, dict):
        raise ConfigError(path, [("(top level)", "expected a mapping of keys such as collectivite, services")])
    try:
        cfg = VigieConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x in SOURCE_TYPES))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (see docs/configuration.md for the keys this section takes)"
            elif err["type"] == "missing":
                kind = next((x for x in err["loc"] if isinstance(x, str) and x in SOURCE_TYPES), "")
                msg = _MISSING_HINTS.get((kind, str(err["loc"][-1])), "required key is missing")
            elif err["type"] == "literal_error":
                msg = f"expected {err['ctx']['expected']}, got {err.get('input')!r}"
            problems.append((_key(loc, data), msg))
        raise ConfigError(path, problems) from None
    bad = [p for p in cfg.presets if p not in PRESETS]
    if bad:
        raise ConfigError(path, [("presets", f"unknown preset(s) {bad}; expected some of {sorted(PRESETS)}")])
    return cfg


def load_config(path: Path | str) -> VigieConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [("(file)", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ConfigError(path, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    cfg = parse_config(data, path)
    return cfg.model_copy(update={"base_dir": path.resolve().parent})
