"""Pluggable delivery backends (SMS; e-mail uses Django's own EMAIL_BACKEND)."""
