"""One registry of source types (vigie/source_types.py; issue 13, item 8).

Each type is declared once, with its configuration model, family, connector module and landed
tables; everything else is derived from it. These tests fail when a type is declared in one
place and missing from another: the configuration's discriminated union, the extract dispatch,
the landing contract, the DAG families (and their DAG files), dbt's completeness models and
docs/configuration.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from connectors.connector import AdvancesAfterLanding, Connector, load_connector
from connectors.landing_schemas import ALL_TABLES, TABLES_BY_SOURCE_TYPE
from vigie.config import SOURCE_TYPES, Source, _source_service_references
from vigie.source_types import (
    FAMILY_NAMES,
    REGISTRY,
    families,
    markdown_table,
    source_type,
    tables_markdown_table,
)
from vigie.source_types import SOURCE_TYPES as REGISTERED

ROOT = Path(__file__).resolve().parents[2]
NAMES = {t.name for t in REGISTRY}


def test_the_registry_declares_every_configurable_type_once() -> None:
    union = set(get_args(get_args(Source)[0]))
    assert {t.model for t in REGISTRY} == union
    assert len(REGISTRY) == len(union) == len(REGISTERED) == 11
    assert set(SOURCE_TYPES) == NAMES  # the discriminator values of the configuration
    assert source_type("wazo_cdr").family == "telephony"


def test_the_extract_dispatch_finds_a_connector_for_every_type() -> None:
    stateful = set()
    for t in REGISTRY:
        connector = load_connector(t.name)
        assert isinstance(connector, Connector), t.connector
        if isinstance(connector, AdvancesAfterLanding):
            stateful.add(t.name)
    assert stateful == {"imap"}  # the one read state that moves only after landing


def test_the_landing_contract_is_the_registry_s_tables() -> None:
    assert set(TABLES_BY_SOURCE_TYPE) == NAMES
    for t in REGISTRY:
        assert tuple(TABLES_BY_SOURCE_TYPE[t.name]) == t.tables
    assert {table for t in REGISTRY for table in t.tables} == set(ALL_TABLES)  # no orphan schema


def test_every_type_has_a_family_an_extract_dag_and_a_dag_file() -> None:
    from vigie.airflow_dags import DROPPED_EXPORT_TYPES, EXTRACT_DAG_IDS, FAMILIES

    assert FAMILIES == families()
    assert {name for names in FAMILIES.values() for name in names} == NAMES
    assert set(FAMILIES) == set(FAMILY_NAMES)
    assert set(DROPPED_EXPORT_TYPES) == {"request_register", "satisfaction_survey"}
    dag_files = {p.stem for p in (ROOT / "dags").glob("vigie_extract_*.py")}
    assert dag_files == {*EXTRACT_DAG_IDS, "vigie_extract_dropped_exports"}
    for family in FAMILIES:
        text = (ROOT / "dags" / f"vigie_extract_{family}.py").read_text(encoding="utf-8")
        assert f'build_extract_dag("{family}")' in text


def test_dbt_completeness_judges_every_type_by_its_main_table() -> None:
    """int_source_day_row_counts counts one main table per landed kind; the completeness model
    maps each configured type onto the kind it lands. A new type must be in both, or its days
    would never be judged (int_service_channel_day_gaps matches the kinds by name)."""
    quality = ROOT / "dbt_project" / "models" / "intermediate" / "quality"
    counts_sql = (quality / "int_source_day_row_counts.sql").read_text(encoding="utf-8")
    counted = dict(
        (table, kind) for kind, table in re.findall(
            r"'(\w+)' as source_type, day from \{\{ landing_scan\('(\w+)'\) \}\}", counts_sql)
    )
    assert counted == {"queue_log_events": "asterisk_queue_log", "cdr_legs": "asterisk_cdr_csv",
                       "email_messages": "maildir", "glpi_tickets": "glpi_sql"}
    completeness_sql = (quality / "int_source_day_completeness.sql").read_text(encoding="utf-8")
    kind_of = {
        name.strip().strip("'"): kind
        for names, kind in re.findall(r"when source_type in \(([^)]*)\) then '(\w+)'", completeness_sql)
        for name in names.split(",")
    }
    for t in REGISTRY:
        main = t.tables[0]
        if main in counted:
            assert kind_of.get(t.name, t.name) == counted[main], t.name
        else:  # registers and surveys: no volume judged (DECISIONLOG Part 6 "Scope")
            assert t.name not in kind_of and t.name not in counted.values(), t.name
    gaps_sql = (quality / "int_service_channel_day_gaps.sql").read_text(encoding="utf-8")
    fed_kinds = set(re.findall(r"where g\.source_type = '(\w+)'", gaps_sql))
    assert fed_kinds == set(counted.values())  # every counted kind says which cells it feeds


def test_the_configuration_reference_lists_every_registered_type() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert markdown_table() in docs  # regenerate with: python -m vigie.source_types
    documented = set(re.findall(r"^### `type: (\w+)`", docs, flags=re.MULTILINE))
    assert documented == NAMES


def test_the_landing_page_lists_every_type_s_tables() -> None:
    docs = (ROOT / "docs" / "landing.md").read_text(encoding="utf-8")
    assert tables_markdown_table() in docs  # regenerate with: python -m vigie.source_types tables


# Keys by which a source maps its queues, contexts, mailboxes, groups... to service codes.
SERVICE_KEYS = {"queues": {"q": "SVC"}, "services_by_dcontext": {"ctx": "SVC"}, "groups": {1: "SVC"},
                "categories": {2: "SVC"}, "services": {"v": "SVC"}, "default_service": "SVC"}


def test_every_type_s_service_codes_are_checked_at_load() -> None:
    """A type added to the registry but not to the configuration's service-code check would
    accept a service code that does not exist: each of its mapping keys must be seen."""
    for t in REGISTRY:
        fields = t.model.model_fields
        values: dict[str, object] = {k: v for k, v in SERVICE_KEYS.items() if k in fields}
        if "mailboxes" in fields:
            (item,) = get_args(fields["mailboxes"].annotation)
            values["mailboxes"] = [item.model_construct(name="m", service="SVC")]
        assert values, f"{t.name} maps no service"
        source = t.model.model_construct(id="src", type=t.name, **values)
        refs = list(_source_service_references(source))
        assert len(refs) == len(values) and {code for _, code in refs} == {"SVC"}, (t.name, refs)
