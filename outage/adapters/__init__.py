"""Adapters to the outside world: the ERP (`erp`), the OLTs and their systems (`cause`), the
message channels (`channels`) and the network's alarms (`alarms`).

They import the core, the configuration and the HTTP helper, never the application or the
web layer; the core never imports them (`tests/test_layers.py`).
"""
