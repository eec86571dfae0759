"""The alarm receivers: one background thread, one asyncio loop, every socket on it.

    service = AlarmService(settings.alarms, olts)      # olts: inventory.load(...)
    service.start()                                     # binds; OSError naming the port if it cannot
    service.refresh(subscribers)                        # with the place populations
    alarms = service.drain(5000)                        # from the poller, never blocks
    service.snapshot()                                  # for /healthz and Saúde
    service.stop()

Per packet, in the loop: the sender must be a known OLT or concentrator and within its rate
(`Intake.admit`), the packet must parse and authenticate (community, RADIUS secret), then it
becomes an `Alarm`, is mapped to its login (`LoginIndex`) and queued. What is refused is
counted by protocol and reason; unknown traps and unreadable messages are logged verbatim at
most once per sender and kind per hour, so a flood cannot flood the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from outage.adapters.alarms import learn, radius, syslog, traps
from outage.adapters.alarms.ber import BerError, Notification, read_notification
from outage.adapters.alarms.directory import Directory, OltSender
from outage.adapters.alarms.event import RADIUS, SNMP, SYSLOG, Alarm, trimmed
from outage.adapters.alarms.index import LoginIndex
from outage.adapters.alarms.intake import Intake
from outage.adapters.cause.inventory import OltEntry
from outage.alarm_settings import AlarmSettings
from outage.clock import SYSTEM_CLOCK, Clock
from outage.core.model import Subscriber
from outage.http import register_secret

log = logging.getLogger(__name__)

MALFORMED = "pacote malformado"
BAD_COMMUNITY = "comunidade SNMP errada"
UNKNOWN_TRAP = "trap desconhecido"
NOT_ALARM = "mensagem sem alarme conhecido"
RECEIVE_BUFFER = 8 * 1024 * 1024  # asked of the kernel (capped by net.core.rmem_max)
PLAUSIBLE_BEFORE = 600.0  # a device's own time is used when at most this much before arrival
PLAUSIBLE_AFTER = 60.0  # ... and at most this much after (clocks drift)
TCP_PAUSE = 0.3  # seconds of silence that end a Huawei alarm block sent line by line
MAX_TCP_CONNECTIONS = 256
LOG_EVERY = 3600.0
RELEARN_EVERY = 6 * 3600.0
RELEARN_AFTER_MISS = 600.0
LEARN_TIMEOUT = 60.0


def device_time(claimed: float | None, received: float) -> float:
    """The device's own time when it agrees with ours (see the PLAUSIBLE_* limits), else arrival."""
    if claimed is not None and received - PLAUSIBLE_BEFORE <= claimed <= received + PLAUSIBLE_AFTER:
        return claimed
    return received


