"""The regulator's pages: a facility's records for a period, each with its amendments."""
