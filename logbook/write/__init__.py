"""The logbook's writes: each record's checks, its insert, its audit append and reactions.

Routers parse the request, authorize by role and call these inside their transaction;
the read side is ``logbook.store``.
"""
