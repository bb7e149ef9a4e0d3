"""Airflow DAG: land one night of every email source (see vigie.airflow_dags)."""

from vigie.airflow_dags import build_extract_dag

dag = build_extract_dag("email")
