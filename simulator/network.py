"""A synthetic, seeded ISP: POPs, OLTs, PONs, CTOs and PPPoE customers, with churn and incidents.

The network is the single source of truth shared by every fake: the IXC webservice reads the
ERP side (`radusuarios_records`, `cliente_records`), the OLT emulators read the ONU side
(`onu_view`). Both sides change as they do at a real ISP:

- The OLT side changes at the real instant: an ONU goes down (with its cause) when the fiber
  breaks, the power fails or the router reboots.
- The ERP side follows the concentrator: the PPPoE session ends when the BNG's keepalive fails,
  `Timing.keepalive_lag` after the ONU went down (10 s to about 3 minutes), and only then does
  IXC show `online = N` with `ultima_conexao_final` = that session end. Some ends never reach
  the ERP (lost accounting stop): the login shows `SS` instead and keeps its old end.
- Background churn (`Churn`) never stops: logins drop one at a time, evenly over time and over
  the network, and come back after heavy-tailed delays; the network starts in that steady state.
- Incidents drop every ONU of their place within seconds and recover with stragglers.

Time is event-driven and never read behind the caller's back: `advance(now)` applies every
churn drop, session end and return due at or before `now`, in time order, so the same network
serves the demo (a thread calls `advance()` every second on wall time) and an accelerated day
(a benchmark calls `advance(t)` once per simulated cycle). The clock is injectable (epoch
seconds); incidents take an optional onset `at` (default: the clock). Same seed, same build
time and the same calls give the same network, whatever the step of `advance`.

Local times are America/Sao_Paulo, which has had a fixed UTC-03:00 offset since 2019, so a
fixed offset is used (fast and exact today).

Thread safety: one re-entrant lock (`network.lock`) guards every read and mutation;
`version` increases on every mutation so readers can cache derived views.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.alarms import NetworkAlarms

NEVER = "0000-00-00 00:00:00"
LOCAL_OFFSET_SECONDS = -3 * 3600
LOCAL_OFFSET_SUFFIX = "-03:00"

HUAWEI = "huawei"
ZTE = "zte"
HUAWEI_SN_PREFIX = "48575443"  # "HWTC" in hex
ZTE_SN_PREFIX = "5A544547"  # "ZTEG" in hex
ZTE_MODELS = ("C600", "C320", "C650", "C300")  # both families, the newer first
TITAN_MODELS = {"C600", "C620", "C650"}

CAUSE_DYING_GASP = "dying-gasp"
CAUSE_LOS = "LOS"
CAUSE_NEVER_DOWN = "-"
HISTORIC_CAUSES = (
    CAUSE_DYING_GASP,
    CAUSE_DYING_GASP,
    CAUSE_LOS,
    "LOSi/LOBi",
    "LOFi",
    "ONT is reset by ONT command",
    "deactive ONT",
    "re-register ONT",
    "authentication fail",
)
CHURN_CAUSES = (CAUSE_DYING_GASP, CAUSE_LOS, "ONT is reset by ONT command", "LOSi/LOBi", "re-register ONT")

RADIUS_LOST_CARRIER = "Lost-Carrier"
RADIUS_NAS_REBOOT = "NAS-Reboot"
RADIUS_REASONS = ("Lost-Carrier", "User-Request", "Lost-Service", "Admin-Reset", "Idle-Timeout", "Port-Error")

RADUSUARIOS_FIELDS = (
    "id",
    "ativo",
    "online",
    "login",
    "id_cliente",
    "id_contrato",
    "conexao",
    "concentrador",
    "id_transmissor",
    "interface_transmissao",
    "id_caixa_ftth",
    "ftth_porta",
    "onu_mac",
    "modelo_tranmissor",
    "ultima_conexao_inicial",
    "ultima_conexao_final",
    "motivo_desconexao",
    "count_desconexao",
    "latitude",
    "longitude",
    "ultima_atualizacao",
)
CLIENTE_FIELDS = (
    "id",
    "razao",
    "fantasia",
    "fone",
    "telefone_celular",
    "telefone_comercial",
    "whatsapp",
    "contato",
    "email",
    "ativo",
)

FIRST_NAMES = (
    "João", "Maria", "José", "Ana", "Antônio", "Francisca", "Carlos", "Antônia", "Paulo", "Adriana",
    "Pedro", "Juliana", "Lucas", "Márcia", "Luiz", "Fernanda", "Marcos", "Patrícia", "Luís", "Aline",
    "Gabriel", "Sandra", "Rafael", "Camila", "Daniel", "Amanda", "Marcelo", "Bruna", "Bruno", "Jéssica",
    "Eduardo", "Letícia", "Felipe", "Júlia", "Raimundo", "Luciana", "Rodrigo", "Vanessa", "Conceição", "Iracema",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa",
    "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas",
    "Conceição", "Araújo", "Simões", "Brandão", "Falcão", "Guimarães", "Magalhães", "D'Ávila",
)  # fmt: skip
HOSTILE_NAMES = (
    "<img src=x onerror=alert(1)>",
    "Maria & Filhos Ltda",
    "<script>alert('xss')</script> Souza",
    'José "Zé" D\'Ávila & Cia',
    "Ana </b><i>Conceição",
    "Mercearia Pão & Mel ME",
    "Ç&lt;ã&gt; Ünïcødé 😀",
)
POP_NAMES = (
    "CENTRO", "NORTE", "SUL", "LESTE", "OESTE", "JARDIM", "VILA-NOVA", "BOA-VISTA", "INDUSTRIAL", "PRAIA",
    "SERRA", "RIO-BRANCO", "SAO-JOSE", "SANTA-LUZIA", "PLANALTO", "ALVORADA",
)  # fmt: skip
DDDS = ("11", "11", "11", "19", "21", "31", "41", "48", "51", "61", "62", "71", "81", "85", "92")

_SMALL_NUMBERS = tuple(str(n) for n in range(64))
_ASCII = str.maketrans("áàâãäéèêëíìîïóòôõöúùûüçÁÀÂÃÉÊÍÓÔÕÚÇ'", "aaaaaeeeeiiiiooooouuuucAAAAEEIOOOUC_")


def format_local(epoch: float) -> str:
    """`YYYY-MM-DD HH:MM:SS` in America/Sao_Paulo local time; 0 means never (`0000-00-00 ...`)."""
    if not epoch:
        return NEVER
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch + LOCAL_OFFSET_SECONDS))


def format_olt(epoch: float) -> str:
    """Huawei's `Last down time` format (`YYYY-MM-DD HH:MM:SS-03:00`); `-` when never."""
    if not epoch:
        return "-"
    return format_local(epoch) + LOCAL_OFFSET_SUFFIX


