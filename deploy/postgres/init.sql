-- Databases of the docker-compose platform; run once, by the postgres image's entrypoint,
-- when its data volume is empty (docker-entrypoint-initdb.d).
--
-- One database and one login role per store, each role owning its own database and nothing
-- else: a service cannot read another's store (DESIGN.md: no other service reads it), and
-- the personal-data key store has credentials of its own. Each service creates its own
-- tables on first start (eventsourcing's recorders, fpb_relay_positions, the read models),
-- which PostgreSQL 15 allows only to the database owner (the public schema belongs to
-- pg_database_owner), hence OWNER below.
--
-- The password comes from the container's environment (FPB_DB_PASSWORD, set by
-- docker-compose.yml), not from this file. One password for all roles is a development
-- shortcut; production credentials are per role (deploy/k8s/README.md).

\set ON_ERROR_STOP on
\getenv fpb_password FPB_DB_PASSWORD
\if :{?fpb_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'FPB_DB_PASSWORD is not set in the postgres container'; END $$;
\endif

CREATE ROLE fpb_intake       LOGIN PASSWORD :'fpb_password';
CREATE ROLE fpb_verification LOGIN PASSWORD :'fpb_password';
CREATE ROLE fpb_enforcement  LOGIN PASSWORD :'fpb_password';
CREATE ROLE fpb_reporting    LOGIN PASSWORD :'fpb_password';
CREATE ROLE fpb_keystore     LOGIN PASSWORD :'fpb_password';
CREATE ROLE fpb_identity     LOGIN PASSWORD :'fpb_password';

CREATE DATABASE fpb_intake       OWNER fpb_intake;
CREATE DATABASE fpb_verification OWNER fpb_verification;
CREATE DATABASE fpb_enforcement  OWNER fpb_enforcement;
CREATE DATABASE fpb_reporting    OWNER fpb_reporting;
CREATE DATABASE fpb_keystore     OWNER fpb_keystore;
-- The built-in OpenID provider's user directory (argon2 hashes, clients, lockouts).
CREATE DATABASE fpb_identity     OWNER fpb_identity;

-- PUBLIC may connect to any database by default; only the owner may connect here.
REVOKE ALL ON DATABASE fpb_intake       FROM PUBLIC;
REVOKE ALL ON DATABASE fpb_verification FROM PUBLIC;
REVOKE ALL ON DATABASE fpb_enforcement  FROM PUBLIC;
REVOKE ALL ON DATABASE fpb_reporting    FROM PUBLIC;
REVOKE ALL ON DATABASE fpb_keystore     FROM PUBLIC;
REVOKE ALL ON DATABASE fpb_identity     FROM PUBLIC;
