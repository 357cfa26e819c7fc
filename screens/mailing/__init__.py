"""The mailing mode: campaigns with their progress and recipients, templates with a live preview."""

from pathlib import Path

from db.i18n import N_

# The words a campaign is described by, stored in English and said in the language at the edge.
CHANNEL = {"email": N_("e-mail"), "sms": N_("SMS")}
PURPOSE = {"marketing": N_("marketing"), "greeting": N_("greeting"), "service": N_("service")}

# Absolute, because Textual resolves a relative CSS_PATH against the module of a subclass; one stylesheet for
# the mode's screens and dialogs.
CSS = Path(__file__).with_name("mailing.tcss")
