-- Sésame's database on Debian 12's PostgreSQL 15: run once as the postgres user,
--   sudo -u postgres psql -v password="'…'" -f deploy/postgresql/setup.sql
-- The role owns its database and nothing else; it is not a superuser and cannot create roles or
-- databases (migrations need only ownership).
CREATE ROLE sesame LOGIN PASSWORD :password NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE sesame OWNER sesame ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'
    TEMPLATE template0;
REVOKE ALL ON DATABASE sesame FROM PUBLIC;
\connect sesame
-- PostgreSQL 15: nobody but the owner creates objects in public.
ALTER SCHEMA public OWNER TO sesame;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- Each statement of Sésame is short: anything that waits longer is a lock gone wrong.
ALTER ROLE sesame SET statement_timeout = '30s';
ALTER ROLE sesame SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE sesame SET lock_timeout = '10s';
ALTER ROLE sesame SET timezone = 'UTC';
