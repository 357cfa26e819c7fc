-- Issue 14: in the mailing mode "the admin writes; everyone else reads". Salespeople read campaigns but not
-- the templates nor whom a campaign went to, so their screen showed counts only. They read now what the
-- screen shows, and still write nothing: these are SELECT grants only, and TEMP stays closed to them (a
-- temporary table named like one of these cannot shadow it, README rule 2).
--
-- What this adds to what a salesperson already reads:
--   template: the text the shop sends to every client, no personal data, no secret (the SMTP and gateway
--     secrets live outside the base; tests/test_mailing_roles.py checks no column may grow to hold one).
--   message: per client, the address a campaign wrote to (the client's contact point, which they read on the
--     card already), the state, the attempts, the server's reply and the trigger's values (drawn from client
--     data they read). Not the lease: its token and the worker's host and process are the delivery's own
--     business, so the grant names its columns and leaves those two out.
--   The suppression list stays closed (0007 gives them only their own clients' unsubscribes, on the card).
GRANT SELECT ON public.template TO clientbase_sales;
GRANT SELECT (id, campaign_id, variant_id, client_id, channel, address, status, skip_reason, attempts, not_before,
              lease_until, sent_at, error, created_at, last_reply, extra)
    ON public.message TO clientbase_sales;
