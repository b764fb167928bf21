"""A small activated-sludge plant served over Modbus TCP and OPC UA."""
