"""Airflow DAG vigie_publish (see vigie.airflow_dags for the whole chain)."""

from vigie.airflow_dags import build_publish_dag

dag = build_publish_dag()
