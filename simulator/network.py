"""A synthetic, seeded ISP: POPs, OLTs, PONs, CTOs and PPPoE customers, with incidents.

The network is the single source of truth shared by every fake: the IXC webservice reads the
ERP side (`radusuarios_records`, `cliente_records`), the OLT emulators read the ONU side
(`onu_view`). Incidents change both sides together so they always agree (a fiber cut sets
`online = "N"` in the ERP and `LOS` as the ONU's last down cause at the same instant).

Times: the clock is injectable (epoch seconds). Local times are America/Sao_Paulo, which has
had a fixed UTC-03:00 offset since 2019, so a fixed offset is used (fast and exact today).

Thread safety: one re-entrant lock (`network.lock`) guards every read and mutation;
`version` increases on every mutation so readers can cache derived views.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

NEVER = "0000-00-00 00:00:00"
LOCAL_OFFSET_SECONDS = -3 * 3600
LOCAL_OFFSET_SUFFIX = "-03:00"

HUAWEI = "huawei"
ZTE = "zte"
HUAWEI_SN_PREFIX = "48575443"  # "HWTC" in hex
ZTE_SN_PREFIX = "5A544547"  # "ZTEG" in hex

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


@dataclass(slots=True)
class Olt:
    """One OLT; `conexao` is the ERP connection name of its customers (one per OLT)."""

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
    """One PPPoE login (an IXC `radusuarios` row) and its ONU; times are epoch ints, 0 = never."""

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
        """Huawei: the F/S/P (`0/1/2`); ZTE: the gpon-olt interface (`gpon-olt_1/2/1`)."""
        return self.port if self.olt.vendor == HUAWEI else f"gpon-olt_{self.port}"

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
    """What an incident did: who went down, and the ERP state each had before."""

    id: str
    kind: str
    started: int
    previous: dict[int, str]
    recovered: bool = False

    @property
    def customer_indexes(self) -> list[int]:
        return list(self.previous)


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

    Same seed and same clock readings give the same network. Build cost is linear
    (200,000 customers in a few seconds).
    """

    def __init__(self, customers: int = 2000, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.seed = seed
        self.lock = threading.RLock()
        self.version = 0
        self.olts: list[Olt] = []
        self.ctos: dict[str, Cto] = {}
        self.customers: list[Customer] = []
        self.clients: list[Client] = []
        self.by_login: dict[str, Customer] = {}
        self.by_id = _CustomersById(self.customers)
        self._pons: dict[tuple[str, str], list[Customer]] = {}
        self._not_online: set[int] = set()
        self._incidents: dict[str, Incident] = {}
        self._down_by: dict[int, set[str]] = {}
        self._pre_state: dict[int, str] = {}
        self._incident_ids = itertools.count(1)
        self._build(customers, random.Random(seed))

    # ------------------------------------------------------------------ building

    def _build(self, total: int, rng: random.Random) -> None:
        now = int(self.clock())
        per_olt = max(50, min(3000, total // 4 or 1))
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
                model = rng.choice(("MA5800-X7", "MA5608T", "MA5680T")) if vendor == HUAWEI else "C320"
                host = f"10.{200 + pop_number // 250}.{pop_number % 250}.{n + 1}"
                self.olts.append(Olt(olt_id, name, vendor, pop, name, bng, host, model))
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
        """Most online; ~10% `SS`, ~0.5% empty, ~1.5% `N`; 2% inactive contracts (offline)."""
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
            self._mark_down(customer, "N", rng.choice(HISTORIC_CAUSES), last_end)
            customer.session_start = last_end - _between(rng, 3600, 86400 * 30)
        elif roll < 0.035:
            self._mark_down(customer, "N", rng.choice(CHURN_CAUSES), now - _between(rng, 600, 5 * 86400))
        elif roll < 0.135:
            customer.online = "SS"
            self._not_online.add(customer.index)
        elif roll < 0.14:
            customer.online = ""
            self._not_online.add(customer.index)

    def _mark_down(self, customer: Customer, erp_state: str, cause: str | None, when: int) -> None:
        customer.online = erp_state
        customer.session_end = when
        if customer.session_start >= when:
            customer.session_start = when - 3600
        customer.motivo_desconexao = RADIUS_LOST_CARRIER if cause else RADIUS_NAS_REBOOT
        customer.count_desconexao += 1
        customer.updated = when
        if cause is not None:
            customer.onu_online = False
            customer.down_cause = cause
            customer.down_time = when
        if erp_state == "S":
            self._not_online.discard(customer.index)
        else:
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
        """The customers an incident took down."""
        with self.lock:
            return [self.customers[i] for i in self._incidents[incident_id].previous]

    # ------------------------------------------------------------------ incidents

    def fiber_cut(self, olt_name_or_id: str, pon: str) -> str:
        """Every ONU of the PON goes down with `LOS`; returns the incident id."""
        key = (self.olt(olt_name_or_id).id, pon)
        return self._incident("fiber_cut", self._pons[key], lambda _c: CAUSE_LOS)

    def power_outage(self, pons: Sequence[tuple[str, str]], share: float = 0.9) -> str:
        """`dying-gasp` on about `share` of the ONUs of those PONs (the rest have a UPS)."""
        rng = random.Random(f"{self.seed}-power-{next(self._incident_ids)}")
        members = [c for key in pons for c in self._pons[(self.olt(key[0]).id, key[1])]]
        chosen = [c for c in members if rng.random() < share]
        return self._incident("power_outage", chosen, lambda _c: CAUSE_DYING_GASP)

    def cto_failure(self, cto_id: str) -> str:
        """Every ONU of the CTO (at most 16) goes down with `LOS`."""
        return self._incident("cto_failure", self.ctos[cto_id].customers, lambda _c: CAUSE_LOS)

    def concentrator_failure(self, conexao: str) -> str:
        """Every PPPoE session of the connection drops; the ONUs stay up (OLT has no new cause)."""
        members = [c for c in self.customers if c.olt.conexao == conexao]
        return self._incident("concentrator_failure", members, lambda _c: None)

    def churn(self, n: int) -> str:
        """`n` random online customers drop one by one, each with its own cause."""
        rng = random.Random(f"{self.seed}-churn-{next(self._incident_ids)}")
        with self.lock:
            online = [c for c in self.customers if c.online == "S" and c.ativo == "S"]
        chosen = rng.sample(online, min(n, len(online)))
        causes = {c.index: rng.choice(CHURN_CAUSES) for c in chosen}
        return self._incident("churn", chosen, lambda c: causes[c.index])

    def flap(self, pon: tuple[str, str]) -> str:
        """A PON goes down (LOS) and comes straight back; returns the (recovered) incident id."""
        incident_id = self.fiber_cut(pon[0], pon[1])
        self.recover(incident_id)
        return incident_id

    def _incident(
        self, kind: str, members: Iterable[Customer], cause_of: Callable[[Customer], str | None]
    ) -> str:
        with self.lock:
            now = int(self.clock())
            incident = Incident(f"{kind}-{next(self._incident_ids)}", kind, now, {})
            for customer in members:
                index = customer.index
                if index not in self._down_by:
                    if customer.online == "N":
                        continue  # already offline for its own reasons: not part of this incident
                    self._pre_state[index] = customer.online
                    self._mark_down(customer, "N", cause_of(customer), now)
                incident.previous[index] = self._pre_state[index]
                self._down_by.setdefault(index, set()).add(incident.id)
            self._incidents[incident.id] = incident
            self.version += 1
            return incident.id

    def recover(self, incident_id: str) -> None:
        """Bring the incident's customers back online (`S`).

        A customer also down in another active incident stays down until that one recovers.
        """
        with self.lock:
            incident = self._incidents[incident_id]
            if incident.recovered:
                return
            incident.recovered = True
            now = int(self.clock())
            for index in incident.previous:
                holders = self._down_by.get(index, set())
                holders.discard(incident_id)
                if holders:
                    continue
                self._down_by.pop(index, None)
                self._pre_state.pop(index, None)
                # a session that comes back is accounted again: IXC shows `S`, even for a login
                # that was `SS` (no status) before the incident
                self._mark_up(self.customers[index], "S", now)
            self.version += 1

    def recover_all(self) -> None:
        """Recover every incident still active."""
        with self.lock:
            for incident_id, incident in list(self._incidents.items()):
                if not incident.recovered:
                    self.recover(incident_id)

    def _mark_up(self, customer: Customer, erp_state: str, when: int) -> None:
        customer.online = erp_state
        customer.session_start = when
        customer.updated = when
        if not customer.onu_online:
            customer.onu_online = True
            customer.up_time = when
        if erp_state == "S":
            self._not_online.discard(customer.index)
        else:
            self._not_online.add(customer.index)

    def set_state(self, logins: Iterable[str], online: str, cause: str | None = None) -> None:
        """Low level: set the ERP `online` of those logins.

        `N` with a `cause` also takes the ONU down with that cause (now); `N` without one
        drops only the PPPoE session. `S` brings session and ONU up. `SS`/`""` touch the ERP only.
        """
        with self.lock:
            now = int(self.clock())
            for login in logins:
                customer = self.by_login[login]
                if online == "N":
                    self._mark_down(customer, "N", cause, now)
                elif online == "S":
                    self._mark_up(customer, "S", now)
                else:
                    customer.online = online
                    customer.updated = now
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
