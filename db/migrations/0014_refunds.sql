-- Refunds (issue 13): a purchase with a negative amount is money given back.
--
-- What a refund counts toward, here and in the analytics (db/analytics/refresh.py):
--   * it lowers the client's total_spent and total_profit (and M, revenue and profit in the analytics);
--   * it is not a purchase: purchase_count, first_purchase_at and last_purchase_at (and F and R) count only
--     rows with amount >= 0, so a client with only refunds stays a "potential" client, a Prospect.
-- A zero amount is refused where people type amounts (the card, the import), but bases hold some: the demo
-- wrote a returned order as amount 0 with the shipping's cost, before refunds existed. The statistics keep
-- counting those as they always did (no constraint here makes such a row unwritable, nothing is recounted);
-- the analytics' F counts amount > 0 only, as it always did.
--
-- A refund's cost is the cost of the goods that came back, so it is negative or zero: the profit of a
-- refund, amount - cost, then takes back only the margin of the sale it undoes. The same holds per line.

ALTER TABLE purchase DROP CONSTRAINT purchase_amount_check;
ALTER TABLE purchase DROP CONSTRAINT purchase_cost_check;
ALTER TABLE purchase ADD CONSTRAINT purchase_cost_check
    CHECK (CASE WHEN amount < 0 THEN cost <= 0 ELSE cost >= 0 END);

ALTER TABLE purchase_line DROP CONSTRAINT purchase_line_price_check;
ALTER TABLE purchase_line DROP CONSTRAINT purchase_line_cost_check;
ALTER TABLE purchase_line ADD CONSTRAINT purchase_line_cost_check
    CHECK (CASE WHEN price < 0 THEN cost <= 0 ELSE cost >= 0 END);

CREATE OR REPLACE FUNCTION public.refresh_client_stats(client_ids bigint[]) RETURNS void LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM public.client WHERE id = ANY (client_ids) ORDER BY id FOR UPDATE;
    UPDATE public.client c
       SET purchase_count = s.n, total_spent = s.spent, total_profit = s.profit,
           first_purchase_at = s.first_at, last_purchase_at = s.last_at
      FROM (SELECT ids.id AS client_id, count(p.id) FILTER (WHERE p.amount >= 0) AS n,
                   coalesce(sum(p.amount), 0) AS spent,
                   coalesce(sum(p.amount - coalesce(p.cost, 0)), 0) AS profit,
                   min(p.purchased_at) FILTER (WHERE p.amount >= 0) AS first_at,
                   max(p.purchased_at) FILTER (WHERE p.amount >= 0) AS last_at
              FROM unnest(client_ids) AS ids(id)
              LEFT JOIN public.purchase p ON p.client_id = ids.id
             GROUP BY ids.id) s
     WHERE c.id = s.client_id
       AND (c.purchase_count, c.total_spent, c.total_profit, c.first_purchase_at, c.last_purchase_at)
           IS DISTINCT FROM (s.n, s.spent, s.profit, s.first_at, s.last_at);
END $$;
REVOKE ALL ON FUNCTION public.refresh_client_stats(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.refresh_client_stats(bigint[]) TO clientbase_admin;

SELECT public.cb_secure();
