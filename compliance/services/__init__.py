"""Compliance's services: the records written (certificates, training, facility profiles)
and the reports read (coverage, the floor view, expiries), for the API's routers and the
pages. Routers parse, authorize and call these; a refusal is an ``errors`` exception."""
