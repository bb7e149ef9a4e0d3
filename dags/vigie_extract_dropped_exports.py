"""Airflow DAG: land courrier registers and survey exports as soon as they are dropped
(an asset watcher in the triggerer; see vigie.airflow_dags and vigie.export_watch).

No DAG is defined when the configuration has no register or survey source."""

from vigie.airflow_dags import build_dropped_exports_dag

dag = build_dropped_exports_dag()
