-- The language each login chose for itself (issue 12); it wins over the shop's `language` setting.
-- A login changes its own row only, through the two definer functions below; nobody changes another
-- person's choice.
CREATE TABLE public.login_language (
    login    text PRIMARY KEY,
    language text NOT NULL CHECK (language IN ('en', 'ru', 'ro')),
    set_at   timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON public.login_language FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.login_language TO clientbase_owner;
-- The two roles that read everything read this too (a backup by the administrator dumps every table).
GRANT SELECT ON public.login_language TO clientbase_admin, clientbase_manager;
SELECT public.cb_audit_table('public.login_language');

-- NULL when the login has not chosen one.
CREATE FUNCTION public.my_language() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT language FROM public.login_language WHERE login = session_user
$$;

-- NULL forgets the choice, so that the shop's language applies again.
CREATE FUNCTION public.set_my_language(chosen text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF chosen IS NULL THEN
        DELETE FROM public.login_language WHERE login = session_user;
    ELSE
        INSERT INTO public.login_language AS l (login, language) VALUES (session_user, chosen)
            ON CONFLICT (login) DO UPDATE SET language = excluded.language, set_at = now();
    END IF;
END $$;

REVOKE ALL ON FUNCTION public.my_language(), public.set_my_language(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.my_language(), public.set_my_language(text)
    TO clientbase_admin, clientbase_manager, clientbase_sales, clientbase_mailer;
