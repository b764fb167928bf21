"""Collectors that read plants' PLCs and servers (Modbus TCP, OPC UA) into TimescaleDB."""
