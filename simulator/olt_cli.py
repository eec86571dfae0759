"""A real SSH server on 127.0.0.1 that emulates the Huawei SmartAX and ZTE ZXAN OLT CLIs.

Built on paramiko's server side, it speaks the output shapes of REFERENCE.md §3–4 so the
production code can drive it with netmiko (`huawei_smartax`, `zte_zxros`) unchanged:

    with OltEmulator(vendor="huawei", onus=network_view, command_delay=0.2) as olt:
        ConnectHandler(device_type="huawei_smartax", host=olt.host, port=olt.port, ...)

`onus` is a list of ONU dicts or a callable returning the current list (read on every
command, so state changes are seen live), each like
`{"fsp": "0/1/0", "ont_id": 73, "sn": "48575443A1B2C3D4", "description": "cliente.login",
"run_state": "offline", "last_down_cause": "dying-gasp",
"last_down_time": "2026-03-05 09:55:28-03:00", "last_up_time": "2026-03-05 08:56:12-03:00"}`.

Knobs: `command_delay` (seconds before each command answers), `hung` (accept the login,
then never print anything), wrong credentials are rejected; counters `sessions_opened`,
`commands_run`, `failed_logins` and the list `commands`.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

OnuProvider = Sequence[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]]

_HOST_KEY: paramiko.RSAKey | None = None
_HOST_KEY_LOCK = threading.Lock()

HUAWEI_MORE = "---- More ( Press 'Q' to break ) ----"
ZTE_MORE = "--More--"
HUAWEI_PARAMETER_ERROR = "  % Parameter error, the error locates at '^'"
HUAWEI_UNKNOWN = "  % Unknown command, the error locates at '^'"
HUAWEI_BUSY = "  Command is being executed. Please wait"
HUAWEI_NO_ONT = "  Failure: The ONT does not exist"
ZTE_INVALID = "%Error 20200: Invalid input detected at '^' marker."
ZTE_NO_ONU = "%Code 32310-GPONSRV : ONU does not exist."
_LINE = "  " + "-" * 77


def _host_key() -> paramiko.RSAKey:
    """One RSA host key per process (generating one takes a noticeable fraction of a second)."""
    global _HOST_KEY
    with _HOST_KEY_LOCK:
        if _HOST_KEY is None:
            _HOST_KEY = paramiko.RSAKey.generate(2048)
        return _HOST_KEY


class _Auth(paramiko.ServerInterface):
    """Password authentication against the emulator's credentials; a shell on a PTY."""

    def __init__(self, emulator: OltEmulator) -> None:
        self.emulator = emulator
        self.shell_requested = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        if username == self.emulator.username and password == self.emulator.password:
            return AUTH_SUCCESSFUL
        self.emulator._count("failed_logins")
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(
        self,
        channel: paramiko.Channel,
        term: bytes,
        width: int,
        height: int,
        pixelwidth: int,
        pixelheight: int,
        modes: bytes,
    ) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell_requested.set()
        return True


class OltEmulator:
    """An emulated OLT reachable by SSH on 127.0.0.1:`port`; use as a context manager."""

    def __init__(
        self,
        vendor: str = "huawei",
        onus: OnuProvider = (),
        *,
        username: str = "noc",
        password: str = "noc-secret",  # noqa: S107 - a fake device's default
        command_delay: float = 0.0,
        hostname: str = "",
        hung: bool = False,
        page_lines: int = 20,
    ) -> None:
        if vendor not in {"huawei", "zte"}:
            raise ValueError(f"unknown vendor {vendor!r}")
        self.vendor = vendor
        self.onus_provider = onus
        self.username = username
        self.password = password
        self.command_delay = command_delay
        self.hostname = hostname or ("MA5800-X7" if vendor == "huawei" else "ZXAN")
        self.hung = hung
        self.page_lines = page_lines
        self.host = "127.0.0.1"
        self.port = 0
        self.sessions_opened = 0
        self.commands_run = 0
        self.failed_logins = 0
        self.commands: list[str] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._transports: list[paramiko.Transport] = []
        self._stopping = threading.Event()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> OltEmulator:
        _host_key()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, name=f"olt-{self.vendor}-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()

    def __enter__(self) -> OltEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def onus(self) -> list[dict[str, Any]]:
        """The current ONU list (calls the provider when it is callable)."""
        provider = self.onus_provider
        return list(provider() if callable(provider) else provider)

    def _count(self, name: str, command: str | None = None) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)
            if command is not None:
                self.commands.append(command)

    # --- connections -------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                sock, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(sock,), name="olt-session", daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        transport = paramiko.Transport(sock)
        # A client dropping the connection is normal here: keep paramiko's tracebacks quiet.
        transport.set_log_channel("simulator.olt_cli.transport")
        logging.getLogger("simulator.olt_cli.transport").setLevel(logging.CRITICAL)
        transport.add_server_key(_host_key())
        with self._lock:
            self._transports.append(transport)
        auth = _Auth(self)
        try:
            transport.start_server(server=auth)
            channel = transport.accept(timeout=10)
            if channel is None or not auth.shell_requested.wait(10):
                return
            self._count("sessions_opened")
            session_class = _HuaweiSession if self.vendor == "huawei" else _ZteSession
            session_class(self, channel).run()
        except (paramiko.SSHException, EOFError, OSError):
            return
        finally:
            transport.close()


