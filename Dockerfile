# Production image: the pinned official Airflow image plus Vigie and its locked dependencies.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN mkdir -p /opt/vigie && chown airflow:0 /opt/vigie
USER airflow
WORKDIR /opt/vigie
COPY --chown=airflow:0 requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY --chown=airflow:0 vigie ./vigie
COPY --chown=airflow:0 connectors ./connectors
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
RUN pip install --no-cache-dir --no-deps -e .
