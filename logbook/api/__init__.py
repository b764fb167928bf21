"""The logbook's HTTP API under ``/api``: one router module per resource."""
