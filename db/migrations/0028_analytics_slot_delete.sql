-- The analytics refresh empties its idle slot with a TRUNCATE, which waits for every lock on the partition.
-- A reading login idle in a transaction that touched analytics_client (a psql BEGIN and a SELECT; runtime
-- pruning locks both partitions) held the administrator's refresh for up to the idle timeout, 10 minutes. The
-- refresh now gives the TRUNCATE three seconds and then deletes the slot's rows instead, which a reader's lock
-- does not block; for that the administrator may delete from the partitions, as from the other derived tables.
GRANT DELETE ON public.analytics_client_0, public.analytics_client_1 TO clientbase_admin;
