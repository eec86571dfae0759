from __future__ import annotations

import pytest

from outage.adapters.channels.alert_service import AlertServiceChannel
from outage.adapters.channels.hsm_provider import HSMProviderChannel
from outage.adapters.channels.whatsapp_cloud import WhatsAppCloudChannel
from outage.http import TransportError
from simulator.middleware import FakeAlertMiddleware
from simulator.whatsapp import FakeHSMProvider, FakeWhatsAppCloud

OPENING = {
    "conexao": "POP <Sul>",
    "total": 120,
    "motivo": "energia",
    "local": "",
    "inicio": 1732256000.0,
    "logins": [{"login": "a", "ultima_conexao_final": ""}],
}
CUSTOMER = {
    "to": "5511987654321",
    "nome": "Maria",
    "template": "queda_massiva_los",
    "params": ["Maria", "2h"],
}


@pytest.fixture
def cloud():
    with FakeWhatsAppCloud() as server:
        yield server


def cloud_channel(cloud):
    return WhatsAppCloudChannel(cloud.token, "1055", api_url=cloud.api_url, noc_template="alerta_noc")


def test_cloud_sends_the_noc_template_with_a_one_line_parameter(cloud):
    receipt = cloud_channel(cloud).send("5511987654321", "abertura", OPENING)
    assert receipt.provider_message_id == "wamid.FAKE000001"
    template = cloud.messages[0]["template"]
    assert template["name"] == "alerta_noc" and template["language"]["code"] == "pt_BR"
    text = template["components"][0]["parameters"][0]["text"]
    assert "POP <Sul>" in text and "120 clientes" in text and "\n" not in text


def test_cloud_sends_a_customer_template_with_its_own_parameters(cloud):
    cloud_channel(cloud).send("5511987654321", "hsm_cliente", CUSTOMER)
    template = cloud.messages[0]["template"]
    assert template["name"] == "queda_massiva_los"
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["Maria", "2h"]


@pytest.mark.parametrize("code", ["130429", "131056", "80007", "503"])
def test_cloud_throughput_errors_are_transient(cloud, code):
    cloud.fail_next(code)
    with pytest.raises(TransportError) as error:
        cloud_channel(cloud).send("5511987654321", "abertura", OPENING)
    assert not error.value.permanent


@pytest.mark.parametrize("code", ["131026", "131047", "132000", "132001", "132015", "190"])
def test_cloud_permanent_errors_are_permanent(cloud, code):
    cloud.fail_next(code)
    with pytest.raises(TransportError) as error:
        cloud_channel(cloud).send("5511987654321", "abertura", OPENING)
    assert error.value.permanent
    assert code in str(error.value)


def test_hsm_provider_sends_disparo_hsm_body_with_the_raw_token():
    with FakeHSMProvider() as fake:
        channel = HSMProviderChannel(fake.send_url, fake.token, account=7, noc_template="200")
        channel.send("5511987654321", "hsm_cliente", {**CUSTOMER, "template": "114"})
        channel.send("5511912345678", "abertura", OPENING)
    assert fake.messages[0] == {
        "cod_conta": 7,
        "hsm": 114,
        "tipo_envio": 2,
        "contato": {"nome": "Maria", "telefone": "5511987654321"},
    }
    assert fake.messages[1]["hsm"] == 200


def test_hsm_provider_5xx_is_transient_and_400_permanent():
    with FakeHSMProvider() as fake:
        channel = HSMProviderChannel(fake.send_url, fake.token)
        fake.fail_next("500", "400")
        outcomes = []
        for _ in range(2):
            with pytest.raises(TransportError) as error:
                channel.send("5511987654321", "hsm_cliente", {**CUSTOMER, "template": "114"})
            outcomes.append(error.value.permanent)
    assert outcomes == [False, True]


def test_alert_service_posts_the_original_shapes():
    with FakeAlertMiddleware() as fake:
        channel = AlertServiceChannel(fake.url)
        channel.send("telegram", "abertura", OPENING)
        channel.send("whatsapp", "abertura", OPENING)
    [telegram] = fake.bodies("telegram")
    [whatsapp] = fake.bodies("whatsapp")
    assert [c["login"] for c in telegram["clientes"]] == ["a"] and telegram["status"] == "offline"
    assert all(isinstance(c["ultima_conexao_final"], str) for c in telegram["clientes"])
    assert whatsapp == {"total_clientes": 120, "conexao": "POP <Sul>", "motivo": "energia"}


def test_alert_service_text_with_markdown_characters_reaches_telegram_as_written():
    opening = {**OPENING, "conexao": "POP_Sul *2*", "logins": [{"login": "joao_silva"}]}
    with FakeAlertMiddleware() as fake:
        AlertServiceChannel(fake.url).send("telegram", "abertura", opening)
        [text] = fake.telegram_texts
    assert "POP\\_Sul \\*2\\*" in text and "joao_silva" in text


@pytest.mark.parametrize(("fault", "permanent"), [("telegram_down", False), ("telegram_rejects", True)])
def test_alert_service_errors_inside_an_http_200_are_failures(fault, permanent):
    with FakeAlertMiddleware() as fake:
        fake.fail(fault)
        with pytest.raises(TransportError) as error:
            AlertServiceChannel(fake.url).send("telegram", "abertura", OPENING)
    assert error.value.permanent is permanent and "Telegram" in str(error.value)


def test_alert_service_whatsapp_failing_for_some_numbers_is_a_failure_never_repeated_to_the_others():
    with FakeAlertMiddleware(destinations=("5511900000001", "5511900000002")) as fake:
        fake.fail("whatsapp_partial")
        with pytest.raises(TransportError) as error:
            AlertServiceChannel(fake.url).send("whatsapp", "abertura", OPENING)
        fake.fail("whatsapp_down")
        with pytest.raises(TransportError) as down:
            AlertServiceChannel(fake.url).send("whatsapp", "abertura", OPENING)
    assert error.value.permanent is True and "5511900000002" in str(error.value)
    assert down.value.permanent is False


def test_a_normalization_without_logins_still_reaches_the_group_through_the_alert_service():
    normalization = {
        "conexao": "POP Sul",
        "total": 120,
        "inicio": 1732256000.0,
        "fim": 1732259600.0,
        "duracao": 3600,
    }
    with FakeAlertMiddleware() as fake:
        AlertServiceChannel(fake.url).send("telegram", "normalizacao", normalization)
        [body] = fake.bodies("telegram")
        assert body["status"] == "online" and len(fake.telegram_texts) == 1
