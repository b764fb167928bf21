"""What regulators receive: operating reports, DMR values, logbook exports, signed bundles."""
