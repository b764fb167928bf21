"""Modbus TCP: request planning and decoding (pure), and the poller of one device."""
