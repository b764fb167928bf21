"""OPC UA collection: sessions, subscription planning, status codes, the collector, browse."""