# ---------------------------------------------------------------------- how a real network moves


@dataclass(frozen=True, slots=True)
class DropLength:
    """One kind of churn drop: `weight` of all drops, each offline for Exp(`mean` seconds)."""

    label: str
    weight: float
    mean: float


DROP_LENGTHS = (
    DropLength("reboot", 0.55, 2 * 60.0),
    DropLength("short", 0.20, 15 * 60.0),
    DropLength("hour", 0.13, 90 * 60.0),
    DropLength("night", 0.09, 9 * 3600.0),
    DropLength("days", 0.03, 3 * 86400.0),
)


@dataclass(frozen=True, slots=True)
class Churn:
    """Background churn as one production base shows it.

    Offline durations are a mixture of exponentials (`DROP_LENGTHS`), which spans minutes to
    days the way the real data does and keeps the steady state exact (each kind is
    memoryless, so a login found offline has the same law of time left as a new drop):

    - 55 % router reboots and blips, mean 2 min: about 9 in 10 are back within 5 minutes, and
      since the ERP shows `N` only after the keepalive lag most are never seen by a 5-minute poll;
    - 20 % short, mean 15 min; 13 % about an hour (mean 1.5 h);
    - 9 % a night (mean 9 h: switched off at bedtime);
    - 3 % days (mean 3 days: switched off, customer travelling) — about 2.7 % of all drops
      last more than a day, and they are two thirds of the logins offline at any moment.

    The mean offline time is 3.2 h. `offline_share` = 3.25 % of the churning logins offline
    (about 3 % shown `N`, the rest `SS` through lost accounting stops, as the real base's 245
    `N` of 8,265) gives `drop_rate`: one drop every 4 days per login, spread evenly over the
    network (a Poisson process over every login). `ss_share` = 10 % of the logins show `SS`
    ("sem status") while online: SS logins leave it when they drop (then `N`, and `S` when
    back) and `status_loss_rate` moves `S` logins to `SS` at the rate that keeps the share.
    """

    offline_share: float = 0.0325
    ss_share: float = 0.10
    lengths: tuple[DropLength, ...] = DROP_LENGTHS

    @property
    def mean_offline(self) -> float:
        """Mean seconds offline per drop."""
        total = sum(kind.weight for kind in self.lengths)
        return sum(kind.weight * kind.mean for kind in self.lengths) / total

    @property
    def drop_rate(self) -> float:
        """Drops per second per online login, so that `offline_share` is the steady state."""
        return self.offline_share / ((1 - self.offline_share) * self.mean_offline)

    @property
    def status_loss_rate(self) -> float:
        """`S` -> `SS` per second per online `S` login, balancing the `SS` logins that drop."""
        return self.drop_rate * self.ss_share / (1 - self.offline_share - self.ss_share)

    def drop_length(self, rng: random.Random) -> float:
        """Seconds offline for a new drop."""
        return rng.expovariate(1 / self._pick(rng, by_time=False).mean)

    def offline_now(self, rng: random.Random) -> tuple[float, float]:
        """For a login found offline in the steady state: (seconds since it dropped, seconds left).

        Long drops are over-represented among the logins offline at one moment (a drop is found
        in proportion to its length), and for an exponential both times have its law.
        """
        mean = self._pick(rng, by_time=True).mean
        return rng.expovariate(1 / mean), rng.expovariate(1 / mean)

    def _pick(self, rng: random.Random, *, by_time: bool) -> DropLength:
        weights = [kind.weight * (kind.mean if by_time else 1.0) for kind in self.lengths]
        return rng.choices(self.lengths, weights)[0]


@dataclass(frozen=True, slots=True)
class Timing:
    """How long each change takes to show, in seconds, as at a real ISP.

    keepalive_lag: (min, max) from an ONU going down to the BNG ending its PPPoE session
      (uniform: keepalive intervals and retries differ, and each session's echo phase too);
    lost_stop_share: session ends whose accounting stop never reaches the ERP (shown `SS`,
      `ultima_conexao_final` unchanged);
    onset_spread: a fiber cut (or a concentrator failure) reaches every ONU (session) behind
      it within this many seconds;
    power_spread: a power cut reaches the last of its PONs within this many seconds;
    return_after: (min, mean extra) from a repair to a session coming back: ONU ranging and the
      router's PPPoE retry, then an exponential spread, so most are back within minutes;
    straggler_share: share of the ONUs of a repaired outage (fiber, CTO, power) that stay down
      much longer (a surge killed the ONU, the customer is away): 1 to 3 of an outage of 50;
    straggler_after: (min, max) of their delay, log-uniform (many are not back within the day).
    """

    keepalive_lag: tuple[float, float] = (10.0, 180.0)
    lost_stop_share: float = 0.08
    onset_spread: float = 2.0
    power_spread: float = 300.0
    return_after: tuple[float, float] = (20.0, 100.0)
    straggler_share: float = 0.04
    straggler_after: tuple[float, float] = (3600.0, 3 * 86400.0)

    def session_lag(self, rng: random.Random) -> float:
        low, high = self.keepalive_lag
        return low + rng.random() * (high - low)

    def return_delay(self, rng: random.Random) -> float:
        low, mean_extra = self.return_after
        return low + (rng.expovariate(1 / mean_extra) if mean_extra else 0.0)

    def straggler_delay(self, rng: random.Random) -> float:
        low, high = self.straggler_after
        return float(low * (high / low) ** rng.random())


DEFAULT_CHURN = Churn()
REALISTIC = Timing()
INSTANT = Timing(
    keepalive_lag=(0.0, 0.0),
    lost_stop_share=0.0,
    onset_spread=0.0,
    power_spread=0.0,
    return_after=(0.0, 0.0),
    straggler_share=0.0,
)
"""Every change shows at the instant it is made: for tests about formats, never about timing."""

