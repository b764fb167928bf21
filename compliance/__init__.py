"""Certified operator on duty and direct responsible charge, by state rule packs."""
