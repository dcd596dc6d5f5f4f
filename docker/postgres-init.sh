#!/bin/sh
# Creates the login role the service runs as. The migrations grant it table privileges; it owns
# nothing, so forced row-level security applies to every query it makes.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE refhub_app LOGIN PASSWORD '${APP_DB_PASSWORD}';
SQL
