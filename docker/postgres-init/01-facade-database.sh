#!/bin/sh
# The facade keeps its own state (credentials, receipts, audit outbox) in a database of its own.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c "CREATE DATABASE facade OWNER \"$POSTGRES_USER\";"