CHURN = "churn"
STRAGGLER_KINDS = ("fiber_cut", "power_outage", "cto_failure")
_HOLD, _RELEASE, _SESSION_END = 0, 1, 2
_Event = tuple[float, int, int, int, str, str | None]
"""(time, order, action, customer index, holder, detail): detail is the ONU cause of a hold
(None: the session only) or the ERP state a session end shows (`N` or `SS`)."""


@dataclass(slots=True)
class Olt:
    """One OLT; `conexao` is the ERP connection name of its customers: the OLT's own name at
    half of the POPs, the BNG's (`BNG-<pop>`, shared by the POP's OLTs) at the others."""

    id: str
    name: str
    vendor: str
    pop: str
    conexao: str
    concentrador: str
    host: str
    model: str


@dataclass(slots=True)
class Cto:
    """A splitter box (at most 16 customers) on one PON."""

    id: str
    name: str
    olt: Olt
    port: str
    latitude: float
    longitude: float
    customers: list[Customer] = field(default_factory=list)


@dataclass(slots=True)
class Client:
    """An IXC `cliente` (one person or company; may hold several contracts/logins).

    Contact fields are derived on demand from `contact_seed` (deterministic, and keeps a
    200k-customer network small); `phone_from` makes two clients share one mobile number.
    """

    id: str
    razao: str
    contact_seed: int
    phone_from: Client | None = None
    ativo: str = "S"

    def contacts(self) -> dict[str, str]:
        """`fantasia`, `fone`, `telefone_celular`, `telefone_comercial`, `whatsapp`, `contato`, `email`."""
        rng = _Lcg(self.contact_seed)
        phones = _PhoneMaker(rng)
        mobile = "" if rng.random() < 0.05 else phones.mobile()
        if self.phone_from is not None:
            mobile = self.phone_from.contacts()["telefone_celular"]
        landline = phones.landline()
        fone_roll = rng.random()
        first = self.razao.split(" ")[0].lower().translate(_ASCII)
        return {
            "fantasia": "",
            "fone": landline if fone_roll < 0.3 else (mobile if fone_roll < 0.65 else ""),
            "telefone_celular": mobile,
            "telefone_comercial": phones.landline() if rng.random() < 0.1 else "",
            "whatsapp": mobile if rng.random() < 0.4 else "",
            "contato": rng.choice(FIRST_NAMES) if rng.random() < 0.2 else "",
            "email": f"{first}{self.id}@exemplo.com.br" if rng.random() < 0.7 else "",
        }


@dataclass(slots=True)
class Customer:
    """One PPPoE login (an IXC `radusuarios` row) and its ONU; times are epoch ints, 0 = never.

    `session_due`: when the BNG will end a session whose ONU is already down (0: none pending).
    """

    index: int
    id: str
    login: str
    client: Client
    olt: Olt
    port: str
    ont_id: int
    cto: Cto
    cto_known: bool
    ftth_porta: str
    ativo: str
    online: str
    session_start: int
    session_end: int
    onu_online: bool
    down_cause: str
    down_time: int
    up_time: int
    motivo_desconexao: str
    count_desconexao: int
    updated: int
    session_due: float = 0.0

    @property
    def onu_mac(self) -> str:
        """The GPON serial in hex: vendor prefix (HWTC / ZTEG) + 8 hex digits unique per customer."""
        prefix = HUAWEI_SN_PREFIX if self.olt.vendor == HUAWEI else ZTE_SN_PREFIX
        return f"{prefix}{(self.index * 2654435761 + 0x1A2B3C) % 2**32:08X}"

    @property
    def id_contrato(self) -> str:
        return str(self.index + 5001)

    @property
    def name(self) -> str:
        return self.client.razao

    @property
    def id_cliente(self) -> str:
        return self.client.id

    @property
    def conexao(self) -> str:
        return self.olt.conexao

    @property
    def concentrador(self) -> str:
        return self.olt.concentrador

    @property
    def id_transmissor(self) -> str:
        return self.olt.id

    @property
    def olt_name(self) -> str:
        return self.olt.name

    @property
    def vendor(self) -> str:
        return self.olt.vendor

    @property
    def pon(self) -> tuple[str, str]:
        """The PON key `(id_transmissor, port)` used by `Network.pons()` and incidents."""
        return (self.olt.id, self.port)

    @property
    def interface_transmissao(self) -> str:
        """Huawei: the F/S/P (`0/1/2`); ZTE: the PON interface (C300 `gpon-olt_1/2/1`, C600 `gpon_olt-1/2/1`)."""
        if self.olt.vendor == HUAWEI:
            return self.port
        return f"gpon_olt-{self.port}" if self.olt.model in TITAN_MODELS else f"gpon-olt_{self.port}"

    @property
    def id_caixa_ftth(self) -> str:
        return self.cto.id if self.cto_known else "0"

    @property
    def ultima_conexao_inicial(self) -> str:
        return format_local(self.session_start)

    @property
    def ultima_conexao_final(self) -> str:
        return format_local(self.session_end)


@dataclass(slots=True)
class Incident:
    """One outage: the customers of its place and what it did to each (customer indexes).

    members: every active customer of the place; it holds each down from its `hold_at` time
      until its return (a customer already offline for its own reasons is held but not taken);
    expected: the members that were up when it was started (what it is about to take down);
    taken: the members it took down, with the ERP state each had before (filled as the onset
      reaches each ONU: the exact truth);
    shown_offline: when the ERP started showing each taken login `N` (lost stops are absent);
    repaired: when `Network.recover` was called; returns: when each member's session comes
      back; stragglers: the members that stay down much longer than the rest.
    """

    id: str
    kind: str
    started: float
    members: list[int] = field(default_factory=list)
    hold_at: dict[int, float] = field(default_factory=dict)
    expected: list[int] = field(default_factory=list)
    taken: dict[int, str] = field(default_factory=dict)
    shown_offline: dict[int, float] = field(default_factory=dict)
    repaired: float | None = None
    returns: dict[int, float] = field(default_factory=dict)
    stragglers: set[int] = field(default_factory=set)

    @property
    def recovered(self) -> bool:
        return self.repaired is not None


def _between(rng: random.Random, low: int, high: int) -> int:
    """Like `rng.randint` (inclusive) but several times faster: it runs per customer."""
    return low + int(rng.random() * (high - low + 1))


