#!/bin/sh
# One role and one database per service: role <service> owns database supervision_<service>, and
# PUBLIC may not connect to it, so a service can open no other service's store. The passwords are
# the keys of Secret postgresql-roles (mounted at /run/secrets/roles, one file per service).
# Runs on the first start of an empty data directory (docker-entrypoint-initdb.d). Idempotent: for a
# service added later, or after rotating a password in postgresql-roles, run it again:
#   kubectl exec postgresql-0 -- sh /docker-entrypoint-initdb.d/10-services.sh
set -eu
for file in /run/secrets/roles/*; do
  [ -f "$file" ] || continue
  service=$(basename "$file")
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
       -v role="$service" -v db="supervision_$service" -v password="$(cat "$file")" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')\gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT ALL ON DATABASE :"db" TO :"role";
SQL
  echo "10-services.sh: role $service, database supervision_$service"
done
