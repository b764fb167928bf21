"""The shift report: a printable record of one shift (PDF and HTML)."""
