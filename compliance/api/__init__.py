"""The compliance API under ``/api/compliance``: one router module per resource, combined
in ``routes``. Records are appended, never edited; every write is in the audit chain.

Who may do what: chief operators and admins write; chief operators, admins and regulators
(``Auditor``) read reports and everyone's records; anyone logged in sees the floor view
(``/now``), a facility's profile and their own certificates and training.
"""
