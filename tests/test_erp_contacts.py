"""The ERP contract's customer contacts: what the HSM console needs of any ERP source."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from outage.adapters.erp import build_reader
from outage.adapters.erp.base import ErpReadError
from outage.config import Settings
from simulator.ixc import FakeIXC
from simulator.middleware import FakeIxcMiddleware
from simulator.network import Network


@pytest.fixture
def network() -> Network:
    return Network(customers=300, seed=7, clock=lambda: 1_767_236_400.0)


def test_ixcsoft_gives_each_customers_name_and_phones_best_first(network, make_settings) -> None:
    wanted = network.clients[:40]
    with FakeIXC(network) as ixc:
        reader = build_reader(make_settings(IXC_URL=ixc.url, IXC_USER=ixc.user, IXC_TOKEN=ixc.token))
        contacts = reader.read_contacts([c.id for c in wanted] + ["999999"])
    assert reader.contacts_unavailable == ""
    assert set(contacts) == {c.id for c in wanted}  # an id not in the register is absent
    for client in wanted:
        fields = client.contacts()
        expected = tuple(v for v in (fields["telefone_celular"], fields["whatsapp"], fields["fone"]) if v)
        assert contacts[client.id].name == client.razao
        assert contacts[client.id].phones == expected


def test_ixcsoft_failing_is_a_read_error(network, make_settings) -> None:
    with FakeIXC(network) as ixc:
        reader = build_reader(make_settings(IXC_URL=ixc.url, IXC_USER=ixc.user, IXC_TOKEN=ixc.token))
        ixc.fail("type_error")
        with pytest.raises(ErpReadError):
            reader.read_contacts([network.clients[0].id])


def test_the_originals_service_has_no_register_and_says_so(
    network, make_settings: Callable[..., Settings]
) -> None:
    with FakeIxcMiddleware(network) as service:
        reader = build_reader(make_settings(IXCSOFT_SERVICE_URL=service.url))
        assert reader.read_contacts([network.clients[0].id]) == {}
    assert "IXC_URL" in reader.contacts_unavailable
