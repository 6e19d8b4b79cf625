#!/bin/sh
# Run once by the postgres image when the primary's data directory is first created
# (/docker-entrypoint-initdb.d): a role the replica streams with, and a pg_hba.conf line that
# lets it connect for replication ("all" in pg_hba.conf does not cover replication).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
