#!/bin/sh
# The two-level network (profile "network"): the city platform's own HAPI and facade databases.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c "CREATE DATABASE city_hapi OWNER \"$POSTGRES_USER\";"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c "CREATE DATABASE city_facade OWNER \"$POSTGRES_USER\";"
