"""Airflow DAG vigie_night: one night's transform, checks, alerts and BI snapshot
(see vigie.airflow_dags for the whole chain)."""

from vigie.airflow_dags import build_night_dag

dag = build_night_dag()