class AlarmService:
    """See the module docstring. `learn=False` skips reading the OLTs' tables (tests, benchmarks)."""

    def __init__(
        self,
        settings: AlarmSettings,
        olts: Mapping[str, OltEntry],
        *,
        clock: Clock = SYSTEM_CLOCK,
        learn: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.learning = learn
        self.directory = Directory(
            olts,
            default_community=settings.snmp_community,
            concentrators=settings.concentrators,
            suspect=settings.user_request_suspect,
        )
        self.index = LoginIndex()
        self.intake = Intake(
            capacity=settings.queue_size,
            rate=settings.rate_per_source,
            burst=settings.burst_per_source,
            clock=clock,
        )
        for olt in self.directory.olts.values():
            expected = bool(olt.entry.snmp_community or olt.entry.addresses)  # set up for alarms
            self.intake.register(olt.key, "olt", olt.entry.name, expected=expected)
        for net in settings.concentrators:
            self.intake.register(f"bng:{net}", "concentrador", net)
        self.patterns = syslog.compile_patterns(settings.bng_logs, settings.bng_log_pattern)
        self.secret = settings.radius_secret.encode()
        for secret in (settings.radius_secret, settings.snmp_community):
            register_secret(secret)
        self.ports: dict[str, int] = {}
        self.learned: dict[str, str] = {}  # OLT id -> what was read (or why not), for the snapshot
        self._learned_mono: dict[str, float] = {}
        self._logged: dict[tuple[str, str], float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._closers: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Future[Any]] = set()
        self._connections = 0

    # ---------------------------------------------------------------- the poller's API

    def start(self) -> None:
        """Bind every configured receiver and serve in a background thread; raises OSError when
        a port cannot be bound (nothing is left running then)."""
        if self._thread is not None or not self.settings.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="alarmes", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._failure is not None:
            self._thread.join(5)
            self._thread = None
            raise OSError(f"alarmes: não foi possível abrir as portas ({self._failure})")

    def stop(self) -> None:
        """Close every socket and end the thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        self._thread = None

    def drain(self, max_items: int) -> list[Alarm]:
        """Up to `max_items` queued alarms, oldest first (thread-safe, never blocks)."""
        return self.intake.drain(max_items)

    def refresh(self, subscribers: Iterable[Subscriber]) -> None:
        """Rebuild the login index from the ERP's rows (in the caller's thread), then read again
        the tables of the OLTs not read for a while (in the background)."""
        self.index.rebuild(subscribers)
        self._soon(self._learn_all)

    def snapshot(self) -> dict[str, Any]:
        """What `/healthz` and Saúde show: per protocol and device, received, refused (by reason),
        without login; the OLTs silent for longer than ALARM_SILENT_AFTER; the open ports."""
        report = self.intake.snapshot(self.settings.silent_after)
        report["portas"] = dict(self.ports)
        report["descartados_pelo_sistema"] = {
            name: drops
            for name, port in self.ports.items()
            if not name.endswith("_tcp") and (drops := udp_drops(port)) is not None
        }
        report["ativo"] = self._thread is not None
        report["logins_conhecidos"] = self.index.subscribers
        report["tabelas_das_olts"] = dict(self.learned)
        return report

    # ---------------------------------------------------------------- the loop

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._open())
        except Exception as exc:  # any bind failure is reported to start()
            self._failure = exc
            self._close(loop)
            self._ready.set()
            return
        self._ready.set()
        if self.learning:
            loop.call_soon(self._learn_all)
        try:
            loop.run_forever()
        finally:
            self._close(loop)

    def _close(self, loop: asyncio.AbstractEventLoop) -> None:
        for close in self._closers:
            with contextlib.suppress(Exception):
                close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    def _soon(self, action: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None and self._thread is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(action)

    async def _open(self) -> None:
        s = self.settings
        if s.snmp_port:
            await self._udp(SNMP, s.snmp_port, self._on_trap)
        if s.syslog_port:
            await self._udp(SYSLOG, s.syslog_port, self._on_syslog_datagram)
            server = await asyncio.start_server(
                self._on_syslog_stream, s.listen, s.syslog_port, limit=1 << 16
            )
            self._closers.append(server.close)
            self.ports["syslog_tcp"] = server.sockets[0].getsockname()[1]
        if s.radius_port:
            await self._udp(RADIUS, s.radius_port, self._on_radius)
        log.info("alarmes: recebendo em %s", ", ".join(f"{k} {v}" for k, v in self.ports.items()))

    async def _udp(self, name: str, port: int, handler: Callable[[bytes, Any, Any], None]) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.settings.listen else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind((self.settings.listen, port))
        except OSError as exc:
            sock.close()
            raise OSError(f"{name} UDP {port}: {exc.strerror or exc}") from exc
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(handler), sock=sock)
        self._closers.append(transport.close)
        self.ports[name if name != SYSLOG else "syslog_udp"] = sock.getsockname()[1]

    def _log_once(self, key: tuple[str, str], message: str, *args: object) -> None:
        """Log at most once per key per hour (a flood must not flood the log)."""
        now = self.clock.monotonic()
        if now - self._logged.get(key, -LOG_EVERY) >= LOG_EVERY:
            if len(self._logged) > 10_000:
                self._logged.clear()
            self._logged[key] = now
            log.warning(message, *args)

    def _queue(self, alarm: Alarm, device: str, hint: str = "") -> None:
        mapped_alarm, mapped = self.index.resolve(alarm, hint)
        self.intake.accept(mapped_alarm, device, mapped=mapped)
        if not mapped and alarm.olt:
            self._soon(lambda: self._learn_after_miss(alarm.olt))

    # ---------------------------------------------------------------- SNMP

    def _on_trap(self, data: bytes, addr: Any, transport: Any) -> None:
        sender = addr[0]
        olt = self.directory.olt_at(sender)
        if not self.intake.admit(SNMP, sender, olt.key if olt else None) or olt is None:
            return
        try:
            note = read_notification(data)
        except BerError as exc:
            self.intake.refuse(SNMP, MALFORMED, olt.key)
            self._log_once(
                (sender, "ber"), "alarmes: trap ilegível de %s (%s): %s", sender, exc, data[:200].hex()
            )
            return
        if not olt.accepts(note.community):
            self.intake.refuse(SNMP, BAD_COMMUNITY, olt.key)
            self._log_once((sender, "community"), "alarmes: trap de %s com comunidade errada", sender)
            return
        if note.inform:
            transport.sendto(note.response(data), addr)
        self._trap(note, olt, sender)

    def _trap(self, note: Notification, olt: OltSender, sender: str) -> None:
        ident = olt.entry.id_transmissor
        facts = traps.read(note, lambda if_index: self.index.port_name(ident, if_index))
        raw = _trap_text(note)
        if facts is None:
            self.intake.refuse(SNMP, UNKNOWN_TRAP, olt.key)
            self._log_once(
                (sender, note.trap_oid), "alarmes: trap desconhecido da OLT %s: %s", olt.entry.name, raw
            )
            return
        now = self.clock.wall()
        alarm = Alarm(
            SNMP,
            sender,
            facts.kind,
            now,
            now,
            facts.cause,
            facts.reason,
            olt=ident,
            fsp=facts.fsp,
            ont_id=facts.ont_id,
            serial=facts.serial,
            affected=facts.affected,
            dying_gasp=facts.dying_gasp,
            raw=raw,
        )
        self._queue(alarm, olt.key, facts.login_hint)

    # ---------------------------------------------------------------- syslog

    def _on_syslog_datagram(self, data: bytes, addr: Any, transport: Any) -> None:
        sender = addr[0]
        device = self.directory.device_at(sender)
        if self.intake.admit(SYSLOG, sender, device) and device is not None:
            self._syslog(data[: syslog.MAX_MESSAGE], sender, device)

    async def _on_syslog_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender = str(writer.get_extra_info("peername")[0])
        device = self.directory.device_at(sender)
        if device is None or self._connections >= MAX_TCP_CONNECTIONS:
            self.intake.admit(SYSLOG, sender, None if device is None else device)
            if device is not None:
                self.intake.refuse(SYSLOG, "conexões TCP demais", device)
            writer.close()
            return
        self._connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        framer = syslog.StreamFramer()
        try:
            while not framer.broken:
                try:
                    chunk = await asyncio.wait_for(
                        reader.read(1 << 16), TCP_PAUSE if framer.waiting else None
                    )
                except TimeoutError:
                    chunk = None
                messages = framer.feed(chunk) if chunk else framer.flush()
                for message in messages:
                    if self.intake.admit(SYSLOG, sender, device):
                        self._syslog(message, sender, device)
                if chunk == b"":
                    break
            if framer.broken:
                self.intake.refuse(SYSLOG, "enquadramento TCP inválido", device)
        except (ConnectionError, OSError):
            pass
        finally:
            self._connections -= 1
            self._tasks.discard(task)
            for _ in range(framer.oversized):
                self.intake.refuse(SYSLOG, "mensagem grande demais (cortada)", device)
            writer.close()

    def _syslog(self, data: bytes, sender: str, device: str) -> None:
        text = syslog.unescape(data.decode("utf-8", "replace"))
        stamp, message = syslog.split_header(text)
        olt = self.directory.olt_at(sender)
        facts = (
            syslog.huawei_block(message) if olt is not None else syslog.session_end(message, self.patterns)
        )
        if facts is None:
            if olt is not None and "ALARM" in message:
                self._log_once(
                    (sender, "block"),
                    "alarmes: bloco de alarme não reconhecido de %s: %s",
                    sender,
                    trimmed(text),
                )
            self.intake.ignore(SYSLOG)
            return
        now = self.clock.wall()
        alarm = Alarm(
            SYSLOG,
            sender,
            facts.kind,
            device_time(facts.at if facts.at is not None else stamp, now),
            now,
            facts.cause,
            facts.reason,
            olt=olt.entry.id_transmissor if olt is not None else "",
            concentrator="" if olt is not None else sender,
            fsp=facts.fsp,
            ont_id=facts.ont_id,
            serial=facts.serial,
            login=facts.login,
            raw=trimmed(text),
        )
        self._queue(alarm, device)

    # ---------------------------------------------------------------- RADIUS

    def _on_radius(self, data: bytes, addr: Any, transport: Any) -> None:
        sender = addr[0]
        device = self.directory.concentrator_at(sender)
        if not self.intake.admit(RADIUS, sender, device) or device is None:
            return
        try:
            accounting = radius.read(data, self.secret, sender, self.directory.suspect)
        except radius.Refused as exc:
            self.intake.refuse(RADIUS, str(exc), device)
            self._log_once((sender, str(exc)), "alarmes: RADIUS de %s recusado: %s", sender, exc)
            return
        transport.sendto(accounting.reply, addr)
        if not accounting.kind:
            self.intake.ignore(RADIUS)
            return
        now = self.clock.wall()
        claimed = accounting.at if accounting.at is not None else now - accounting.delay
        alarm = Alarm(
            RADIUS,
            sender,
            accounting.kind,
            device_time(claimed, now),
            now,
            accounting.cause,
            accounting.reason,
            concentrator=accounting.nas,
            login=accounting.login,
            raw=trimmed(accounting.summary),
        )
        self._queue(alarm, device)

    # ---------------------------------------------------------------- learning the OLTs' tables

    def _learn_all(self) -> None:
        if not self.learning:
            return
        now = self.clock.monotonic()
        for ident in self.directory.olts:
            if now - self._learned_mono.get(ident, -RELEARN_EVERY) >= RELEARN_EVERY:
                self._learn(ident)

    def _learn_after_miss(self, ident: str) -> None:
        if (
            self.learning
            and self.clock.monotonic() - self._learned_mono.get(ident, -RELEARN_AFTER_MISS)
            >= RELEARN_AFTER_MISS
        ):
            self._learn(ident)

    def _learn(self, ident: str) -> None:
        self._learned_mono[ident] = self.clock.monotonic()
        task = asyncio.ensure_future(self._read_tables(self.directory.olts[ident].entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_tables(self, olt: OltEntry) -> None:
        """Read what the OLT's alarms need: ZTE ports by SNMP; Huawei ONTs by SNMP or SSH."""
        ident = olt.id_transmissor
        try:
            if olt.vendor == "zte" and olt.snmp_read_community:
                ports = await learn.zte_ports(olt)
                self.index.learn_ports(ident, ports)
                self.learned[ident] = f"{len(ports)} PONs (SNMP)"
            elif olt.vendor == "huawei" and olt.snmp_read_community:
                onts = await learn.huawei_onts_snmp(olt)
                self.learned[ident] = f"{self.index.learn_onts(ident, onts)} ONTs (SNMP)"
            elif olt.vendor == "huawei" and olt.backend == "ssh" and olt.host:
                slots = self._slots_of(ident)
                loop = asyncio.get_running_loop()
                onts = await loop.run_in_executor(None, learn.huawei_onts_cli, olt, slots, LEARN_TIMEOUT)
                self.learned[ident] = f"{self.index.learn_onts(ident, onts)} ONTs (SSH)"
        except learn.LearnError as exc:
            self.learned[ident] = f"falhou: {exc}"
            log.warning("alarmes: %s", exc)

    def _slots_of(self, ident: str) -> list[str]:
        """The `F/S` of every PON the ERP names on that OLT."""
        return sorted(
            {p.fsp.rsplit("/", 1)[0] for p in self.index.places() if p.olt == ident and p.fsp.count("/") == 2}
        )


class _Datagrams(asyncio.DatagramProtocol):
    """Hands each datagram to the service; nothing a sender does can raise out of here."""

    def __init__(self, handler: Callable[[bytes, Any, Any], None]) -> None:
        self.handler = handler
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            self.handler(data, addr, self.transport)
        except Exception:  # a bug must cost one packet, never the receiver
            log.exception("alarmes: erro ao tratar um pacote de %s", addr[0] if addr else "?")

    def error_received(self, exc: Exception) -> None:
        log.debug("alarmes: erro de socket: %s", exc)


def udp_drops(port: int) -> int | None:
    """Datagrams the kernel dropped on our UDP socket at `port` (receive buffer full), from
    Linux's /proc/net/udp and udp6 (last column); None elsewhere or for a TCP port."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table, encoding="ascii") as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 12 and fields[1].endswith(suffix) and fields[3] == "07":
                return int(fields[-1])
    return None


def _trap_text(note: Notification) -> str:
    """A trap as one line for the log: its OID and every varbind, values as text."""
    parts = [note.trap_oid]
    for oid, value in note.varbinds:
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        parts.append(f"{oid}={shown}")
    return trimmed(" ".join(parts))
