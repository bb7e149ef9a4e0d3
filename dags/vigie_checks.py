"""Airflow DAG vigie_checks (see vigie.airflow_dags for the whole chain)."""

from vigie.airflow_dags import build_checks_dag

dag = build_checks_dag()