class _CliSession:
    """The line discipline shared by both vendors: echo, line reading, paging, delays."""

    more_prompt = ""

    def __init__(self, emulator: OltEmulator, channel: paramiko.Channel) -> None:
        self.emu = emulator
        self.channel = channel
        self.buffer = ""
        self.paging = True
        self.closed = False
        channel.settimeout(0.2)

    def run(self) -> None:
        if self.emu.hung:
            self._swallow_forever()
            return
        self.write(self.banner())
        self.write(self.prompt())
        while not self.closed:
            line = self.read_line()
            if line is None:
                return
            command = " ".join(line.split())
            if command:
                self.emu._count("commands_run", command)
                if self.emu.command_delay:
                    time.sleep(self.emu.command_delay)
            self.handle(command)
            if not self.closed:
                self.write(self.prompt())
        self.channel.close()

    def _swallow_forever(self) -> None:
        while not self.emu._stopping.is_set() and not self.channel.closed:
            try:
                if self.channel.recv(1024) == b"":
                    return
            except TimeoutError:
                continue

    def write(self, text: str) -> None:
        self.channel.sendall(text.replace("\r\n", "\n").replace("\n", "\r\n").encode())

    def read_chunk(self) -> str | None:
        """Whatever arrived next (echoed back like a terminal), None once the client left."""
        while not self.emu._stopping.is_set():
            try:
                data = self.channel.recv(4096)
            except TimeoutError:
                continue
            if not data:
                return None
            # netmiko's is_alive() probes with NUL bytes: a terminal ignores them.
            text = data.decode(errors="replace").replace("\x00", "")
            if text:
                return text.replace("\r\n", "\n").replace("\r", "\n")
            continue
        return None

    def read_line(self) -> str | None:
        while "\n" not in self.buffer:
            chunk = self.read_chunk()
            if chunk is None:
                return None
            self.write(chunk)
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition("\n")
        return line

    def send_output(self, lines: list[str]) -> None:
        """Print an answer, paging it unless paging was disabled."""
        if not self.paging or len(lines) <= self.emu.page_lines:
            self.write("\n" + "\n".join(lines) + "\n")
            return
        size = self.emu.page_lines
        for start in range(0, len(lines), size):
            self.write("\n" + "\n".join(lines[start : start + size]))
            if start + size >= len(lines):
                break
            self.write("\n" + self.more_prompt)
            key = self.read_chunk()
            self.write("\r" + " " * len(self.more_prompt) + "\r")
            if key is None or key[:1] in {"q", "Q"}:
                break
        self.write("\n")

    def banner(self) -> str:
        return ""

    def prompt(self) -> str:
        raise NotImplementedError

    def handle(self, command: str) -> None:
        raise NotImplementedError


def _ont(onu: dict[str, Any], key: str, default: str = "-") -> str:
    value = onu.get(key)
    return default if value in (None, "") else str(value)


def _port_of(onu: dict[str, Any]) -> str:
    return "/".join(str(int(p)) for p in str(onu.get("fsp", "0/0/0")).replace(" ", "").split("/"))


def _huawei_cause(raw: str) -> str:
    return "dying-gasp" if raw.lower().replace("-", "") == "dyinggasp" else raw


