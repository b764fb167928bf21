"""The operators' record: people, shifts, entries, samples, amendments, audit chain, signatures."""
