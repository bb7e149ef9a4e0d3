"""Airflow DAG vigie_transform (see vigie.airflow_dags for the whole chain)."""

from vigie.airflow_dags import build_transform_dag

dag = build_transform_dag()
