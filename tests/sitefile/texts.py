"""A small valid site file the tests add to: a device, a server and one tag."""

from __future__ import annotations

HEAD = """\
site: {code: demo, name: Demo, timezone: UTC}
modbus:
  devices:
    - {name: plc, host: 127.0.0.1, port: 5020, max_registers_per_request: 100}
opcua:
  servers:
    - {name: scada, endpoint: "opc.tcp://127.0.0.1:4840/"}
tags:
  - name: first
    modbus: {device: plc, register: holding, address: 10, type: float32}
"""  # the first tag is on lines 9-10, a tag added after it on line 11
