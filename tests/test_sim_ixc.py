"""The fake IXCSoft webservice answers like the real one, faults included."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from simulator.ixc import FakeIXC
from simulator.network import INSTANT, RADUSUARIOS_FIELDS, Network

NOW = 1_767_225_600.0


@pytest.fixture(scope="module")
def network() -> Network:
    return Network(customers=1500, seed=4, clock=lambda: NOW, churn=None, timing=INSTANT)


@pytest.fixture(scope="module")
def shared_ixc(network):
    with FakeIXC(network) as server:
        yield server


@pytest.fixture
def ixc(shared_ixc):
    shared_ixc.reset()
    if shared_ixc._server is None:
        shared_ixc.start()
    return shared_ixc


def grid(*filters: tuple[str, str, str]) -> str:
    return json.dumps([{"TB": tb, "OP": op, "P": p} for tb, op, p in filters])


def listar(ixc: FakeIXC, table: str = "radusuarios", timeout: float = 5, **body) -> requests.Response:
    payload = {
        "qtype": f"{table}.id",
        "query": "",
        "oper": ">",
        "page": "1",
        "rp": "1000",
        "sortname": f"{table}.id",
        "sortorder": "asc",
    }
    payload.update(body)
    headers = {"Authorization": ixc.auth_header, "ixcsoft": "listar"}
    return requests.post(f"{ixc.url}/webservice/v1/{table}", json=payload, headers=headers, timeout=timeout)


def test_it_lists_with_string_page_total_and_values(ixc, network):
    answer = listar(ixc, rp="100").json()
    assert answer["page"] == "1"
    assert answer["total"] == str(len(network.customers))
    assert len(answer["registros"]) == 100
    for record in answer["registros"]:
        assert tuple(record) == RADUSUARIOS_FIELDS
        assert all(isinstance(v, str) for v in record.values())


def test_it_filters_with_grid_param_like_the_monitor_asks(ixc, network):
    filters = grid(("radusuarios.ativo", "=", "S"), ("radusuarios.online", "=", "N"))
    answer = listar(ixc, grid_param=filters).json()
    expected = [c.id for c in network.customers if c.ativo == "S" and c.online == "N"]
    assert [r["id"] for r in answer["registros"]] == expected
    assert answer["total"] == str(len(expected))


def test_it_sees_an_incident_on_the_next_request(ixc, network):
    filters = grid(("radusuarios.online", "=", "N"))
    before = int(listar(ixc, grid_param=filters).json()["total"])
    incident = network.fiber_cut(*next(iter(network.pons())))
    try:
        after = int(listar(ixc, grid_param=filters).json()["total"])
        assert after == before + len(network.affected(incident))
    finally:
        network.recover(incident)


def test_it_supports_in_on_the_main_query(ixc):
    answer = listar(ixc, qtype="radusuarios.id", query="3,1,20", oper="IN").json()
    assert [r["id"] for r in answer["registros"]] == ["1", "3", "20"]


def test_it_supports_in_inside_grid_param(ixc):
    answer = listar(ixc, grid_param=grid(("radusuarios.id", "IN", "7,8"))).json()
    assert [r["id"] for r in answer["registros"]] == ["7", "8"]


@pytest.mark.parametrize(
    ("oper", "query", "expected"),
    [("<", "4", ["1", "2", "3"]), ("<=", "2", ["1", "2"]), (">", "1497", ["1498", "1499", "1500"])],
)
def test_comparisons_are_numeric_for_ids(ixc, oper, query, expected):
    answer = listar(ixc, qtype="radusuarios.id", query=query, oper=oper).json()
    assert [r["id"] for r in answer["registros"]] == expected


def test_like_and_not_equal_filter_text(ixc, network):
    login = network.customers[10].login
    answer = listar(ixc, qtype="radusuarios.login", query=login.upper(), oper="L").json()
    assert login in [r["login"] for r in answer["registros"]]
    answer = listar(ixc, grid_param=grid(("radusuarios.online", "!=", "S"))).json()
    assert all(r["online"] != "S" for r in answer["registros"])


def test_it_pages_through_everything_in_a_stable_order(ixc, network):
    seen: list[str] = []
    for page in range(1, 5):
        answer = listar(ixc, page=str(page), rp="400").json()
        assert answer["page"] == str(page)
        seen += [r["id"] for r in answer["registros"]]
    assert seen == [c.id for c in network.customers]
    assert [(r.page, r.rp) for r in ixc.requests] == [(1, 400), (2, 400), (3, 400), (4, 400)]
    assert ixc.requests_count == 4


def test_it_sorts_descending_by_the_sortname(ixc):
    answer = listar(ixc, rp="3", sortorder="desc").json()
    assert [r["id"] for r in answer["registros"]] == ["1500", "1499", "1498"]


def test_the_request_log_records_the_filters(ixc):
    listar(ixc, grid_param=grid(("radusuarios.ativo", "=", "S")))
    logged = ixc.requests[-1]
    assert logged.table == "radusuarios"
    assert [(f.field, f.op, f.value) for f in logged.filters] == [("ativo", "=", "S")]


def test_it_lists_clientes_by_id(ixc):
    answer = listar(ixc, "cliente", qtype="cliente.id", query="2,1", oper="IN").json()
    assert [r["id"] for r in answer["registros"]] == ["1", "2"]
    assert {"razao", "fone", "telefone_celular", "whatsapp", "email", "ativo"} <= set(answer["registros"][0])


def test_it_serves_static_records_without_a_network():
    with FakeIXC() as ixc:
        ixc.set_records("radusuarios", [{"id": "2", "login": "b", "online": "N"}, {"id": "10", "login": "a"}])
        answer = listar(ixc).json()
    assert [r["id"] for r in answer["registros"]] == ["2", "10"]


def test_a_wrong_token_gets_401_with_an_error_body(ixc):
    bad = "Basic " + base64.b64encode(b"1:8:wrong").decode()
    response = requests.post(
        f"{ixc.url}/webservice/v1/radusuarios", json={}, headers={"Authorization": bad, "ixcsoft": "listar"}
    )
    assert response.status_code == 401
    assert response.json()["type"] == "error"


def test_a_custom_user_and_token_are_accepted_as_ixc_shows_them(network):
    with FakeIXC(network, user="7", token="abc") as ixc:
        assert ixc.token_as_shown == "7:abc"
        assert ixc.auth_header == "Basic " + base64.b64encode(b"7:abc").decode()
        assert listar(ixc, rp="1").status_code == 200


def test_a_three_part_token_is_refused_by_the_fake_as_by_ixc(network):
    with pytest.raises(ValueError, match="id and a hash"):
        FakeIXC(network, user="1", token="8:abc")


def test_without_the_listar_header_it_answers_an_error_object(ixc):
    response = requests.post(
        f"{ixc.url}/webservice/v1/radusuarios", json={}, headers={"Authorization": ixc.auth_header}
    )
    assert response.status_code == 200
    assert response.json()["type"] == "error"


def test_fault_http500(ixc):
    ixc.fail("http500")
    assert listar(ixc).status_code == 500
    assert listar(ixc).status_code == 200


def test_fault_type_error_is_http_200_with_an_error_message(ixc):
    ixc.fail("type_error")
    answer = listar(ixc).json()
    assert answer["type"] == "error"
    assert "<br />" in answer["message"]
    assert answer["registros"] == []


def test_fault_html_answers_a_fragment(ixc):
    ixc.fail("html")
    response = listar(ixc)
    assert response.status_code == 200
    assert response.text.startswith("<div style=")
    assert "erro" in response.text.lower()


def test_fault_invalid_json(ixc):
    ixc.fail("invalid_json")
    with pytest.raises(ValueError):
        listar(ixc).json()


def test_fault_slow_outlasts_the_client_timeout(ixc):
    ixc.slow_seconds = 2
    ixc.fail("slow")
    with pytest.raises(requests.Timeout):
        listar(ixc, timeout=0.2)


def test_fault_missing_page_hits_only_that_page(ixc, network):
    ixc.fail("missing_page", page=2)
    first = listar(ixc, page="1", rp="500").json()
    second = listar(ixc, page="2", rp="500").json()
    assert len(first["registros"]) == 500
    assert second["registros"] == []
    assert second["total"] == str(len(network.customers))


def test_fault_short_claims_more_than_it_has(ixc, network):
    ixc.fail("short", count=None)
    answer = listar(ixc, page="2", rp="1000").json()
    assert int(answer["total"]) > 5 * len(network.customers)
    assert listar(ixc, page="3", rp="1000").json()["registros"] == []
    ixc.clear_faults()
    assert listar(ixc).json()["total"] == str(len(network.customers))


def test_fault_refuse_drops_the_connection(ixc):
    ixc.fail("refuse", count=2)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            listar(ixc)
    assert listar(ixc).status_code == 200


def test_a_fault_for_the_next_n_requests_then_normal(ixc):
    ixc.fail("http500", count=3)
    assert [listar(ixc).status_code for _ in range(4)] == [500, 500, 500, 200]


def test_an_unknown_fault_kind_is_refused(ixc):
    with pytest.raises(ValueError):
        ixc.fail("gremlins")


def test_stop_makes_it_unreachable_and_start_serves_again_at_the_same_url(ixc):
    url = ixc.url
    ixc.stop()
    with pytest.raises(requests.ConnectionError):
        listar(ixc, timeout=2)
    ixc.start()
    assert ixc.url == url
    assert listar(ixc, rp="1").status_code == 200
