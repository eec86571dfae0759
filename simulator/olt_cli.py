"""A real SSH server on 127.0.0.1 that emulates the Huawei SmartAX and ZTE ZXAN OLT CLIs.

Built on paramiko's server side, it speaks the output shapes of real Huawei and ZTE OLTs so the
production code can drive it with netmiko (`huawei_smartax`, `zte_zxros`) unchanged:

    with OltEmulator("zte", onus=network_view, model="C600", command_delay=0.2) as olt:
        ConnectHandler(device_type="zte_zxros", host=olt.host, port=olt.port, ...)

`onus` is a list of ONU dicts or a callable returning the current list (read on every
command, so state changes are seen live), each like
`{"fsp": "0/1/0", "ont_id": 73, "sn": "48575443A1B2C3D4", "description": "cliente.login",
"run_state": "offline", "last_down_cause": "dying-gasp",
"last_down_time": "2026-03-05 09:55:28-03:00", "last_up_time": "2026-03-05 08:56:12-03:00"}`.

The variants real devices show, per emulated OLT:

- ZTE `model`: C300/C320 (`gpon-olt_1/2/1`, `gpon-onu_1/2/1:4`; `terminal length 0` stops
  paging) or C600/C620/C650 (`gpon_olt-1/4/1`, `gpon_onu-1/4/1:2`; the other spelling is
  rejected with `%Error 140303`; paging goes on after `terminal length 0` and pauses in
  the middle of a line). `show version` names the model.
- Huawei: `display ont info by-sn` prints the detail block (about 35 key/value lines and
  the T-CONT / profile sections); `display ont info summary F/S` prints several ports,
  each after its own `In port` line. `date_style` (`ymd` `2026-03-05 09:55:28`, `dmy`
  `05/03/2026 09:55:28`, `dmy-short` `5/3/2026 09:55:28`) for the summary (and, with
  `dmy`, for the detail too), the footer wording, `LOS` printed as `LOSi/LOBi`, and
  `smart_prompt` (True: `undo smart` is refused, so every `display ont info` and `scroll`
  waits at a `{ <cr>... }:` question) come from `HUAWEI_VARIANTS[model]` unless given.
  The table spreads the real variants over the simulated models so a demo meets them;
  it is not a claim about which model prints what.

Knobs: `command_delay` (seconds before each command answers), `hung` (accept the login,
then never print anything), `page_lines`; wrong credentials are rejected; counters
`sessions_opened`, `commands_run`, `failed_logins` and the list `commands`.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
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
HUAWEI_SMART = "{ <cr>||<K> }:"
HUAWEI_SCROLL_SMART = "{ <cr>|number<U><10,512> }:"
ZTE_MORE = "--More--"
HUAWEI_PARAMETER_ERROR = "  % Parameter error, the error locates at '^'"
HUAWEI_UNKNOWN = "  % Unknown command, the error locates at '^'"
HUAWEI_BUSY = "  Command is being executed. Please wait"
HUAWEI_NO_ONT = "  Failure: The ONT does not exist"
ZTE_C300_INVALID = "%Error 20200: Invalid input detected at '^' marker."
ZTE_C600_INVALID = "%Error 140303: Invalid input detected at '^' marker."
ZTE_NO_ONU = "%Code 32310-GPONSRV : ONU does not exist."
_LINE = "  " + "-" * 77


@dataclass(frozen=True)
class HuaweiVariant:
    """How one emulated Huawei OLT prints (see the module docstring)."""

    date_style: str = "ymd"
    smart_prompt: bool = False
    long_footer: bool = False
    los_text: str = "LOS"


HUAWEI_VARIANTS = {
    "MA5800-X7": HuaweiVariant(),
    "MA5608T": HuaweiVariant(date_style="dmy-short", long_footer=True, los_text="LOSi/LOBi"),
    "MA5680T": HuaweiVariant(date_style="dmy", smart_prompt=True),
}
DATE_STYLES = ("ymd", "dmy", "dmy-short")


@dataclass(frozen=True)
class ZteFamily:
    """How one ZTE family spells interfaces and pages."""

    olt_prefix: str
    onu_prefix: str
    invalid: str
    obeys_terminal_length: bool
    pages_mid_line: bool


ZTE_C300 = ZteFamily("gpon-olt_", "gpon-onu_", ZTE_C300_INVALID, True, False)
ZTE_TITAN = ZteFamily("gpon_olt-", "gpon_onu-", ZTE_C600_INVALID, False, True)
ZTE_MODELS = {"C300": ZTE_C300, "C320": ZTE_C300, "C600": ZTE_TITAN, "C620": ZTE_TITAN, "C650": ZTE_TITAN}


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
        model: str = "",
        username: str = "noc",
        password: str = "noc-secret",  # noqa: S107 - a fake device's default
        command_delay: float = 0.0,
        hostname: str = "",
        hung: bool = False,
        page_lines: int = 20,
        smart_prompt: bool | None = None,
        date_style: str | None = None,
    ) -> None:
        if vendor not in {"huawei", "zte"}:
            raise ValueError(f"unknown vendor {vendor!r}")
        self.vendor = vendor
        self.model = model or ("MA5800-X7" if vendor == "huawei" else "C320")
        if vendor == "zte" and self.model not in ZTE_MODELS:
            raise ValueError(f"unknown ZTE model {self.model!r}")
        if date_style not in (None, *DATE_STYLES):
            raise ValueError(f"unknown date style {date_style!r}")
        variant = HUAWEI_VARIANTS.get(self.model, HuaweiVariant())
        self.huawei = replace(
            variant,
            smart_prompt=variant.smart_prompt if smart_prompt is None else smart_prompt,
            date_style=date_style or variant.date_style,
        )
        self.zte = ZTE_MODELS.get(self.model, ZTE_C300)
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
    # What the device prints after a key at the paging prompt, to erase it.
    more_erase = ""

    def __init__(self, emulator: OltEmulator, channel: paramiko.Channel) -> None:
        self.emu = emulator
        self.channel = channel
        self.buffer = ""
        self.paging = True
        self.pages_mid_line = False
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

    def ask(self, question: str) -> str | None:
        """Print a question and wait for the line that answers it (None once the client left)."""
        self.write("\n" + question)
        return self.read_line()

    def send_output(self, lines: list[str]) -> None:
        """Print an answer, paging it unless paging was disabled."""
        segments = self._pages(lines) if self.paging else ["\n" + "\n".join(lines)]
        for number, segment in enumerate(segments):
            self.write(segment)
            if number == len(segments) - 1:
                break
            self.write(self.more_prompt if self.pages_mid_line else "\n" + self.more_prompt)
            key = self.read_chunk()
            self.write(self.more_erase)
            if key is None or key[:1] in {"q", "Q"}:
                break
        self.write("\n")

    def _pages(self, lines: list[str]) -> list[str]:
        """The answer cut every `page_lines` lines: before a line, or in its middle (C600)."""
        text = "\n" + "\n".join(lines)
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        cuts = []
        for index in range(self.emu.page_lines, len(lines), self.emu.page_lines):
            begin = starts[index] + 1  # after the newline that precedes the line
            cuts.append(begin + len(lines[index]) // 2 if self.pages_mid_line else begin - 1)
        bounds = [0, *cuts, len(text)]
        return [text[a:b] for a, b in itertools.pairwise(bounds)]

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


def _by_id(onus: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(onus, key=lambda o: int(o["ont_id"]))


def _online(onu: dict[str, Any]) -> bool:
    return onu.get("run_state") == "online"


# --- Huawei ----------------------------------------------------------------------------


class _HuaweiSession(_CliSession):
    """Huawei SmartAX MA5600T/MA5800: user `>`, `enable` `#`, `config` `(config)#`."""

    more_prompt = HUAWEI_MORE
    more_erase = f"\x1b[{len(HUAWEI_MORE)}D" + " " * len(HUAWEI_MORE) + f"\x1b[{len(HUAWEI_MORE)}D"

    def __init__(self, emulator: OltEmulator, channel: paramiko.Channel) -> None:
        super().__init__(emulator, channel)
        self.variant = emulator.huawei
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
            self._display(words)
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
        if command == "undo smart" and not self.variant.smart_prompt:
            self.smart = False
        elif command == "smart":
            self.smart = True
        elif words[0] == "scroll":
            if self.smart and len(words) == 1 and self.ask(HUAWEI_SCROLL_SMART) is None:
                return True
            self.paging = False
        elif command == "undo scroll":
            self.paging = True
        elif command.lower() in {"infoswitch cli off", "mmi-mode enable", "mmi-mode disable"}:
            pass  # accepted, no visible effect on the emulated output
        else:
            return False
        return True

    def _logout(self) -> None:
        answer = self.ask("  Are you sure to log out? (y/n)[n]:")
        if answer is not None and answer.strip().lower() == "y":
            self.write("\n  Check whether system data has been changed. Please save data before logout.")
            self.write("\n  Configuration console exit, please retry to log on\n")
            time.sleep(0.1)  # like the device, let the client read the goodbye before closing
            self.closed = True

    def _display(self, words: list[str]) -> None:
        if self.mode == "user":
            self.write("\n" + HUAWEI_UNKNOWN + "\n")
            return
        if words[:3] != ["display", "ont", "info"] or len(words) < 4:
            self.write("\n" + HUAWEI_PARAMETER_ERROR + "\n")
            return
        # In smart mode the device asks for the optional parameters first.
        if self.smart and self.ask(HUAWEI_SMART) is None:
            return
        lines = self._ont_info(words[3:])
        if lines and lines[0].startswith(("  %", "  Failure")):
            self.write("\n" + "\n".join(lines) + "\n")
            return
        self.send_output(lines)

    def _ont_info(self, args: list[str]) -> list[str]:
        onus = self.emu.onus()
        if args[0] == "by-desc" and len(args) == 2:
            return self._ont_table([o for o in onus if str(o.get("description", "")) == args[1]])
        if args[0] == "by-sn" and len(args) == 2:
            found = [o for o in onus if str(o.get("sn", "")).upper() == args[1].upper()]
            return self._detail(found[0]) if found else [HUAWEI_NO_ONT]
        if args[0] == "summary" and len(args) == 2:
            return self._summary_command(args[1], onus)
        if len(args) == 4 and all(a.isdigit() for a in args):
            port, ont_id = "/".join(args[:3]), int(args[3])
            found = [o for o in onus if _port_of(o) == port and int(o.get("ont_id", -1)) == ont_id]
            return self._detail(found[0]) if found else [HUAWEI_NO_ONT]
        return [HUAWEI_PARAMETER_ERROR]

    def _summary_command(self, where: str, onus: list[dict[str, Any]]) -> list[str]:
        """`summary F/S/P` (one port) or `summary F/S` (every port of the board, one after another)."""
        parts = where.replace(" ", "").split("/")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            return [HUAWEI_PARAMETER_ERROR]
        prefix = "/".join(str(int(p)) for p in parts)
        if len(parts) == 3:
            return self._summary(prefix, [o for o in onus if _port_of(o) == prefix])
        ports = sorted({_port_of(o) for o in onus if _port_of(o).startswith(prefix + "/")}, key=_port_key)
        if not ports:
            return [HUAWEI_PARAMETER_ERROR]
        lines = [HUAWEI_BUSY]
        for port in ports:
            lines += self._summary(port, [o for o in onus if _port_of(o) == port])[1:]
        return lines

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
            config = "normal   match    no" if _online(onu) else "initial  initial  no"
            lines.append(
                f"  {fsp}  {int(onu['ont_id']):>4}  {_ont(onu, 'sn'):<16}  active      {state:<8} {config}"
            )
        lines += [_LINE, "  F/S/P   ONT-ID   Description", _LINE]
        for onu in onus:
            lines.append(
                f"  {_spaced_fsp(_port_of(onu))}   {int(onu['ont_id']):>5}   {_ont(onu, 'description', '')}"
            )
        lines.append(_LINE)
        online = sum(1 for o in onus if _online(o))
        lines.append(
            f"  In port {_spaced_fsp(_port_of(onus[0]))} , the total of ONTs are: {len(onus)}, online: {online}"
        )
        return lines

    def _cause(self, onu: dict[str, Any]) -> str:
        raw = _ont(onu, "last_down_cause")
        lowered = raw.lower().replace("-", "")
        if lowered == "dyinggasp":
            return "dying-gasp"
        return self.variant.los_text if lowered == "los" else raw

    def _detail(self, onu: dict[str, Any]) -> list[str]:
        """The key/value block of `display ont info F S P ID` / `by-sn`, then its sections."""
        online = _online(onu)
        cause = self._cause(onu)
        detail_style = "dmy" if self.variant.date_style == "dmy" else "ymd"
        up, down = (
            _huawei_time(_ont(onu, k), detail_style, zone=True) for k in ("last_up_time", "last_down_time")
        )
        pairs = [
            ("F/S/P", _port_of(onu)),
            ("ONT-ID", str(onu["ont_id"])),
            ("Control flag", "active"),
            ("Run state", _ont(onu, "run_state", "offline")),
            ("Config state", "normal" if online else "initial"),
            ("Match state", "match" if online else "initial"),
            ("DBA type", "SR"),
            ("ONT distance(m)", "1203" if online else "-"),
            ("ONT last distance(m)", "1203"),
            ("ONT battery state", "not support"),
            ("Memory occupation", "41%" if online else "-"),
            ("CPU occupation", "1%" if online else "-"),
            ("Temperature", "47(C)" if online else "-"),
            ("Authentic type", "SN-auth"),
            ("SN", _huawei_serial(_ont(onu, "sn"))),
            ("Management mode", "OMCI"),
            ("Software work mode", "normal"),
            ("Isolation state", "normal"),
            ("ONT IP 0 address/mask", "-"),
            ("Description", _ont(onu, "description", "")),
            ("Last down cause", cause),
            ("Last up time", up),
            ("Last down time", down),
            ("Last dying gasp time", down if cause == "dying-gasp" else "-"),
            ("ONT online duration", "0 day(s), 1 hour(s), 2 minute(s), 3 second(s)" if online else "-"),
            ("ONT system up duration", "-"),
            ("Type C support", "Not support"),
            ("Interoperability-mode", "ITU-T"),
            ("Power reduction status", "-"),
            ("FEC upstream state", "use-profile-config"),
            ("VS-ID", "0"),
            ("VS name", "admin-vs"),
            ("Global ONT-ID", str(onu["ont_id"])),
            ("Final Port Isolation", "-"),
            ("Port(s) number", "-"),
        ]
        return [_LINE, *(f"  {key:<24}: {value}" for key, value in pairs), *_HUAWEI_DETAIL_SECTIONS]

    def _summary(self, port: str, onus: list[dict[str, Any]]) -> list[str]:
        online = sum(1 for o in onus if _online(o))
        if self.variant.long_footer:
            totals = (
                f"the total number of ONTs are: {len(onus)}, online: {online}, offline: {len(onus) - online}"
            )
        else:
            totals = f"the total of ONTs are: {len(onus)}, online: {online}"
        lines = [HUAWEI_BUSY, _LINE, f"  In port {port}, {totals}", _LINE]
        lines += ["  ONT  Run     Last                Last                Last"]
        lines += ["  ID   State   UpTime              DownTime            DownCause", _LINE]
        for onu in _by_id(onus):
            up, down = (
                _huawei_time(_ont(onu, k), self.variant.date_style, zone=False)
                for k in ("last_up_time", "last_down_time")
            )
            cause = self._cause(onu)[:25]  # the device truncates long causes
            state = _ont(onu, "run_state", "offline")
            lines.append(f"  {int(onu['ont_id']):<4} {state:<7} {up:<19} {down:<19} {cause}")
        lines += [_LINE, "  ONT        SN        Type          Distance Rx/Tx power  Description"]
        lines += ["  ID                                    (m)      (dBm)", _LINE]
        for onu in _by_id(onus):
            power = "-20.51/2.12" if _online(onu) else "-/-"
            distance = "1203" if _online(onu) else "-"
            lines.append(
                f"  {int(onu['ont_id']):<3} {_ont(onu, 'sn'):<16} HG8245H       {distance:<6} {power:<12} "
                + _ont(onu, "description", "")
            )
        lines.append(_LINE)
        return lines


_HUAWEI_DETAIL_SECTIONS = [
    _LINE,
    "  VoIP configure method   : Default",
    _LINE,
    "  Line profile ID      : 10",
    "  Line profile name    : line-profile_10",
    _LINE,
    "  FEC upstream switch       :Disable",
    "  OMCC encrypt switch       :Off",
    "  Qos mode                  :PQ",
    "  Mapping mode              :VLAN",
    "  TR069 management          :Disable",
    "  TR069 IP index            :0",
    _LINE,
    "  Notes: * indicates Discrete TCONT(TCONT Unbound)",
    _LINE,
    "  <T-CONT   0>          DBA Profile-ID:1",
    "  <T-CONT   1>          DBA Profile-ID:10",
    "   <Gem Index 1>",
    "   " + "-" * 74,
    "   |Serv-Type:ETH |Encrypt:off     |Cascade:off |GEM-CAR:-        |",
    "   |Upstream-priority-queue:0  |Downstream-priority-queue:-             |",
    "   " + "-" * 74,
    "    Mapping VLAN  Priority Port Port  Bundle Flow  Transparent",
    "    index                  type ID    ID     CAR",
    "    " + "-" * 73,
    "     1      100   -        -    -     -      -     -",
    "   " + "-" * 74,
    _LINE,
    "  Service profile ID   : 10",
    "  Service profile name : srv-profile_10",
    _LINE,
    "  Port-type     Port-number     Max-adaptive-number",
    _LINE,
    "  POTS          adaptive        32",
    "  ETH           adaptive        8",
    "  VDSL          0               -",
    _LINE,
    "  Multicast mode                   : Unconcern",
    "  Upstream IGMP packet forward mode : Unconcern",
    "  Native VLAN option               : Concern",
    _LINE,
    "  Alarm policy profile ID   : 0",
    "  Alarm policy profile name : alarm-policy_0",
    _LINE,
]


def _spaced_fsp(port: str) -> str:
    """Huawei prints `0/ 1/0` in ONT tables (slot padded to two characters)."""
    frame, slot, pon = port.split("/")
    return f"{frame}/{slot:>2}/{pon}"


def _port_key(port: str) -> tuple[int, ...]:
    return tuple(int(p) for p in port.split("/"))


def _huawei_time(value: str, style: str, *, zone: bool) -> str:
    """`2026-03-05 09:55:28-03:00` as the OLT prints it: in `style`, with the offset only in details."""
    if value in ("", "-") or len(value) < 19:
        return "-"
    date, clock, offset = value[:10], value[11:19], value[19:] if zone else ""
    year, month, day = date.split("-")
    if style == "dmy":
        date = f"{day}/{month}/{year}"
    elif style == "dmy-short":
        date = f"{int(day)}/{int(month)}/{year}"
    return f"{date} {clock}{offset}"


def _huawei_serial(sn: str) -> str:
    """`48575443A1B2C3D4 (HWTC-A1B2C3D4)`: the hex serial and its vendor form."""
    try:
        vendor = bytes.fromhex(sn[:8]).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return sn
    return f"{sn} ({vendor}-{sn[8:]})"


# --- ZTE -------------------------------------------------------------------------------


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


def _zte_phase(onu: dict[str, Any]) -> str:
    if _online(onu):
        return "working"
    phase = _zte_cause(_ont(onu, "last_down_cause", "OffLine"))
    return phase if phase in {"LOS", "DyingGasp"} else "OffLine"


class _ZteSession(_CliSession):
    """ZTE ZXAN: logs straight into `ZXAN#`; C300/C320 or C600/C620/C650 by the emulator's model."""

    more_prompt = ZTE_MORE
    more_erase = "\b" * len(ZTE_MORE) + " " * len(ZTE_MORE) + "\b" * len(ZTE_MORE)

    def __init__(self, emulator: OltEmulator, channel: paramiko.Channel) -> None:
        super().__init__(emulator, channel)
        self.family = emulator.zte
        self.pages_mid_line = self.family.pages_mid_line
        self.config = False

    def banner(self) -> str:
        return f"\n\nZXAN {self.emu.model} (ZTE Corporation)\n"

    def prompt(self) -> str:
        return "\n" + self.emu.hostname + ("(config)#" if self.config else "#")

    def handle(self, command: str) -> None:
        words = command.split()
        if not words:
            return
        if command == "terminal length 0":
            self.paging = not self.family.obeys_terminal_length
        elif command in {"configure terminal", "conf t"}:
            self.config = True
        elif command in {"end", "exit"} and self.config:
            self.config = False
        elif command in {"exit", "quit", "logout"}:
            self.closed = True
        elif command == "show version":
            self.send_output(self._version())
        elif words[:3] == ["show", "gpon", "onu"] and len(words) >= 5:
            self._show(words[3:])
        else:
            self.invalid()

    def invalid(self) -> None:
        self.write("\n" + self.family.invalid + "\n")

    def _interface(self, text: str, prefix: str) -> str | None:
        """The `R/S/P` (or `R/S/P:N`) of an interface in this family's spelling; None otherwise."""
        return text.removeprefix(prefix) if text.startswith(prefix) else None

    def _show(self, args: list[str]) -> None:
        onus = self.emu.onus()
        if args[0] == "state" and (port := self._interface(args[1], self.family.olt_prefix)):
            self.send_output(self._state([o for o in onus if _port_of(o) == port]))
        elif args[0] == "detail-info" and (index := self._interface(args[1], self.family.onu_prefix)):
            port, _, number = index.partition(":")
            found = [o for o in onus if _port_of(o) == port and str(o.get("ont_id")) == number]
            if found:
                self.send_output(self._detail(found[0]))
            else:
                self.write("\n" + ZTE_NO_ONU + "\n")
        elif args[0] == "by" and len(args) == 3 and args[1] == "sn":
            found = [o for o in onus if _zte_serial(o) == args[2].upper()]
            rows = [self._onu_name(o) for o in found]
            self.send_output(["SearchResult", "-----------------", *rows])
        else:
            self.invalid()

    def _onu_name(self, onu: dict[str, Any]) -> str:
        return f"{self.family.onu_prefix}{_port_of(onu)}:{onu['ont_id']}"

    def _version(self) -> list[str]:
        return [
            f"ZXA10 {self.emu.model} Software, Version: V2.1.0, Release software",
            "Copyright (c) 2001-2024 by ZTE Corporation",
            "Compiled Mar  5 2024, 09:55:28",
            "System uptime is 35 days 4 hours 12 minutes 9 seconds",
        ]

    def _state(self, onus: list[dict[str, Any]]) -> list[str]:
        titan = self.family is ZTE_TITAN
        if titan:
            lines = ["OnuIndex                 Admin State  OMCC State  Phase state  Speed mode", "-" * 76]
        else:
            lines = ["OnuIndex   Admin State  OMCC State  Phase State  Channel", "-" * 62]
        for onu in _by_id(onus):
            # C300 rows name the ONU as `1/2/1:4`, C600 rows as `gpon_onu-1/4/1:2`.
            index = self._onu_name(onu) if titan else f"{_port_of(onu)}:{onu['ont_id']}"
            omcc = "enable" if _online(onu) else "disable"
            channel = "GPON" if titan else "1(GPON)"
            lines.append(f"{index:<24} enable       {omcc:<11} {_zte_phase(onu):<12} {channel}")
        lines.append(f"ONU Number: {len(onus)}/{len(onus)}")
        return lines

    def _detail(self, onu: dict[str, Any]) -> list[str]:
        """Indented key/values (about 30, as the device prints them), then the history table."""
        online = _online(onu)
        name = _ont(onu, "description", "")
        pairs = [
            ("ONU interface", self._onu_name(onu)),
            ("Name", name),
            ("Type", "F601"),
            ("State", "ready"),
            ("Configured channel", "1(GPON)"),
            ("Current channel", "1(GPON)"),
            ("Admin state", "enable"),
            ("Phase state", _zte_phase(onu)),
            ("Config state", "success"),
            ("Authentication mode", "sn"),
            ("SN Bind", "enable with SN check"),
            ("Serial number", _zte_serial(onu)),
            ("Password", ""),
            ("Description", name),
            ("Vport mode", "gemport"),
            ("DBA Mode", "Hybrid"),
            ("ONU Status", "enable"),
            ("OMCI BW Profile", "No"),
            ("Line Profile", "N/A"),
            ("Service Profile", "N/A"),
            ("Alarm profile", "N/A"),
            ("Performance profile", "N/A"),
            ("ONU Distance", "1203m" if online else "-"),
            ("Online Duration", "1h 2m 3s" if online else "0h 0m 0s"),
            ("FEC", "none"),
            ("FEC actual mode", "none"),
            ("1PPS+ToD", "disable"),
            ("Auto replace", "disable"),
            ("Multicast mode", "Unconcern"),
        ]
        lines = [f"  {key + ':':<24}{value}".rstrip() for key, value in pairs]
        lines += ["-" * 76, "   Authpass Time          OfflineTime             Cause"]
        lines += self._history(onu)
        lines.append("-" * 76)
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
