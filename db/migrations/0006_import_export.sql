-- Import and backup need the administrator to reach the identity sequences: an import reserves the
-- ids of the clients and purchases it creates (so that their contacts and lines can point at them
-- before they exist), and pg_dump reads every sequence it saves.
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO clientbase_admin;
