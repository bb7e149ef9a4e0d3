"""run_checks against real landed Parquet batches and a real DuckDB marts file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from h5_builders import create_warehouse, indicator, land, make_config

from expectations.run import BlockingChecksFailed, run_checks
from expectations.suites import commitments_suite, landing_suite

DAY = dt.date(2026, 11, 16)  # a Monday; night = [16 Nov 00:00, 17 Nov 00:00) Paris = [15 Nov 23:00Z, 16 Nov 23:00Z)
NEXT = DAY + dt.timedelta(days=1)
AS_OF = dt.datetime(2026, 11, 16, 23, 0, tzinfo=dt.UTC)


def _ts(h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 16, h, m, tzinfo=dt.UTC)


def good_batches(cfg, *, queue_rows=None, mail_rows=None) -> None:
    land(cfg, "pbx", DAY, {"queue_log_events": queue_rows if queue_rows is not None else [
        {"source_file": "queue_log", "source_line": 1, "event_at": _ts(8), "callid": "1.1",
         "queue_name": "etat-civil", "agent_key": None, "event": "ENTERQUEUE", "data1": "",
         "data2": None, "data3": "1", "data4": None, "data5": None, "caller_key": "ab" * 32},
        {"source_file": "queue_log", "source_line": 2, "event_at": _ts(8, 1), "callid": "1.1",
         "queue_name": "etat-civil", "agent_key": "cd" * 32, "event": "CONNECT", "data1": "12",
         "data2": "1.2", "data3": "3", "data4": None, "data5": None, "caller_key": None},
    ]})
    land(cfg, "mail", DAY, {"email_messages": mail_rows if mail_rows is not None else [
        {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": "inbox",
         "source_position": "ec/cur/1", "message_key": "m1", "in_reply_to_key": None,
         "references_keys": [], "from_key": "f1", "to_keys": ["t1"], "from_is_internal": False,
         "received_at": _ts(9), "date_header_at": _ts(9), "subject_key": "s1",
         "is_auto_submitted": False, "auto_reason": None},
    ]})
    land(cfg, "glpi", DAY, {"glpi_tickets": [
        {"id": 12, "entities_id": 0, "date": _ts(7), "date_creation": _ts(7), "date_mod": _ts(10),
         "solvedate": None, "closedate": None, "takeintoaccountdate": _ts(7, 30), "status": 2,
         "requesttypes_id": 1, "itilcategories_id": 0, "type": 2, "waiting_duration": 0,
         "takeintoaccount_delay_stat": 1800, "solve_delay_stat": 0, "is_deleted": 0},
    ]})


def good_marts(cfg, **extra) -> None:
    marts = {
        "requests": [
            {"request_id": "mail:m1", "request_ref": "MEL-0001", "source_system": "maildir",
             "channel": "email", "service_code": "ETAT_CIVIL", "received_at": _ts(9),
             "is_excluded": False},
        ],
        "commitment_evaluations": [
            {"request_id": "mail:m1", "request_ref": "MEL-0001", "commitment_id": "email_response_5bd",
             "service_code": "ETAT_CIVIL", "channel": "email", "received_at": _ts(9),
             "deadline_at": _ts(22), "status": "pending", "elapsed_value": 0, "elapsed_unit": "business_days",
             "evaluated_as_of": AS_OF},
        ],
        "service_indicators": [
            # tonight's day period: 2 of 5 met, below 90 % with 5 >= 3 requests -> a finding
            indicator("email_response_5bd", "ETAT_CIVIL", "day", DAY, NEXT, 2, 5, 0.9, 3, as_of=AS_OF),
            # below the threshold but 2 < min_volume 3 -> no finding
            indicator("email_response_5bd", "URBANISME", "day", DAY, NEXT, 1, 2, 0.9, 3, as_of=AS_OF),
            # a week that closed the night before: not tonight's finding
            indicator("email_response_5bd", "ETAT_CIVIL", "week", DAY - dt.timedelta(days=7), DAY, 1, 9, 0.9, 3, as_of=AS_OF),
            # phone pickup met: 18/20 = 0.9 >= 0.85
            indicator("phone_pickup_rate", "ETAT_CIVIL", "day", DAY, NEXT, 18, 20, 0.85, 20,
                      channel="phone", as_of=AS_OF, target=(None, None)),
        ],
    }
    marts.update(extra)
    create_warehouse(cfg, marts)


@pytest.fixture
def cfg(tmp_path: Path):
    return make_config(tmp_path)


def test_suites_are_generated_from_the_contract_and_config(cfg) -> None:
    spec = landing_suite("email_messages")
    first = spec.checks[0]
    assert first.expectation == "ExpectTableColumnsToMatchOrderedList"
    assert first.kwargs["column_list"][:4] == ["source_id", "mailbox", "service_code", "folder_role"]
    (type_check,) = [c for c in spec.checks if c.expectation == "ExpectTableColumnsToHaveLandingTypes"]
    types = type_check.kwargs["column_types"]
    assert list(types) == first.kwargs["column_list"][:-3]  # every contract column, in order
    assert type_check.severity == "blocking"
    assert "received_at timestamp[us, tz=UTC]" in type_check.description
    assert "references_keys list of string, " in type_check.description  # no <...>: it is HTML
    assert "<" not in type_check.description
    assert types["received_at"] == "Timestamp" and types["references_keys"] == "object"
    assert types["from_is_internal"] == "bool"
    assert {c.severity for c in spec.checks} == {"blocking", "warning"}
    csuite = commitments_suite(cfg)
    assert [c.extra_meta["commitment_id"] for c in csuite.checks] == ["email_response_5bd", "phone_pickup_rate"]
    # Each row carries the mart's is_breached (judged by the version in force) and, when
    # breached, its finding sentence: the check is "no finding" (issue 11 item 9).
    assert csuite.checks[0].expectation == "ExpectColumnValuesToBeNull"
    assert csuite.checks[0].kwargs == {"column": "finding"}
    assert csuite.checks[0].where == (("commitment_id", "==", "email_response_5bd"),)
    assert csuite.checks[0].description.startswith(
        "Courriels : réponse sous 5 jours ouvrés — seuil 90\u00a0%, volume minimal 3 (local)")
    assert all(c.severity == "warning" for c in csuite.checks)
    assert landing_suite("email_messages").fingerprint == spec.fingerprint


def test_clean_night_reports_breach_as_warning_and_builds_docs(cfg) -> None:
    good_batches(cfg)
    good_marts(cfg)
    result = run_checks(cfg, DAY)
    assert result.success
    assert result.blocking == []
    breaches = result.breached_commitments
    assert len(breaches) == 1
    b = breaches[0]
    assert b.severity == "warning"
    assert b.expectation == "expect_column_values_to_be_null[email_response_5bd]"
    assert "service_code=ETAT_CIVIL" in b.observed and "period_grain=day" in b.observed
    assert "period_start=2026-11-16" in b.observed
    assert ("finding=État civil — journée du 16 novembre 2026 : 40\u00a0% (2 sur 5)"
            " pour un seuil de 90\u00a0%") in b.observed
    assert result.warnings == breaches  # the landed rows are clean
    # 3 sources: pbx 1 table, mail 1 table, glpi 8 tables, + 3 rejects = 13; marts 3 + commitments
    assert len(result.outcomes) == 17
    summary = json.loads(result.summary_path.read_text())
    assert summary["night"] == "2026-11-16" and summary["success"] is True
    assert summary["blocking_failures"] == 0 and summary["warnings"] == 1
    failed = [s for s in summary["suites"] if s["failed"]]
    assert [s["suite"] for s in failed] == ["commitments"]
    assert failed[0]["failed"][0]["severity"] == "warning"
    assert result.summary_path == cfg.path("var/gx") / "summaries" / "2026-11-16.json"
    index = cfg.path("var/data_docs") / "index.html"
    assert result.data_docs_index == index and index.is_file()
    pages = list((cfg.path("var/data_docs") / "validations").rglob("*.html"))
    assert len(pages) == 17
    stored = list((cfg.path("var/gx") / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored) == 17


def test_incomplete_period_is_not_a_commitment_finding(cfg) -> None:
    """Issue 7: the 2/5 day of ETAT_CIVIL lacks data (is_complete false): no breach warning."""
    good_batches(cfg)
    row = indicator("email_response_5bd", "ETAT_CIVIL", "day", DAY, NEXT, 2, 5, 0.9, 3, as_of=AS_OF)
    row.update(is_complete=False, completeness_note="mail 2026-11-16: no data")
    create_warehouse(cfg, {"requests": [], "commitment_evaluations": [], "service_indicators": [row]})
    result = run_checks(cfg, DAY)
    assert result.success and result.breached_commitments == []


def test_rerun_same_night_gives_same_summary_and_keeps_suites(cfg) -> None:
    good_batches(cfg)
    good_marts(cfg)
    first = run_checks(cfg, DAY)
    text = first.summary_path.read_text()
    suite_file = cfg.path("var/gx") / "gx" / "expectations" / "landing" / "email_messages.json"
    mtime = suite_file.stat().st_mtime_ns
    second = run_checks(cfg, DAY)
    assert second.summary_path.read_text() == text
    assert suite_file.stat().st_mtime_ns == mtime  # unchanged suite not rewritten
    # results of both runs are kept
    stored = list((cfg.path("var/gx") / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored) == 34


def test_out_of_window_and_unknown_event_are_warnings(cfg) -> None:
    early = dt.datetime(2026, 11, 15, 20, 0, tzinfo=dt.UTC)  # 21:00 Paris the day before: 3 h early
    good_batches(cfg, queue_rows=[
        {"source_file": "queue_log", "source_line": 1, "event_at": early, "callid": "1.1",
         "queue_name": "etat-civil", "event": "ENTERQUEUE"},
        {"source_file": "queue_log", "source_line": 2, "event_at": _ts(8), "callid": "1.1",
         "queue_name": "etat-civil", "event": "MYCUSTOMEVENT"},
    ])
    good_marts(cfg)
    result = run_checks(cfg, DAY)
    warned = {(f.batch, f.column) for f in result.warnings if f.suite != "commitments"}
    assert warned == {("pbx.queue_log_events", "event_at"), ("pbx.queue_log_events", "event")}
    event = next(f for f in result.warnings if f.column == "event")
    assert "MYCUSTOMEVENT" in event.observed and event.observed.startswith("1 unexpected")


def test_unknown_folder_role_blocks_after_recording(cfg) -> None:
    row = {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": "drafts",
           "source_position": "ec/cur/1", "message_key": "m1", "received_at": _ts(9),
           "from_is_internal": False, "is_auto_submitted": False}
    good_batches(cfg, mail_rows=[row])
    good_marts(cfg)
    with pytest.raises(BlockingChecksFailed) as err:
        run_checks(cfg, DAY)
    msg = str(err.value)
    assert "landing.email_messages [mail.email_messages] expect_column_values_to_be_in_set column folder_role" in msg
    assert "drafts" in msg
    assert len(err.value.result.blocking) == 1
    summary = json.loads((cfg.path("var/gx") / "summaries" / "2026-11-16.json").read_text())
    assert summary["success"] is False and summary["blocking_failures"] == 1
    assert (cfg.path("var/data_docs") / "index.html").is_file()
    # the data team is told what failed (outbox here), once per failure and night
    import email
    from email import policy

    emls = sorted((cfg.path("var/outbox") / "2026-11-16").glob("*.eml"))
    assert len(emls) == 1
    notice = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert notice["To"].addresses[0].addr_spec == "donnees@test.fr"
    assert notice["Subject"] == "[Vigie] Contrôles de données : 1 contrôle bloquant en échec (16/11/2026)"
    text = notice.get_body(("plain",)).get_content()
    assert ("landing.email_messages [mail.email_messages] expect_column_values_to_be_in_set"
            " colonne folder_role : ") in text and "drafts" in text
    assert "ni publication ni alertes aux services" in text
    with pytest.raises(BlockingChecksFailed) as again:
        run_checks(cfg, DAY)
    assert again.value.result.extra["data_team_notice"].new_failures == 0
    assert sorted((cfg.path("var/outbox") / "2026-11-16").glob("*.eml")) == emls


def test_missing_batch_and_wrong_column_type_block(cfg) -> None:
    good_batches(cfg)
    good_marts(cfg)
    # the pbx batch never landed; the mail batch has references_keys as a string
    import shutil

    shutil.rmtree(cfg.path("var/landing") / "pbx")
    from connectors.landing_schemas import EMAIL_MESSAGES

    bad = EMAIL_MESSAGES.set(EMAIL_MESSAGES.get_field_index("references_keys"), pa.field("references_keys", pa.string()))
    land(cfg, "mail", DAY, {}, schemas={"email_messages": bad})
    with pytest.raises(BlockingChecksFailed) as err:
        run_checks(cfg, DAY)
    blocking = err.value.result.blocking
    assert [(f.batch, f.expectation, f.column) for f in blocking] == [
        ("mail.email_messages", "expect_table_columns_to_have_landing_types", "references_keys"),
        ("pbx.queue_log_events", "batch_present", None),
    ]
    assert blocking[0].observed == "str, expected object"
    assert ("- landing.email_messages [mail.email_messages] expect_table_columns_to_have_landing_types"
            " column references_keys: observed str, expected object") in str(err.value)
    assert "run the extract of pbx for 2026-11-16" in blocking[1].observed


def test_duplicate_request_id_in_marts_blocks(cfg) -> None:
    good_batches(cfg)
    dup = {"request_id": "mail:m1", "request_ref": "MEL-0001", "source_system": "maildir",
           "channel": "email", "service_code": "ETAT_CIVIL", "received_at": _ts(9), "is_excluded": False}
    good_marts(cfg, requests=[dup, dup])
    with pytest.raises(BlockingChecksFailed) as err:
        run_checks(cfg, DAY)
    assert [(f.suite, f.column) for f in err.value.result.blocking] == [("marts.requests", "request_id")]


def test_missing_warehouse_blocks_with_what_to_do(cfg) -> None:
    good_batches(cfg)
    with pytest.raises(BlockingChecksFailed, match="run the transform for 2026-11-16 first"):
        run_checks(cfg, DAY)


def test_checks_while_this_process_holds_the_warehouse_read_write(cfg) -> None:
    good_batches(cfg)
    good_marts(cfg)
    import duckdb

    held = duckdb.connect(str(cfg.path("var/warehouse/vigie.duckdb")))
    try:
        assert run_checks(cfg, DAY).success
    finally:
        held.close()


def test_changed_commitment_rewrites_the_suite_in_the_same_process(cfg) -> None:
    good_batches(cfg)
    good_marts(cfg)
    assert len(run_checks(cfg, DAY).breached_commitments) == 1
    # Lower the email threshold to 0.4: the transform re-judges the rows with the new version
    # (the marts carry each row's threshold), and ETAT_CIVIL's 2/5 = 0.4 now meets it.
    commitments = [c.model_copy(update={"threshold": 0.4}) if c.id == "email_response_5bd" else c
                   for c in cfg.commitments]
    relaxed = cfg.model_copy(update={"commitments": commitments})
    good_marts(relaxed, service_indicators=[
        indicator("email_response_5bd", "ETAT_CIVIL", "day", DAY, NEXT, 2, 5, 0.4, 3, as_of=AS_OF),
        indicator("phone_pickup_rate", "ETAT_CIVIL", "day", DAY, NEXT, 18, 20, 0.85, 20,
                  channel="phone", as_of=AS_OF, target=(None, None)),
    ])
    result = run_checks(relaxed, DAY)
    assert result.breached_commitments == []
    stored = json.loads((cfg.path("var/gx") / "gx" / "expectations" / "commitments.json").read_text())
    whys = sorted(e["meta"]["why"] for e in stored["expectations"])
    assert "seuil 40\u00a0%" in whys[0]


REGISTER_AND_SURVEY_SOURCES = [
    {"id": "courrier", "type": "request_register", "path": "x/registre.csv",
     "columns": {"request_id": "N°", "received_at": "Arrivée"}},
    {"id": "enquete", "type": "satisfaction_survey", "path": "x/enquete.csv",
     "columns": {"response_id": "Id", "sent_at": "Envoi", "score": "Note"}},
]


def _letter(request_id: str, received: dt.datetime, responded: dt.datetime | None) -> dict:
    return {"source_file": "registre.csv", "source_line": 2, "request_id": request_id,
            "received_at": received, "first_response_at": responded, "channel": "letter",
            "service_code": "ETAT_CIVIL", "is_complaint": False}


def _survey(response_id: str, score: float | None, scale: int = 10) -> dict:
    return {"source_file": "enquete.csv", "source_line": 2, "response_id": response_id,
            "sent_at": _ts(9), "answered_at": _ts(10) if score is not None else None,
            "score": score, "scale": scale, "service_code": "ETAT_CIVIL"}


def test_register_and_survey_batches_are_checked(tmp_path: Path) -> None:
    """Issue 6 sources get table rules too: a clean batch passes; a repeated reference, a score
    above its scale and a response before receipt are named, each with its severity."""
    cfg = make_config(tmp_path, sources=REGISTER_AND_SURVEY_SOURCES, commitments=[])
    land(cfg, "courrier", DAY, {"register_requests": [_letter("C-1", _ts(8), _ts(14))]})
    land(cfg, "enquete", DAY, {"survey_responses": [_survey("S-1", 8.5), _survey("S-2", None)]})
    create_warehouse(cfg)
    clean = run_checks(cfg, DAY)
    assert clean.failures == []

    land(cfg, "courrier", DAY, {"register_requests": [
        _letter("C-1", _ts(8), _ts(14)), _letter("C-1", _ts(9), None), _letter("C-2", _ts(10), _ts(7)),
    ]})
    land(cfg, "enquete", DAY, {"survey_responses": [_survey("S-1", 12.0)]})
    with pytest.raises(BlockingChecksFailed):
        run_checks(cfg, DAY)
    summary = json.loads((cfg.path("var/gx") / "summaries" / f"{DAY}.json").read_text())
    failed = {
        (s["batch"], f["expectation"], f["column"], f["severity"])
        for s in summary["suites"] for f in s["failed"]
    }
    assert failed == {
        ("courrier.register_requests", "expect_compound_columns_to_be_unique", "request_id", "blocking"),
        ("courrier.register_requests", "expect_column_pair_values_a_to_be_greater_than_b", "first_response_at,received_at", "warning"),
        ("enquete.survey_responses", "expect_column_pair_values_a_to_be_greater_than_b", "scale,score", "blocking"),
    }


def test_mart_frame_holds_the_values_its_suite_reads_and_every_column_name() -> None:
    """The mart suites get the values of the columns they check, every other column by name
    only (issue 16: at scale 10 and three years whole marts in pandas made the night's peak)."""
    import duckdb

    from expectations.run import _mart_frame
    from expectations.suites import mart_suites

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.requests as select * from (values "
        "('mail:m1', 'MEL-0001', 'email', 'ETAT_CIVIL', 'free text'), "
        "('mail:m1', null, 'fax', 'ETAT_CIVIL', 'more text')) "
        "as t(request_id, request_ref, channel, service_code, \"odd \"\"name\")")
    spec = next(s for s in mart_suites() if s.name == "marts.requests")
    assert spec.columns_read() == {"request_id", "request_ref", "channel"}
    frame = _mart_frame(con, "requests", spec.columns_read())
    assert set(frame.columns) == {"request_id", "request_ref", "channel", "service_code", 'odd "name'}
    assert frame["request_id"].tolist() == ["mail:m1", "mail:m1"]
    assert frame["request_ref"].tolist()[0] == "MEL-0001" and frame["request_ref"].isna().tolist()[1]
    assert frame["channel"].tolist() == ["email", "fax"]
    assert frame["service_code"].isna().all() and frame['odd "name'].isna().all()
    assert str(frame["service_code"].dtype) == "category"


def test_every_failing_mart_check_reports_what_it_reported_before(cfg) -> None:
    """Each kind of mart check, fed failing values, reports the same observed values as when
    the marts were read whole with DuckDB's ``.df()`` (issue 16: the frames are now read one
    mart at a time, their text through Arrow; these strings are those of that earlier code)."""
    good_batches(cfg)
    req = {"request_id": "mail:m1", "request_ref": "MEL-0001", "source_system": "maildir",
           "channel": "email", "service_code": "ETAT_CIVIL", "received_at": _ts(9), "is_excluded": False}
    ev = {"request_id": "mail:m1", "request_ref": "MEL-0001", "commitment_id": "email_response_5bd",
          "service_code": "ETAT_CIVIL", "channel": "email", "received_at": _ts(9), "deadline_at": _ts(22),
          "status": "pending", "elapsed_value": 0, "elapsed_unit": "business_days", "evaluated_as_of": AS_OF}
    ok = indicator("email_response_5bd", "ETAT_CIVIL", "day", DAY, NEXT, 9, 10, 0.9, 3, as_of=AS_OF)
    good_marts(
        cfg,
        requests=[req, {**req, "request_ref": None}, {**req, "request_id": "mail:m2", "channel": "fax"},
                  {**req, "request_id": None, "request_ref": "MEL-0003"}],
        commitment_evaluations=[ev, ev, {**ev, "request_id": "mail:m2", "status": "lost"},
                                {**ev, "request_id": "mail:m3", "status": None, "elapsed_value": -2.5}],
        service_indicators=[ok, {**ok, "period_grain": "year"}, {**ok, "indicator": "speed"},
                            {**ok, "numerator": 11, "value": 1.1}],
    )
    with pytest.raises(BlockingChecksFailed) as err:
        run_checks(cfg, DAY)
    failed = [(f.suite, f.expectation, f.column, f.severity, f.observed)
              for f in err.value.result.failures if f.suite.startswith("marts.")]
    # A null text value shows as nan (pandas' str dtype), integers as numpy's: as before.
    assert failed == [
        ("marts.requests", "expect_column_values_to_not_be_null", "request_id", "blocking",
         "1 unexpected, e.g. ['nan']"),
        ("marts.requests", "expect_column_values_to_be_unique", "request_id", "blocking",
         "2 unexpected, e.g. ['mail:m1', 'mail:m1']"),
        ("marts.requests", "expect_column_values_to_not_be_null", "request_ref", "blocking",
         "1 unexpected, e.g. ['nan']"),
        ("marts.requests", "expect_column_values_to_be_in_set", "channel", "blocking",
         "1 unexpected, e.g. ['fax']"),
        ("marts.commitment_evaluations", "expect_compound_columns_to_be_unique",
         "request_id,commitment_id", "blocking", "2 unexpected, e.g. [\"{'request_id': 'mail:m1',"
         " 'commitment_id': 'email_response_5bd'}\", \"{'request_id': 'mail:m1', 'commitment_id':"
         " 'email_response_5bd'}\"]"),
        ("marts.commitment_evaluations", "expect_column_values_to_not_be_null", "status", "blocking",
         "1 unexpected, e.g. ['nan']"),
        ("marts.commitment_evaluations", "expect_column_values_to_be_in_set", "status", "blocking",
         "1 unexpected, e.g. ['lost']"),
        ("marts.commitment_evaluations", "expect_column_values_to_be_between", "elapsed_value", "warning",
         "1 unexpected, e.g. ['-2.5']"),
        ("marts.service_indicators", "expect_column_pair_values_a_to_be_greater_than_b",
         "denominator,numerator", "blocking", "1 unexpected, e.g. ['(np.int64(10), np.int64(11))']"),
        ("marts.service_indicators", "expect_column_values_to_be_in_set", "period_grain", "blocking",
         "1 unexpected, e.g. ['year']"),
        ("marts.service_indicators", "expect_column_values_to_be_in_set", "indicator", "blocking",
         "1 unexpected, e.g. ['speed']"),
        ("marts.service_indicators", "expect_column_values_to_be_between", "value", "blocking",
         "1 unexpected, e.g. ['1.1']"),
    ]


def test_read_frame_is_duckdbs_df_with_its_text_through_arrow() -> None:
    """``_read_frame`` gives the frame ``.df()`` gives (dtypes, values, row order): text through
    Arrow as pandas' ``str``, a text column without a value as ``.df()``'s ``object`` of None,
    nullable integers and dates as ``.df()`` converts them."""
    import duckdb
    import pandas as pd

    from expectations.run import _read_frame

    con = duckdb.connect()
    con.execute("create table t (s varchar, empty varchar, n bigint, d date, x double, \"odd \"\"c\" varchar)")
    con.execute("insert into t values ('a', null, 1, '2026-11-16', 0.5, 'é'), (null, null, null, null, null, null)")
    con.execute("insert into t select 'r' || i, null, i, null, i / 3, null from range(5000) r(i)")
    con.execute("insert into t values ('z', null, 7, '2026-11-17', -1, 'q')")
    columns = ["s", "empty", "n", "d", "x", 'odd "c']
    frame = _read_frame(con, "t", columns)
    expected = con.sql("select * from t").df()
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert [str(t) for t in frame.dtypes] == ["str", "object", "Int64", "datetime64[us]", "float64", "str"]
    pd.testing.assert_frame_equal(_read_frame(con, "t where false", columns), con.sql("select * from t where false").df())


def test_gx_keeps_no_validated_frame(cfg) -> None:
    """A validated frame is freed as soon as the caller drops it (GX's batch manager would keep
    every asset's last frame until the process ends): the mart suites' frames are never all alive
    together (issue 16). Exception: a suite with a ``where`` (``service_indicators``, the
    smallest mart) leaves GX's validator in a reference cycle, freed by Python's next cyclic
    collection."""
    import gc
    import weakref

    from expectations.run import _read_mart, _Validation
    from expectations.suites import mart_suites

    good_marts(cfg)
    night = _Validation(cfg).night(DAY)
    for spec in mart_suites():
        frame = _read_mart(cfg, spec)
        alive = weakref.ref(frame)
        night.validate(spec, spec.name, frame)
        del frame
        if any(c.where for c in spec.checks):
            gc.collect()
        assert alive() is None
    assert [o.success for o in night.outcomes] == [True, True, True]
