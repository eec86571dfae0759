"""Alarms from the network in seconds: OLT SNMP traps and syslog, the concentrator's accounting.

The receivers run in one background thread (`service.AlarmService`) and turn what the devices
send into neutral `event.Alarm` values, mapped to logins (`index.LoginIndex`), for the poller
to `drain()`. Nothing here imports Flask or the detector.
"""
