#!/usr/bin/env bash
# Run once by the timescale/timescaledb image when it initialises its data directory
# (docker-compose.yml mounts it into /docker-entrypoint-initdb.d/, after the image's own
# script has created the extension): Clearwell's two roles, the database handed to the
# owner. The same roles as scripts/setup-timescaledb.sh makes on a machine.
set -euo pipefail
psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v u=clearwell -v p="${CLEARWELL_DB_PASSWORD:-clearwell}" \
    -v o=clearwell_owner -v op="${CLEARWELL_DB_OWNER_PASSWORD:-clearwell}" \
    -v d="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'o', :'op')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'o') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'u', :'p')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'d', :'o') \gexec
SQL