class _CustomersById(Mapping[str, Customer]):
    """`by_id` without a dict: radusuarios ids are the list position plus one."""

    def __init__(self, customers: list[Customer]) -> None:
        self._customers = customers

    def __getitem__(self, key: str) -> Customer:
        if not key.isdigit() or not 1 <= int(key) <= len(self._customers):
            raise KeyError(key)
        return self._customers[int(key) - 1]

    def __iter__(self) -> Iterator[str]:
        return (c.id for c in self._customers)

    def __len__(self) -> int:
        return len(self._customers)


def _fake_lat_lon(rng: random.Random, base: tuple[float, float]) -> tuple[float, float]:
    return base[0] + rng.uniform(-0.08, 0.08), base[1] + rng.uniform(-0.08, 0.08)


class _Lcg:
    """A tiny deterministic generator (64-bit LCG): seeding `random.Random` per client is too slow."""

    def __init__(self, seed: int) -> None:
        self._state = (seed * 6364136223846793005 + 1442695040888963407) % 2**64

    def random(self) -> float:
        self._state = (self._state * 6364136223846793005 + 1442695040888963407) % 2**64
        return (self._state >> 11) / 2**53

    def randint(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def choice(self, options: Sequence[str]) -> str:
        return options[int(self.random() * len(options))]


class _PhoneMaker:
    """Brazilian phone numbers in the many formats found in real ERPs (some invalid, some missing)."""

    def __init__(self, rng: _Lcg) -> None:
        self._rng = rng

    def mobile(self) -> str:
        rng = self._rng
        ddd = rng.choice(DDDS)
        number = f"9{rng.randint(6000, 9999)}{rng.randint(0, 9999):04d}"
        style = rng.random()
        if style < 0.40:
            text = f"({ddd}) {number[:5]}-{number[5:]}"
        elif style < 0.65:
            text = f"{ddd}{number}"
        elif style < 0.78:
            text = f"+55 {ddd} {number[:5]}-{number[5:]}"
        elif style < 0.86:
            text = f"{ddd} {number}"
        elif style < 0.92:
            text = f"55{ddd}{number}"
        elif style < 0.96:
            text = f"{number[:5]}-{number[5:]}"  # no DDD: not normalizable
        elif style < 0.98:
            text = "123"
        else:
            text = f"({ddd}) {number[1:5]}-{number[5:]}"  # old 8-digit mobile
        return text

    def landline(self) -> str:
        rng = self._rng
        ddd = rng.choice(DDDS)
        number = f"{rng.randint(2, 5)}{rng.randint(100, 999)}{rng.randint(0, 9999):04d}"
        if rng.random() < 0.6:
            return f"({ddd}) {number[:4]}-{number[4:]}"
        return f"{ddd}{number}"


class Network:
    """A seeded synthetic ISP. `Network(customers=2000, seed=1, clock=time.time)`.

    churn: the background churn (`DEFAULT_CHURN`; None: logins change only by incidents and
      `set_state`, the offline ones frozen as found); timing: how long changes take to show
      (`REALISTIC`; `INSTANT` for tests about formats); olt_size: customers per OLT (default:
      a quarter of them, 50 to 3,000).

    Nothing moves by itself: `advance(now)` applies what is due. Same seed and same clock
    readings give the same network. Build cost is linear (200,000 customers in a few seconds).
    """

    def __init__(
        self,
        customers: int = 2000,
        seed: int = 1,
        clock: Callable[[], float] = time.time,
        *,
        churn: Churn | None = DEFAULT_CHURN,
        timing: Timing = REALISTIC,
        olt_size: int | None = None,
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.churn_model = churn
        self.timing = timing
        self.alarms: NetworkAlarms | None = None  # what the devices send (simulator.alarms), when wired
        self.lock = threading.RLock()
        self.version = 0
        self.now = float(int(clock()))
        self.olts: list[Olt] = []
        self.ctos: dict[str, Cto] = {}
        self.customers: list[Customer] = []
        self.clients: list[Client] = []
        self.by_login: dict[str, Customer] = {}
        self.by_id = _CustomersById(self.customers)
        self.churn_drops = 0
        self._pons: dict[tuple[str, str], list[Customer]] = {}
        self._not_online: set[int] = set()
        self._incidents: dict[str, Incident] = {}
        self._holds: dict[int, dict[str, bool]] = {}
        self._events: list[_Event] = []
        self._event_order = itertools.count()
        self._timeline = random.Random(f"{seed}-timeline")
        self._next_drop = math.inf
        self._next_status_loss = math.inf
        self._incident_ids = itertools.count(1)
        self._build(customers, random.Random(seed), olt_size)
        self._start_churn()

    # ------------------------------------------------------------------ building

    def _build(self, total: int, rng: random.Random, olt_size: int | None) -> None:
        now = int(self.now)
        per_olt = olt_size or max(50, min(3000, total // 4 or 1))
        olt_count = max(1, -(-total // per_olt))
        self._build_olts(olt_count, rng)
        olt_index = 0
        while len(self.customers) < total:
            olt = self.olts[olt_index % len(self.olts)]
            olt_index += 1
            self._fill_olt(olt, min(per_olt, total - len(self.customers)), rng, now)
        self._plant_hostile_names(rng)

    def _build_olts(self, count: int, rng: random.Random) -> None:
        pop_number = 0
        while len(self.olts) < count:
            pop = POP_NAMES[pop_number % len(POP_NAMES)]
            if pop_number >= len(POP_NAMES):
                pop = f"{pop}-{pop_number // len(POP_NAMES) + 1}"
            bng = f"10.{pop_number // 250}.{pop_number % 250 + 1}.1"
            for n in range(1, rng.randint(2, 4) + 1):
                if len(self.olts) >= count:
                    break
                olt_id = str(len(self.olts) + 1)
                vendor = HUAWEI if rng.random() < 0.6 else ZTE
                tag = "HW" if vendor == HUAWEI else "ZTE"
                name = f"OLT-{tag}-{pop}-{n:02d}"
                zte_so_far = sum(olt.vendor == ZTE for olt in self.olts)
                model = (
                    rng.choice(("MA5800-X7", "MA5608T", "MA5680T"))
                    if vendor == HUAWEI
                    else ZTE_MODELS[zte_so_far % len(ZTE_MODELS)]
                )
                host = f"10.{200 + pop_number // 250}.{pop_number % 250}.{n + 1}"
                conexao = f"BNG-{pop}" if pop_number % 2 else name  # odd POPs: one connection per BNG
                self.olts.append(Olt(olt_id, name, vendor, pop, conexao, bng, host, model))
            pop_number += 1

    def _fill_olt(self, olt: Olt, count: int, rng: random.Random, now: int) -> None:
        base = (-23.55 + rng.uniform(-1.5, 1.5), -46.63 + rng.uniform(-1.5, 1.5))
        pon_number = 0
        while count > 0:
            port = self._port_name(olt, pon_number)
            pon_number += 1
            in_pon = min(count, rng.randint(24, 64))
            count -= in_pon
            members = self._pons.setdefault((olt.id, port), [])
            ont_id = 0
            while in_pon > 0:
                in_cto = min(in_pon, rng.randint(8, 16))
                in_pon -= in_cto
                lat, lon = _fake_lat_lon(rng, base)
                cto_id = str(len(self.ctos) + 1)
                cto = Cto(cto_id, f"CTO-{olt.pop}-{cto_id}", olt, port, lat, lon)
                self.ctos[cto_id] = cto
                for slot in range(1, in_cto + 1):
                    ont_id += 1
                    customer = self._new_customer(olt, port, ont_id, cto, slot, rng, now)
                    cto.customers.append(customer)
                    members.append(customer)

    @staticmethod
    def _port_name(olt: Olt, pon_number: int) -> str:
        slot, port = divmod(pon_number, 16)
        if olt.vendor == HUAWEI:
            return f"0/{slot + 1}/{port}"
        return f"1/{slot + 1}/{port + 1}"

    def _new_customer(
        self,
        olt: Olt,
        port: str,
        ont_id: int,
        cto: Cto,
        cto_slot: int,
        rng: random.Random,
        now: int,
    ) -> Customer:
        index = len(self.customers)
        client = self._client_for(rng)
        first, last = client.razao.split(" ", 1) if " " in client.razao else (client.razao, "cliente")
        stem = f"{first}.{last.split(' ')[-1]}".lower().translate(_ASCII)
        login = f"{stem}{index + 1}"
        customer = Customer(
            index=index,
            id=str(index + 1),
            login=login,
            client=client,
            olt=olt,
            port=port,
            ont_id=ont_id,
            cto=cto,
            cto_known=rng.random() >= 0.05,
            ftth_porta=_SMALL_NUMBERS[cto_slot],
            ativo="S",
            online="S",
            session_start=0,
            session_end=0,
            onu_online=True,
            down_cause=CAUSE_NEVER_DOWN,
            down_time=0,
            up_time=0,
            motivo_desconexao="",
            count_desconexao=0,
            updated=now - _between(rng, 0, 90 * 86400),
        )
        self._baseline_state(customer, rng, now)
        self.customers.append(customer)
        self.by_login[login] = customer
        return customer

    def _client_for(self, rng: random.Random) -> Client:
        """A new client, or (3%) the previous one again: one client with two contracts."""
        roll = rng.random()
        if self.clients and roll < 0.03:
            return self.customers[-1].client
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"
        client_id = str(len(self.clients) + 1)
        client = Client(client_id, name, self.seed * 1_000_003 + len(self.clients))
        if self.clients and roll > 0.99:
            client.phone_from = self.clients[-1]  # a mobile number shared by two clients
        self.clients.append(client)
        return client

    def _baseline_state(self, customer: Customer, rng: random.Random, now: int) -> None:
        """A history, then: 2% inactive contracts (offline for good), 0.5% with an empty status,
        the rest in the churn's steady state (offline since a while, `SS` or `S`)."""
        roll = rng.random()
        last_end = now - _between(rng, 3600, 60 * 86400)
        customer.session_end = 0 if rng.random() < 0.03 else last_end
        customer.session_start = last_end + _between(rng, 10, 600)
        customer.count_desconexao = _between(rng, 0, 40)
        customer.motivo_desconexao = rng.choice(RADIUS_REASONS) if customer.session_end else ""
        if rng.random() < 0.6:
            customer.down_cause = rng.choice(HISTORIC_CAUSES)
            customer.down_time = last_end
        customer.up_time = customer.session_start
        if roll < 0.02:
            customer.ativo = "N"
            customer.session_start = last_end - _between(rng, 3600, 86400 * 30)
            self._onu_down(customer, rng.choice(HISTORIC_CAUSES), last_end)
            self._erp_down(customer, "N", last_end)
        elif roll < 0.025:
            customer.online = ""
            self._not_online.add(customer.index)
        else:
            self._steady_state(customer, rng, now)

    def _steady_state(self, customer: Customer, rng: random.Random, now: int) -> None:
        """Offline (held by churn since a while), `SS` or `S`, in the churn's proportions.

        Without churn the network is a snapshot of a churning one: the same logins offline,
        never coming back by themselves.
        """
        model = self.churn_model or DEFAULT_CHURN
        roll = rng.random()
        if roll < model.offline_share:
            since, left = model.offline_now(rng)
            dropped = now - since
            if customer.session_start >= dropped:
                customer.session_start = int(dropped) - _between(rng, 3600, 30 * 86400)
            self._hold(customer, CHURN, rng.choice(CHURN_CAUSES), dropped)
            if self.churn_model is not None:
                self._push(now + left, _RELEASE, customer.index, CHURN, None)
        elif roll < model.offline_share + model.ss_share:
            customer.online = "SS"
            self._not_online.add(customer.index)

    def _plant_hostile_names(self, rng: random.Random) -> None:
        """About 0.5% of clients (at least a few) get names that break unescaped HTML."""
        count = max(len(HOSTILE_NAMES), len(self.clients) // 200)
        for n in range(min(count, len(self.clients))):
            client = self.clients[rng.randrange(len(self.clients))]
            client.razao = HOSTILE_NAMES[n % len(HOSTILE_NAMES)]

    # ------------------------------------------------------------------ lookups

    def pons(self) -> dict[tuple[str, str], list[Customer]]:
        """Every PON as `(id_transmissor, port) -> customers`, in build order."""
        with self.lock:
            return {key: list(members) for key, members in self._pons.items()}

    def olt(self, name_or_id: str) -> Olt:
        """The OLT with that `id_transmissor` or name; KeyError otherwise."""
        for olt in self.olts:
            if name_or_id in (olt.id, olt.name):
                return olt
        raise KeyError(name_or_id)

    def not_online(self) -> list[Customer]:
        """Customers whose ERP `online` is not `S` (N, SS or empty), in id order; O(non-S)."""
        with self.lock:
            return [self.customers[i] for i in sorted(self._not_online)]

    def offline(self) -> list[Customer]:
        """Customers whose ERP `online` is `N`, in id order."""
        return [c for c in self.not_online() if c.online == "N"]

    def incident(self, incident_id: str) -> Incident:
        with self.lock:
            return self._incidents[incident_id]

    def affected(self, incident_id: str) -> list[Customer]:
        """The customers the incident took down so far (its onset reaches ONUs within seconds)."""
        with self.lock:
            return [self.customers[i] for i in self._incidents[incident_id].taken]

    def taken_at(self, incident_id: str) -> dict[str, float]:
        """The logins the incident took down so far, each with when its ONU went dark."""
        with self.lock:
            incident = self._incidents[incident_id]
            return {self.customers[i].login: incident.hold_at[i] for i in incident.taken}

    def expected(self, incident_id: str) -> list[Customer]:
        """The customers the incident was about to take down when it started (those then up)."""
        with self.lock:
            return [self.customers[i] for i in self._incidents[incident_id].expected]

    def is_up(self, customer: Customer) -> bool:
        """Whether the login is up for real (ONU and session), whatever the ERP shows (`S`/`SS`)."""
        with self.lock:
            return customer.index not in self._holds and customer.online != "N" and customer.ativo == "S"

    # ------------------------------------------------------------------ incidents

    def fiber_cut(self, olt_name_or_id: str, pon: str, *, at: float | None = None) -> str:
        """Every ONU of the PON goes down with `LOS` within `onset_spread`; returns the incident id."""
        key = (self.olt(olt_name_or_id).id, pon)
        incident, rng = self._new_incident("fiber_cut", at)
        spread = self.timing.onset_spread
        plan = [(c, incident.started + rng.random() * spread, CAUSE_LOS) for c in self._pons[key]]
        return self._start(incident, plan)

    def power_outage(
        self, pons: Sequence[tuple[str, str]], share: float = 0.9, *, at: float | None = None
    ) -> str:
        """`dying-gasp` on about `share` of the ONUs of those PONs (the rest have a UPS).

        The first PON loses power at the onset, each other one within `power_spread` after it.
        """
        incident, rng = self._new_incident("power_outage", at)
        spread = self.timing.onset_spread
        plan: list[tuple[Customer, float, str | None]] = []
        for n, (olt, port) in enumerate(pons):
            reached = incident.started + (rng.random() * self.timing.power_spread if n else 0.0)
            for customer in self._pons[(self.olt(olt).id, port)]:
                if rng.random() < share:
                    plan.append((customer, reached + rng.random() * spread, CAUSE_DYING_GASP))
        return self._start(incident, plan)

    def cto_failure(self, cto_id: str, *, at: float | None = None) -> str:
        """Every ONU of the CTO (at most 16) goes down with `LOS`."""
        incident, rng = self._new_incident("cto_failure", at)
        spread = self.timing.onset_spread
        plan = [(c, incident.started + rng.random() * spread, CAUSE_LOS) for c in self.ctos[cto_id].customers]
        return self._start(incident, plan)

    def concentrator_failure(self, conexao: str, *, at: float | None = None) -> str:
        """Every PPPoE session of the connection ends at once (the BNG itself); the ONUs stay up."""
        incident, rng = self._new_incident("concentrator_failure", at)
        spread = self.timing.onset_spread
        members = [c for c in self.customers if c.olt.conexao == conexao]
        return self._start(incident, [(c, incident.started + rng.random() * spread, None) for c in members])

    def churn(self, n: int, *, at: float | None = None) -> str:
        """`n` random online customers drop, each with its own cause, until recovered."""
        incident, rng = self._new_incident("churn", at)
        with self.lock:
            online = [c for c in self.customers if c.online == "S" and self.is_up(c)]
        chosen = rng.sample(online, min(n, len(online)))
        return self._start(incident, [(c, incident.started, rng.choice(CHURN_CAUSES)) for c in chosen])

    def flap(self, pon: tuple[str, str], *, at: float | None = None) -> str:
        """A PON goes down (LOS) and comes straight back (no stragglers); returns the incident id."""
        when = self.clock() if at is None else at
        incident_id = self.fiber_cut(pon[0], pon[1], at=when)
        self.recover(incident_id, at=when, stragglers=False)
        return incident_id

    def recover(self, incident_id: str, *, at: float | None = None, stragglers: bool = True) -> None:
        """The place is repaired at `at` (default: the clock); idempotent.

        Each member's session comes back after `Timing.return_delay`; with `stragglers` (and an
        outage that took ONUs down: `STRAGGLER_KINDS`) about `straggler_share` of them come
        back only after `straggler_delay`. A customer also held by another incident or by
        churn stays down until that one lets it go too.
        """
        with self.lock:
            incident = self._incidents[incident_id]
            if incident.repaired is not None:
                return
            repaired = self.clock() if at is None else at
            incident.repaired = repaired
            rng = random.Random(f"{self.seed}-{incident_id}-repair")
            straggling = (
                self.timing.straggler_share if stragglers and incident.kind in STRAGGLER_KINDS else 0.0
            )
            for index in incident.members:
                fixed = max(repaired, incident.hold_at[index])
                if rng.random() < straggling:
                    incident.stragglers.add(index)
                    back = fixed + self.timing.straggler_delay(rng)
                else:
                    back = fixed + self.timing.return_delay(rng)
                incident.returns[index] = back
                self._push(back, _RELEASE, index, incident_id, None)
            self.version += 1
            self.advance(max(self.now, repaired))

    def recover_all(self, *, at: float | None = None) -> None:
        """Recover every incident still active."""
        with self.lock:
            for incident_id, incident in list(self._incidents.items()):
                if not incident.recovered:
                    self.recover(incident_id, at=at)

    def _new_incident(self, kind: str, at: float | None) -> tuple[Incident, random.Random]:
        number = next(self._incident_ids)
        started = self.clock() if at is None else at
        return Incident(f"{kind}-{number}", kind, started), random.Random(f"{self.seed}-{kind}-{number}")

    def _start(self, incident: Incident, plan: Iterable[tuple[Customer, float, str | None]]) -> str:
        """Hold each active customer of the plan from its time (with its ONU cause, or None for
        the session only), then bring the network up to the onset."""
        with self.lock:
            for customer, when, cause in plan:
                if customer.ativo != "S":
                    continue
                incident.members.append(customer.index)
                incident.hold_at[customer.index] = when
                if self.is_up(customer):
                    incident.expected.append(customer.index)
                self._push(when, _HOLD, customer.index, incident.id, cause)
            self._incidents[incident.id] = incident
            self.version += 1
            self.advance(max(self.now, incident.started))
            return incident.id

    # ------------------------------------------------------------------ time

    def advance(self, now: float | None = None) -> int:
        """Apply, in time order, every churn drop, session end and return due at or before `now`
        (default: the clock); returns how many events were looked at. Cheap when nothing is due."""
        with self.lock:
            target = self.clock() if now is None else now
            events = self._events
            seen = 0
            while True:
                due = events[0][0] if events else math.inf
                when = min(due, self._next_drop, self._next_status_loss)
                if when > target:
                    break
                if when == due:
                    self._apply(heapq.heappop(events))
                elif when == self._next_drop:
                    self._churn_drop(when)
                else:
                    self._status_loss(when)
                seen += 1
            self.now = max(self.now, target)
            if seen:
                self.version += 1
            return seen

    def _start_churn(self) -> None:
        """Schedule the first churn drop and status loss, then apply what the build left due."""
        if self.churn_model is not None:
            self._next_drop = self.now + self._next_gap(self.churn_model.drop_rate)
            self._next_status_loss = self.now + self._next_gap(self.churn_model.status_loss_rate)
        self.advance(self.now)

    def _next_gap(self, rate_per_login: float) -> float:
        """Seconds to the next event of a Poisson process over every login (thinned on arrival)."""
        return self._timeline.expovariate(rate_per_login * len(self.customers))

    def _random_customer(self) -> Customer:
        return self.customers[int(self._timeline.random() * len(self.customers))]

    def _churn_drop(self, when: float) -> None:
        """One login drops (if it is up for real: the process is thinned to the online ones)."""
        churn = self.churn_model
        assert churn is not None
        self._next_drop = when + self._next_gap(churn.drop_rate)
        customer = self._random_customer()
        if customer.online not in ("S", "SS") or not self.is_up(customer):
            return
        self.churn_drops += 1
        self._hold(customer, CHURN, self._timeline.choice(CHURN_CAUSES), when)
        self._push(when + churn.drop_length(self._timeline), _RELEASE, customer.index, CHURN, None)

    def _status_loss(self, when: float) -> None:
        """The ERP loses the status of one online `S` login: it shows `SS` until its next drop."""
        churn = self.churn_model
        assert churn is not None
        self._next_status_loss = when + self._next_gap(churn.status_loss_rate)
        customer = self._random_customer()
        if customer.online == "S" and self.is_up(customer):
            customer.online = "SS"
            customer.updated = int(when)
            self._not_online.add(customer.index)

    def _push(self, when: float, action: int, index: int, holder: str, detail: str | None) -> None:
        heapq.heappush(self._events, (when, next(self._event_order), action, index, holder, detail))

    def _apply(self, event: _Event) -> None:
        when, _, action, index, holder, detail = event
        customer = self.customers[index]
        if action == _HOLD:
            before = customer.online
            if self._hold(customer, holder, detail, when):
                self._incidents[holder].taken[index] = before
        elif action == _RELEASE:
            self._release(customer, holder, when)
        else:
            self._end_session(customer, holder, detail or "N", when)

    def _hold(self, customer: Customer, holder: str, cause: str | None, when: float) -> bool:
        """`holder` keeps the customer down from `when`: its ONU (with `cause`) or, with None, its
        session only. True when this took an up customer down (its session ends after the
        keepalive lag; at once when the BNG itself failed)."""
        holds = self._holds.get(customer.index)
        if holds is not None:
            holds[holder] = cause is not None
            if cause is not None and customer.onu_online:
                self._onu_down(customer, cause, when)
            return False
        if customer.online == "N":
            return False  # offline for its own reasons (inactive, set by hand): not held
        self._holds[customer.index] = {holder: cause is not None}
        if cause is not None:
            self._onu_down(customer, cause, when)
        lag = self.timing.session_lag(self._timeline) if cause is not None else 0.0
        shown = "SS" if self._timeline.random() < self.timing.lost_stop_share else "N"
        customer.session_due = when + lag
        self._push(when + lag, _SESSION_END, customer.index, holder, shown)
        return True

    def _end_session(self, customer: Customer, holder: str, shown: str, when: float) -> None:
        """The BNG ends the session; the ERP shows `shown` (`SS`: the accounting stop was lost)."""
        if customer.session_due != when or customer.index not in self._holds:
            return  # back before the keepalive failed: the session was restarted instead
        customer.session_due = 0.0
        self._erp_down(customer, shown, when)
        incident = self._incidents.get(holder)
        if incident is not None and shown == "N":
            incident.shown_offline[customer.index] = when

    def _release(self, customer: Customer, holder: str, when: float) -> None:
        """`holder` lets the customer go; with no hold left its ONU and session come back."""
        holds = self._holds.get(customer.index)
        if holds is None or holds.pop(holder, None) is None:
            return
        if holds:
            if not customer.onu_online and not any(holds.values()):
                self._onu_up(customer, when)
            return
        del self._holds[customer.index]
        if customer.session_due:  # the BNG had not noticed yet: the old session ends as the new starts
            customer.session_due = 0.0
            self._erp_down(customer, "N", when)
        if not customer.onu_online:
            self._onu_up(customer, when)
        self._erp_up(customer, when)

    def _onu_down(self, customer: Customer, cause: str, when: float) -> None:
        customer.onu_online = False
        customer.down_cause = cause
        customer.down_time = int(when)
        if self.alarms is not None:
            self.alarms.onu_down(customer, cause, when)

    def _onu_up(self, customer: Customer, when: float) -> None:
        customer.onu_online = True
        customer.up_time = int(when)
        if self.alarms is not None:
            self.alarms.onu_up(customer, when)

    def _erp_down(self, customer: Customer, shown: str, when: float) -> None:
        """The ERP shows the session ended (`N`: with its end time and reason; `SS`: unknown)."""
        customer.online = shown
        customer.updated = int(when)
        self._not_online.add(customer.index)
        if self.alarms is not None:
            self.alarms.session_end(customer, when)
        if shown != "N":
            return
        customer.session_end = int(when)
        if customer.session_start >= customer.session_end:
            customer.session_start = customer.session_end - 60
        customer.motivo_desconexao = RADIUS_LOST_CARRIER if not customer.onu_online else RADIUS_NAS_REBOOT
        customer.count_desconexao += 1

    def _erp_up(self, customer: Customer, when: float) -> None:
        """A new session: IXC shows `S` again, even for a login that was `SS` before."""
        customer.online = "S"
        customer.session_start = int(when)
        if self.alarms is not None:
            self.alarms.session_start(customer, when)
        customer.updated = int(when)
        self._not_online.discard(customer.index)

    def set_state(self, logins: Iterable[str], online: str, cause: str | None = None) -> None:
        """Low level, outside the timeline: set the ERP `online` of those logins now.

        `N` with a `cause` also takes the ONU down with that cause; `N` without one drops only
        the PPPoE session. `S` brings session and ONU up. `SS`/`""` touch the ERP only.
        """
        with self.lock:
            now = self.clock()
            for login in logins:
                customer = self.by_login[login]
                if online == "N":
                    if cause is not None:
                        self._onu_down(customer, cause, now)
                    self._erp_down(customer, "N", now)
                elif online == "S":
                    if not customer.onu_online:
                        self._onu_up(customer, now)
                    self._erp_up(customer, now)
                else:
                    customer.online = online
                    customer.updated = int(now)
                    self._not_online.add(customer.index)
            self.version += 1

    # ------------------------------------------------------------------ exports

    def radusuarios_records(self, customers: Iterable[Customer] | None = None) -> list[dict[str, str]]:
        """IXC `radusuarios` rows (every value a string) for those customers (default: all)."""
        with self.lock:
            chosen = self.customers if customers is None else customers
            return [radusuarios_record(c) for c in chosen]

    def cliente_records(self, clients: Iterable[Client] | None = None) -> list[dict[str, str]]:
        """IXC `cliente` rows (every value a string), one per client, in id order."""
        with self.lock:
            chosen = self.clients if clients is None else clients
            return [cliente_record(c) for c in chosen]

    def onu_view(self, customer: Customer) -> dict[str, str]:
        """What an OLT knows about the customer's ONU (for the Huawei/ZTE emulators)."""
        with self.lock:
            return {
                "vendor": customer.olt.vendor,
                "olt": customer.olt.name,
                "olt_id": customer.olt.id,
                "fsp": customer.port,
                "port": customer.port,
                "ont_id": str(customer.ont_id),
                "sn": customer.onu_mac,
                "description": customer.login,
                "run_state": "online" if customer.onu_online else "offline",
                "last_down_cause": customer.down_cause,
                "last_down_time": format_olt(customer.down_time),
                "last_up_time": format_olt(customer.up_time),
            }


def _coordinate(customer: Customer, base: float, salt: int) -> str:
    jitter = ((customer.index * 7919 + salt) % 2001 - 1000) * 1e-6
    return f"{base + jitter:.6f}"


RADUSUARIOS_GETTERS: dict[str, Callable[[Customer], str]] = {
    "id": lambda c: c.id,
    "ativo": lambda c: c.ativo,
    "online": lambda c: c.online,
    "login": lambda c: c.login,
    "id_cliente": lambda c: c.client.id,
    "id_contrato": lambda c: c.id_contrato,
    "conexao": lambda c: c.olt.conexao,
    "concentrador": lambda c: c.olt.concentrador,
    "id_transmissor": lambda c: c.olt.id,
    "interface_transmissao": lambda c: c.interface_transmissao,
    "id_caixa_ftth": lambda c: c.id_caixa_ftth,
    "ftth_porta": lambda c: c.ftth_porta if c.cto_known else "",
    "onu_mac": lambda c: c.onu_mac,
    "modelo_tranmissor": lambda c: "HW" if c.olt.vendor == HUAWEI else "ZTE",
    "ultima_conexao_inicial": lambda c: format_local(c.session_start),
    "ultima_conexao_final": lambda c: format_local(c.session_end),
    "motivo_desconexao": lambda c: c.motivo_desconexao,
    "count_desconexao": lambda c: str(c.count_desconexao),
    "latitude": lambda c: _coordinate(c, c.cto.latitude, 1),
    "longitude": lambda c: _coordinate(c, c.cto.longitude, 2),
    "ultima_atualizacao": lambda c: format_local(c.updated),
}
assert tuple(RADUSUARIOS_GETTERS) == RADUSUARIOS_FIELDS


def radusuarios_value(customer: Customer, field_name: str) -> str:
    """One `radusuarios` field of a customer as IXC sends it; "" for unknown fields."""
    getter = RADUSUARIOS_GETTERS.get(field_name)
    return getter(customer) if getter else ""


def radusuarios_record(customer: Customer) -> dict[str, str]:
    """The customer's full `radusuarios` row (call under `network.lock`)."""
    return {name: getter(customer) for name, getter in RADUSUARIOS_GETTERS.items()}


def cliente_record(client: Client) -> dict[str, str]:
    """The client's `cliente` row."""
    record = {"id": client.id, "razao": client.razao, **client.contacts(), "ativo": client.ativo}
    return {name: record[name] for name in CLIENTE_FIELDS}


def cliente_value(client: Client, field_name: str) -> str:
    """One `cliente` field as IXC sends it; "" for unknown fields."""
    if field_name in ("id", "razao", "ativo"):
        return str(getattr(client, field_name))
    return client.contacts().get(field_name, "")
