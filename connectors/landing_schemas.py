"""The landing contract: one Arrow schema per landed table (docs/landing.md).

Connectors write exactly these columns; dbt staging reads exactly these; the GX batch suites
are generated from them. Change a table here and in its staging model together.

Every table carries ``source_id``; the landing path adds ``day`` (the night's day) as a hive
partition: ``<landing>/<source_id>/day=YYYY-MM-DD/<table>.parquet``. Instants are UTC.
No column holds a citizen's identity: ``*_key`` columns are keyed HMAC-SHA256 hex digests.
"""

from __future__ import annotations

import pyarrow as pa

from vigie.source_types import REGISTRY

TS = pa.timestamp("us", tz="UTC")
S = pa.string()
I = pa.int64()  # noqa: E741
B = pa.bool_()


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field("source_id", S, nullable=False), *[pa.field(n, t) for n, t in fields]])


QUEUE_LOG_EVENTS = _schema(
    ("source_file", S), ("source_line", I), ("event_at", TS), ("callid", S), ("queue_name", S),
    ("agent_key", S), ("event", S), ("data1", S), ("data2", S), ("data3", S), ("data4", S),
    ("data5", S), ("caller_key", S),
)
CDR_LEGS = _schema(
    ("source_file", S), ("source_line", I), ("accountcode", S), ("src_key", S), ("dst_key", S),
    ("dcontext", S), ("channel", S), ("dstchannel", S), ("lastapp", S), ("start_at", TS),
    ("answer_at", TS), ("end_at", TS), ("duration", I), ("billsec", I), ("disposition", S),
    ("amaflags", S), ("uniqueid", S), ("linkedid", S), ("sequence", I),
)
EMAIL_MESSAGES = _schema(
    ("mailbox", S), ("service_code", S), ("folder_role", S), ("source_position", S),
    ("message_key", S), ("in_reply_to_key", S), ("references_keys", pa.list_(S)),
    ("from_key", S), ("to_keys", pa.list_(S)), ("from_is_internal", B), ("received_at", TS),
    ("date_header_at", TS), ("subject_key", S), ("is_auto_submitted", B), ("auto_reason", S),
    ("glpi_ticket_id", I),
)
GLPI_TICKETS = _schema(
    ("id", I), ("entities_id", I), ("date", TS), ("date_creation", TS), ("date_mod", TS),
    ("solvedate", TS), ("closedate", TS), ("takeintoaccountdate", TS), ("status", I),
    ("requesttypes_id", I), ("itilcategories_id", I), ("type", I), ("waiting_duration", I),
    ("takeintoaccount_delay_stat", I), ("solve_delay_stat", I), ("is_deleted", I),
)
GLPI_GROUPS_TICKETS = _schema(("id", I), ("tickets_id", I), ("groups_id", I), ("type", I))
GLPI_TICKETS_USERS = _schema(("id", I), ("tickets_id", I), ("users_key", S), ("type", I))
GLPI_ITILFOLLOWUPS = _schema(
    ("id", I), ("itemtype", S), ("items_id", I), ("date", TS), ("users_key", S),
    ("is_private", I), ("requesttypes_id", I),
)
GLPI_TICKETTASKS = _schema(("id", I), ("tickets_id", I), ("date", TS), ("users_key", S), ("is_private", I))
GLPI_ITILSOLUTIONS = _schema(
    ("id", I), ("itemtype", S), ("items_id", I), ("date_creation", TS), ("users_key", S),
)
GLPI_TICKETSATISFACTIONS = _schema(
    ("id", I), ("tickets_id", I), ("type", I), ("date_begin", TS), ("date_answered", TS),
    ("satisfaction", I),
)
GLPI_LOGS = _schema(
    ("id", I), ("itemtype", S), ("items_id", I), ("id_search_option", I), ("old_value", S),
    ("new_value", S), ("date_mod", TS),
)
# Courrier registers and other tools' exports (request_register): one row per request, the
# service and channel already mapped from the configuration (cell values kept for checks).
REGISTER_REQUESTS = _schema(
    ("source_file", S), ("source_line", I), ("request_id", S), ("received_at", TS),
    ("acknowledged_at", TS), ("first_response_at", TS), ("resolved_at", TS), ("channel", S),
    ("channel_value", S), ("service_code", S), ("service_value", S), ("category", S),
    ("is_complaint", B), ("status", S), ("requester_key", S),
)
# Satisfaction survey exports (satisfaction_survey): one row per survey sent; score null while
# unanswered; scale = the best possible score (10 for Services Publics+).
SURVEY_RESPONSES = _schema(
    ("source_file", S), ("source_line", I), ("response_id", S), ("request_ref", S),
    ("sent_at", TS), ("answered_at", TS), ("score", pa.float64()), ("scale", I),
    ("service_code", S), ("channel", S),
)
REJECTS = _schema(("table_name", S), ("source_file", S), ("source_position", S), ("reason", S))

# Every landed table by name; which source type lands which is the registry's
# (vigie/source_types.py, SourceType.tables).
ALL_TABLES: dict[str, pa.Schema] = {
    "queue_log_events": QUEUE_LOG_EVENTS,
    "cdr_legs": CDR_LEGS,
    "email_messages": EMAIL_MESSAGES,
    "glpi_tickets": GLPI_TICKETS,
    "glpi_groups_tickets": GLPI_GROUPS_TICKETS,
    "glpi_tickets_users": GLPI_TICKETS_USERS,
    "glpi_itilfollowups": GLPI_ITILFOLLOWUPS,
    "glpi_tickettasks": GLPI_TICKETTASKS,
    "glpi_itilsolutions": GLPI_ITILSOLUTIONS,
    "glpi_ticketsatisfactions": GLPI_TICKETSATISFACTIONS,
    "glpi_logs": GLPI_LOGS,
    "register_requests": REGISTER_REQUESTS,
    "survey_responses": SURVEY_RESPONSES,
}
# Tables each source type lands (every one is written on every run, empty if need be).
TABLES_BY_SOURCE_TYPE: dict[str, dict[str, pa.Schema]] = {
    t.name: {table: ALL_TABLES[table] for table in t.tables} for t in REGISTRY
}
REJECTS_TABLE = "rejects"
