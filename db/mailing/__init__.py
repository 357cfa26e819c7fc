"""Mailing in the database: templates, campaigns and their enqueueing, the delivery queue's state changes."""
