"""Mailing's headless half: rendering templates, SMTP and SMS gateways, delivery workers (no Textual here)."""
