-- The rights of DESIGN.md's role table, enforced here and nowhere else. The group roles themselves are
-- cluster-wide and created by `clientbase init` before the migrations run.
--
--   admin    reads everything; writes clients and all their data, purchases, products, segments, custom
--            field definitions, templates, campaigns (with their queue and the suppression list the
--            queue honours) and settings. Never the audit log.
--   manager  reads everything, the audit log included; writes nothing.
--   sales    reads clients and their data, purchases, products, segments, campaigns and settings;
--            not the audit log, templates, the queue or the suppression list; writes nothing.
--   mailer   reads the queue and what rendering needs; writes only the delivery state of messages.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO clientbase_admin, clientbase_manager, clientbase_sales, clientbase_mailer;

GRANT SELECT ON ALL TABLES IN SCHEMA public TO clientbase_admin, clientbase_manager;
GRANT INSERT, UPDATE, DELETE ON settings, company, client, contact_point, relative, product, purchase,
    purchase_line, subscription, interaction, reminder, custom_field, segment, template, campaign,
    campaign_variant, message, suppression TO clientbase_admin;

GRANT SELECT ON settings, company, client, contact_point, relative, product, purchase, purchase_line,
    subscription, interaction, reminder, custom_field, segment, campaign, campaign_variant
    TO clientbase_sales;

GRANT SELECT ON settings, client, contact_point, relative, company, template, campaign, campaign_variant,
    message, suppression TO clientbase_mailer;
GRANT UPDATE (status, skip_reason, attempts, not_before, lease_until, leased_by, sent_at, error)
    ON message TO clientbase_mailer;

GRANT SELECT ON schema_migration TO clientbase_admin, clientbase_manager, clientbase_sales, clientbase_mailer;
