"""The compliance API under ``/api/compliance``: one router module per resource, combined
in ``routes``. Records are appended, never edited; every write is in the audit chain.

Who may do what, where, is the access matrix's (``clearwell.access``): chief operators
write at their sites (never a certificate, training or level of their own) and admins
everywhere; chief operators and regulators read their sites' reports and their people's
records; everyone sees the floor view (``/now``), a facility's profile and policy at their
sites, and their own certificates, training and levels.
"""
