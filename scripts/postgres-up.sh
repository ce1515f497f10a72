#!/usr/bin/env bash
# Start the machine's PostgreSQL 15 and create the role and database the tests use.
# Idempotent: safe to run on a fresh machine and again on a running one. Loopback only.
set -euo pipefail
ROLE="${AFTERSALES_PG_ROLE:-aftersales}"
PASSWORD="${AFTERSALES_PG_PASSWORD:-aftersales-test}"   # a throwaway password for a local test db
DB="${AFTERSALES_PG_DB:-aftersales_test}"

if ! command -v pg_ctlcluster >/dev/null; then
  echo "postgres-up: PostgreSQL is not installed (pg_ctlcluster not found)" >&2; exit 1
fi
if ! pg_lsclusters -h | awk '$1==15 && $2=="main"' | grep -q .; then
  pg_createcluster 15 main >/dev/null
fi
if ! pg_lsclusters -h | awk '$1==15 && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster 15 main start
fi
for _ in $(seq 1 50); do
  runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.2
done
psql_admin() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='${ROLE}'")" != "1" ]; then
  psql_admin -c "CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='${DB}'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE ${DB} OWNER ${ROLE}"
fi
echo "postgresql://${ROLE}:***@127.0.0.1:5432/${DB}"
