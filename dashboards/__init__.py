"""Web pages: the floor terminal, the chief operator's review, trends and exports."""