class _HuaweiSession(_CliSession):
    """Huawei SmartAX MA5600T/MA5800: user `>`, `enable` `#`, `config` `(config)#`."""

    more_prompt = HUAWEI_MORE

    def __init__(self, emulator: OltEmulator, channel: paramiko.Channel) -> None:
        super().__init__(emulator, channel)
        self.mode = "user"
        self.smart = True

    def banner(self) -> str:
        return (
            "\n\nHuawei Integrated Access Software (MA5800).\nCopyright(C) Huawei Technologies Co., Ltd.\n\n"
        )

    def prompt(self) -> str:
        suffix = {"user": ">", "enable": "#", "config": "(config)#"}[self.mode]
        return "\n" + self.emu.hostname + suffix

    def handle(self, command: str) -> None:
        words = command.split()
        if not words:
            return
        if words[0] == "display":
            self._display(command, words)
            return
        if not self._mode_command(words) and not self._settings_command(words):
            self.write("\n" + HUAWEI_UNKNOWN + "\n")

    def _mode_command(self, words: list[str]) -> bool:
        command = " ".join(words)
        if command == "enable":
            self.mode = "config" if self.mode == "config" else "enable"
        elif command == "disable" and self.mode != "config":
            self.mode = "user"
        elif command == "config" and self.mode != "user":
            self.mode = "config"
        elif command in {"return", "quit"} and self.mode == "config":
            self.mode = "enable"
        elif command == "quit":
            self._logout()
        else:
            return False
        return True

    def _settings_command(self, words: list[str]) -> bool:
        command = " ".join(words)
        if command == "undo smart":
            self.smart = False
        elif command == "smart":
            self.smart = True
        elif words[0] == "scroll":
            if self.smart and len(words) == 1:
                self.write("\n{ <cr>|number<U><10,512> }:")
                self.read_line()
            self.paging = False
        elif command == "undo scroll":
            self.paging = True
        elif command.lower() in {"infoswitch cli off", "mmi-mode enable", "mmi-mode disable"}:
            pass  # accepted, no visible effect on the emulated output
        else:
            return False
        return True

    def _logout(self) -> None:
        self.write("\n  Are you sure to log out? (y/n)[n]:")
        answer = self.read_line()
        if answer is not None and answer.strip().lower() == "y":
            self.write("\n  Check whether system data has been changed. Please save data before logout.")
            self.write("\n  Configuration console exit, please retry to log on\n")
            time.sleep(0.1)  # like the device, let the client read the goodbye before closing
            self.closed = True

    def _display(self, command: str, words: list[str]) -> None:
        if self.mode == "user":
            self.write("\n" + HUAWEI_UNKNOWN + "\n")
            return
        if words[:3] != ["display", "ont", "info"] or len(words) < 4:
            self.write("\n" + HUAWEI_PARAMETER_ERROR + "\n")
            return
        if self.smart:
            # Without `undo smart` the device asks for optional parameters first.
            self.write("\n{ <cr>||<K> }:")
            if self.read_line() is None:
                return
        lines = self._ont_info(words[3:])
        if lines and lines[0].startswith("  %"):
            self.write("\n" + "\n".join(lines) + "\n")
            return
        self.send_output(lines)

    def _ont_info(self, args: list[str]) -> list[str]:
        onus = self.emu.onus()
        if args[0] == "by-desc" and len(args) == 2:
            return self._ont_table([o for o in onus if str(o.get("description", "")) == args[1]])
        if args[0] == "by-sn" and len(args) == 2:
            return self._ont_table([o for o in onus if str(o.get("sn", "")).upper() == args[1].upper()])
        if args[0] == "summary" and len(args) == 2:
            port = args[1].replace(" ", "")
            if port.count("/") != 2 or not all(p.isdigit() for p in port.split("/")):
                return [HUAWEI_PARAMETER_ERROR]
            return self._summary(port, [o for o in onus if _port_of(o) == port])
        if len(args) == 4 and all(a.isdigit() for a in args):
            port, ont_id = "/".join(args[:3]), int(args[3])
            found = [o for o in onus if _port_of(o) == port and int(o.get("ont_id", -1)) == ont_id]
            return self._detail(found[0]) if found else [HUAWEI_NO_ONT]
        return [HUAWEI_PARAMETER_ERROR]

    def _ont_table(self, onus: list[dict[str, Any]]) -> list[str]:
        if not onus:
            return [HUAWEI_NO_ONT]
        lines = [HUAWEI_BUSY, _LINE]
        lines.append("  F/S/P   ONT         SN         Control     Run      Config   Match    Protect")
        lines.append("          ID                     flag        state    state    state    side")
        lines.append(_LINE)
        for onu in onus:
            fsp = _spaced_fsp(_port_of(onu))
            state = _ont(onu, "run_state", "offline")
            lines.append(f"  {fsp}  {int(onu['ont_id']):>4}  {_ont(onu, 'sn'):<16}  active      {state:<8} ")
            lines[-1] += "normal   match    no"
        lines += [_LINE, "  F/S/P   ONT-ID   Description", _LINE]
        for onu in onus:
            lines.append(
                f"  {_spaced_fsp(_port_of(onu))}   {int(onu['ont_id']):>5}   {_ont(onu, 'description', '')}"
            )
        lines.append(_LINE)
        online = sum(1 for o in onus if o.get("run_state") == "online")
        lines.append(
            f"  In port {_spaced_fsp(_port_of(onus[0]))} , the total of ONTs are: {len(onus)}, online: {online}"
        )
        return lines

    def _detail(self, onu: dict[str, Any]) -> list[str]:
        pairs = [
            ("F/S/P", _port_of(onu)),
            ("ONT-ID", str(onu["ont_id"])),
            ("Control flag", "active"),
            ("Run state", _ont(onu, "run_state", "offline")),
            ("Config state", "normal"),
            ("Match state", "match"),
            ("Description", _ont(onu, "description", "")),
            ("Last down cause", _huawei_cause(_ont(onu, "last_down_cause"))),
            ("Last up time", _ont(onu, "last_up_time")),
            ("Last down time", _ont(onu, "last_down_time")),
            (
                "Last dying gasp time",
                _ont(onu, "last_down_time") if "gasp" in _ont(onu, "last_down_cause") else "-",
            ),
            ("ONT online duration", "-"),
        ]
        return [f"  {key:<24}: {value}" for key, value in pairs]

    def _summary(self, port: str, onus: list[dict[str, Any]]) -> list[str]:
        online = sum(1 for o in onus if o.get("run_state") == "online")
        lines = [
            HUAWEI_BUSY,
            _LINE,
            f"  In port {port}, the total of ONTs are: {len(onus)}, online: {online}",
            _LINE,
        ]
        lines += ["  ONT  Run     Last                Last                Last", "  ID   State   UpTime"]
        lines[-1] += "              DownTime            DownCause"
        lines.append(_LINE)
        for onu in sorted(onus, key=lambda o: int(o["ont_id"])):
            up, down = (_summary_time(_ont(onu, k)) for k in ("last_up_time", "last_down_time"))
            cause = _huawei_cause(_ont(onu, "last_down_cause"))[:25]
            lines.append(
                f"  {int(onu['ont_id']):<4} {_ont(onu, 'run_state', 'offline'):<7} {up:<19} {down:<19} {cause}"
            )
        lines += [_LINE, "  ONT        SN        Type          Distance Rx/Tx power  Description"]
        lines += ["  ID                                    (m)      (dBm)", _LINE]
        for onu in sorted(onus, key=lambda o: int(o["ont_id"])):
            power = "-20.51/2.12" if onu.get("run_state") == "online" else "-/-"
            lines.append(
                f"  {int(onu['ont_id']):<3} {_ont(onu, 'sn'):<16} HG8245H       1200   {power:<14} "
                + _ont(onu, "description", "")
            )
        lines.append(_LINE)
        return lines


