# Clearwell's services for sites that run Docker (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CLEARWELL_HOST=0.0.0.0 CLEARWELL_DATA_DIR=/var/lib/clearwell
WORKDIR /app
COPY pyproject.toml README.md ./
COPY clearwell ./clearwell
COPY ingest ./ingest
COPY logbook ./logbook
COPY compliance ./compliance
COPY dashboards ./dashboards
COPY simulators ./simulators
COPY sitefile ./sitefile
COPY demo ./demo
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/clearwell clearwell \
    && mkdir -p /var/lib/clearwell && chown clearwell /var/lib/clearwell
USER clearwell
EXPOSE 8000 5020 4840
ENTRYPOINT ["clearwell"]
CMD ["serve"]
