"""Logins, sessions and the FastAPI dependencies other routers use (see ``deps``)."""