def _spaced_fsp(port: str) -> str:
    """Huawei prints `0/ 1/0` in ONT tables (slot padded to two characters)."""
    frame, slot, pon = port.split("/")
    return f"{frame}/{slot:>2}/{pon}"


def _summary_time(value: str) -> str:
    """The summary table prints times without the zone offset."""
    return value[:19] if value != "-" else "-"


def _zte_cause(raw: str) -> str:
    lowered = raw.lower().replace("-", "")
    if lowered == "dyinggasp":
        return "DyingGasp"
    return "LOS" if lowered.startswith(("los", "lofi")) else raw


def _zte_time(value: str) -> str:
    return value[:19] if value not in ("", "-") else "0000-00-00 00:00:00"


def _zte_serial(onu: dict[str, Any]) -> str:
    """ZTE prints the vendor form of the serial (`ZTEGC0A1B2C3`)."""
    raw = str(onu.get("sn", "")).upper()
    if len(raw) == 16:
        try:
            return bytes.fromhex(raw[:8]).decode("ascii") + raw[8:]
        except (ValueError, UnicodeDecodeError):
            return raw
    return raw


class _ZteSession(_CliSession):
    """ZTE C300/C320/C600 (ZXAN): logs straight into `ZXAN#`."""

    more_prompt = ZTE_MORE

    def __init__(self, emulator: OltEmulator, channel: paramiko.Channel) -> None:
        super().__init__(emulator, channel)
        self.config = False

    def banner(self) -> str:
        return "\n\nZXAN C320 (ZTE Corporation)\n"

    def prompt(self) -> str:
        return "\n" + self.emu.hostname + ("(config)#" if self.config else "#")

    def handle(self, command: str) -> None:
        words = command.split()
        if not words:
            return
        if command == "terminal length 0":
            self.paging = False
        elif command in {"configure terminal", "conf t"}:
            self.config = True
        elif command in {"end", "exit"} and self.config:
            self.config = False
        elif command in {"exit", "quit", "logout"}:
            self.closed = True
        elif words[:3] == ["show", "gpon", "onu"] and len(words) >= 5:
            self._show(words[3:])
        else:
            self.write("\n" + ZTE_INVALID + "\n")

    def _show(self, args: list[str]) -> None:
        onus = self.emu.onus()
        if args[0] == "state" and args[1].startswith("gpon-olt_"):
            port = args[1].removeprefix("gpon-olt_")
            self.send_output(self._state([o for o in onus if _port_of(o) == port]))
        elif args[0] == "detail-info" and args[1].startswith("gpon-onu_") and ":" in args[1]:
            port, _, number = args[1].removeprefix("gpon-onu_").partition(":")
            found = [o for o in onus if _port_of(o) == port and str(o.get("ont_id")) == number]
            if found:
                self.send_output(self._detail(found[0]))
            else:
                self.write("\n" + ZTE_NO_ONU + "\n")
        elif args[0] == "by" and len(args) == 3 and args[1] == "sn":
            found = [o for o in onus if _zte_serial(o) == args[2].upper()]
            rows = [f"gpon-onu_{_port_of(o)}:{o['ont_id']}" for o in found]
            self.send_output(["SearchResult", "-----------------", *rows])
        else:
            self.write("\n" + ZTE_INVALID + "\n")

    def _state(self, onus: list[dict[str, Any]]) -> list[str]:
        lines = ["OnuIndex   Admin State  OMCC State  Phase State  Channel", "-" * 62]
        for onu in sorted(onus, key=lambda o: int(o["ont_id"])):
            online = onu.get("run_state") == "online"
            phase = "working" if online else _zte_cause(_ont(onu, "last_down_cause", "OffLine"))
            if phase not in {"working", "LOS", "DyingGasp"}:
                phase = "OffLine"
            omcc = "enable" if online else "disable"
            lines.append(f"{_port_of(onu)}:{onu['ont_id']:<6}  enable       {omcc:<11} {phase:<12} 1(GPON)")
        lines.append(f"ONU Number: {len(onus)}/{len(onus)}")
        return lines

    def _detail(self, onu: dict[str, Any]) -> list[str]:
        online = onu.get("run_state") == "online"
        phase = "working" if online else _zte_cause(_ont(onu, "last_down_cause", "OffLine"))
        name = _ont(onu, "description", "")
        lines = [
            f"ONU interface:          gpon-onu_{_port_of(onu)}:{onu['ont_id']}",
            f"Name:                   {name}",
            "Type:                   F601",
            f"State:                  {'ready' if online else 'offline'}",
            "Admin state:            enable",
            f"Phase state:            {phase}",
            "Authentication mode:    sn",
            f"Serial number:          {_zte_serial(onu)}",
            f"Description:            {name}",
            f"Online Duration:        {'1h 2m 3s' if online else '0h 0m 0s'}",
            "-" * 42,
            "   Authpass Time          OfflineTime             Cause",
        ]
        lines += self._history(onu)
        lines.append("-" * 42)
        return lines

    def _history(self, onu: dict[str, Any]) -> list[str]:
        """Ten rows, deliberately not in time order (as real devices print them)."""
        cause = _ont(onu, "last_down_cause", "")
        rows: list[tuple[str, str, str]] = [("2026-01-10 08:00:00", "2026-01-12 10:00:00", "LOS")]
        if cause not in ("", "-"):
            rows.append(
                (_zte_time(_ont(onu, "last_up_time", "")), _zte_time(_ont(onu, "last_down_time")), cause)
            )
        rows.insert(0, ("2026-01-12 10:05:00", "2026-01-20 03:00:00", "DyingGasp"))
        rows += [("0000-00-00 00:00:00", "0000-00-00 00:00:00", "")] * (10 - len(rows))
        return [
            f"   {i:<3} {up}    {down}     {_zte_cause(c) if c else ''}".rstrip()
            for i, (up, down, c) in enumerate(rows, start=1)
        ]
