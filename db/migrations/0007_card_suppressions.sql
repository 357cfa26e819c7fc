-- Whether mailings skip a client's addresses, for the card's consent tab. Salespeople may not read the
-- suppression list itself (it is the mailing's business), but may see that their client unsubscribed;
-- SECURITY DEFINER answers exactly that and nothing more. (A migration of its own: 0005 had already
-- reached databases when this was added.)
CREATE FUNCTION card_suppressions(card bigint)
    RETURNS TABLE (contact_id bigint, reason text, since timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT cp.id, s.reason, s.created_at
      FROM contact_point cp
      JOIN suppression s ON s.address = cp.normalized
       AND s.channel = CASE WHEN cp.kind = 'email' THEN 'email' ELSE 'sms' END
     WHERE cp.client_id = card AND cp.kind IN ('email', 'mobile', 'whatsapp')
$$;
REVOKE ALL ON FUNCTION card_suppressions(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION card_suppressions(bigint)
    TO clientbase_admin, clientbase_manager, clientbase_sales;
