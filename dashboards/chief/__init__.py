"""The chief operator's page: a month of DRC coverage, findings, expiries, review lists."""
