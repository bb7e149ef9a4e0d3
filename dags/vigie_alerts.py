"""Airflow DAG vigie_alerts (see vigie.airflow_dags for the whole chain)."""

from vigie.airflow_dags import build_alerts_dag

dag = build_alerts_dag()
