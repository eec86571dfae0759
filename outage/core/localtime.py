"""The one time zone of the product, and the only place ERP date text becomes a number.

IXCSoft writes dates as `YYYY-MM-DD HH:MM:SS` in local time with no zone
(`0000-00-00 00:00:00` means never). Everything past the ERP adapter works with epoch
seconds; text is made again only for people (`br_*` in the message and page helpers) and
for the original projects' payloads (`erp_text`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")
ERP_FORMAT = "%Y-%m-%d %H:%M:%S"


def zone(name: str) -> tzinfo | None:
    """The IANA zone called `name`, or None when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=65536)
def parse_erp_time(text: str, tz: tzinfo = LOCAL_TZ) -> float:
    """Epoch seconds of an ERP date (`YYYY-MM-DD HH:MM:SS`, local time); 0.0 when never or unreadable.

    Runs once per record of every read (200k in a mass drop, whose session ends repeat):
    answers are cached, and the zone conversion is done once per hour.
    """
    value = text.strip()
    if len(value) < 19 or value.startswith("0000"):
        return 0.0
    minutes, seconds = value[14:16], value[17:19]
    if not (minutes.isascii() and minutes.isdigit() and seconds.isascii() and seconds.isdigit()):
        return 0.0
    hour = _hour_start(value[:13], tz)
    return 0.0 if hour is None else hour + int(minutes) * 60 + int(seconds)


@lru_cache(maxsize=8192)
def _hour_start(prefix: str, tz: tzinfo) -> float | None:
    try:
        return datetime.strptime(prefix, "%Y-%m-%d %H").replace(tzinfo=tz).timestamp()
    except ValueError:
        return None


def erp_text(epoch: float, tz: tzinfo = LOCAL_TZ) -> str:
    """The inverse of `parse_erp_time`: what the ERP (and the original projects) write."""
    if not epoch:
        return "0000-00-00 00:00:00"
    return datetime.fromtimestamp(epoch, tz).strftime(ERP_FORMAT)


def local_datetime(epoch: float) -> datetime:
    """Epoch seconds as an aware datetime in São Paulo time."""
    return datetime.fromtimestamp(epoch, LOCAL_TZ)
