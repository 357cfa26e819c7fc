"""The mailing mode: campaigns with their progress and recipients, templates with a live preview."""

from pathlib import Path

from db import labels

# The words a campaign is described by, stored in English and said in the language at the edge.
CHANNEL = labels.MAILING_CHANNEL
PURPOSE = labels.CAMPAIGN_PURPOSE

# Absolute, because Textual resolves a relative CSS_PATH against the module of a subclass; one stylesheet for
# the mode's screens and dialogs.
CSS = Path(__file__).with_name("mailing.tcss")
