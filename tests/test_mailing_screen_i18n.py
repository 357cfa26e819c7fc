"""The mailing mode in Russian and Romanian at 80x24, driven by real keys: the lists, the new-campaign form, a
campaign with its audience and counts, the recipients' search and the template editor say everything in the
language, and every key the footer offers is reachable."""

from __future__ import annotations

from db.i18n import t
from screens.mailing.campaign import CampaignScreen
from screens.mailing.campaign_form import CampaignForm
from screens.mailing.template_editor import TemplateEditor
from tests.pilot import screen_text, settle
from tests.test_i18n_screens import assert_footer_keys_reachable, assert_speaks, count_at_once, shop  # noqa: F401
from tests.test_mailing_fixtures import GREETING_EMAIL, save_template
from tests.test_mailing_screen import make_app


async def test_the_mailing_mode_speaks_the_language(shop):
    db, language = shop
    with db.connect("admin", autocommit=True) as conn:
        save_template(conn, "Осень", GREETING_EMAIL)
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert t("Campaigns") in screen_text(app)
        assert_speaks(screen_text(app), language)
        assert_footer_keys_reachable(app)

        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CampaignForm)
        assert_speaks(screen_text(app), language)
        await pilot.press(*"Осенняя акция", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert t("Left out: {reasons}", reasons="")[:5] in screen_text(app)
        assert_speaks(screen_text(app), language)
        assert_footer_keys_reachable(app)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("slash", *"ива")
        await settle(pilot)
        assert_speaks(screen_text(app), language)
        assert_footer_keys_reachable(app)

        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert_speaks(screen_text(app), language)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TemplateEditor)
        # The template's own source names its fields in English: data, not the interface.
        assert_speaks(screen_text(app).replace("first_name", ""), language)
        assert_footer_keys_reachable(app)
