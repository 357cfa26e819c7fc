-- The per-client analytics results are written without WAL: a refresh replaces a million rows of the idle
-- slot, and logging them cost more than computing them (on the 1M demo base the insert of the slot took
-- 2.6-3.9 s logged, 1.2-1.5 s unlogged, under the same load).
--
-- What that trades: the rows are derived, nobody edits them, and every refresh rebuilds its slot whole from
-- the purchases. After a server crash (not a clean restart) PostgreSQL empties unlogged tables, so the
-- published run's per-client rows are gone until the next refresh (the cron job, or "Refresh" on the
-- dashboard), while its aggregates, which stay logged, still show. pg_dump still dumps them; a streaming
-- standby would hold them empty. The run table, the aggregates and the segment map stay logged.
ALTER TABLE analytics_client_0 SET UNLOGGED;
ALTER TABLE analytics_client_1 SET UNLOGGED;
