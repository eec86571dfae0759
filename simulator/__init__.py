"""The built-in ISP simulator: every external system the monitor talks to, faked for real.

Each fake is a small server on 127.0.0.1 speaking the formats in the real systems' documentation, used
by the integration tests, the benchmarks and `python monitor_service.py --demo`.
"""
