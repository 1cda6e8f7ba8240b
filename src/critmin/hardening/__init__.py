"""Hardening for the shared demo: the SQL guard and query timeout (`sandbox`)."""
