# Production image: the pinned official Airflow image plus Vigie and its locked dependencies.
FROM apache/airflow:3.3.2-python3.11
USER root
# WeasyPrint (vigie results: affiche.pdf, rapport.pdf) renders through Pango (>= 1.44) and needs
# a font with French accents.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
# Every mount point exists in the image, owned by airflow: a new named volume takes the ownership
# of the directory it is mounted on, so the writable volumes come up writable by the airflow user.
RUN mkdir -p /opt/vigie/config /opt/vigie/sources/asterisk /opt/vigie/sources/maildir \
      /opt/vigie/sources/registers /opt/vigie/var/warehouse /opt/vigie/var/landing \
      /opt/vigie/var/bi /opt/vigie/var/outbox /opt/vigie/var/gx /opt/vigie/var/data_docs \
      /opt/airflow/logs \
    && chown -R airflow:0 /opt/vigie /opt/airflow/logs
USER airflow
WORKDIR /opt/vigie
COPY --chown=airflow:0 requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY --chown=airflow:0 vigie ./vigie
COPY --chown=airflow:0 connectors ./connectors
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 deploy ./deploy
RUN pip install --no-cache-dir --no-deps -e .
