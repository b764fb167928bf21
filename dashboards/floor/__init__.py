"""The floor terminal: live tiles, alarms, the shift panel and the record forms."""
