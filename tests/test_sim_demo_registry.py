"""Two demos at once: `python -m simulator` finds the one it targets by the dashboard's port,
lists the running ones when it cannot choose, and forgets a demo once it stops."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.__main__ import main
from simulator.demo import DemoSimulator, read_control_url, running_demos


@pytest.fixture
def two_demos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DemoSimulator, DemoSimulator]]:
    monkeypatch.delenv("DEMO_CONTROL_URL", raising=False)
    first = DemoSimulator(tmp_path, customers=200, scenario=False).start()
    second = DemoSimulator(tmp_path, customers=200, scenario=False).start()
    first.register(5010)
    second.register(5011)
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()


def test_each_demo_is_found_by_its_dashboard_port(two_demos, tmp_path: Path) -> None:
    first, second = two_demos
    assert [d["porta"] for d in running_demos(tmp_path)] == [5010, 5011]
    assert read_control_url(tmp_path, 5010) == first.control.url
    assert read_control_url(tmp_path, 5011) == second.control.url


def test_without_a_port_the_command_lists_the_running_demos_and_asks_for_one(
    two_demos, tmp_path, capsys
) -> None:
    assert main(["--data-dir", str(tmp_path), "incidentes"]) == 1
    error = capsys.readouterr().err
    assert "Há 2 demonstrações rodando" in error
    assert "porta 5010 (painel http://127.0.0.1:5010/" in error and "porta 5011" in error
    assert "--port" in error


def test_a_trigger_reaches_the_demo_it_names_and_only_that_one(two_demos, tmp_path, capsys) -> None:
    first, second = two_demos
    assert main(["--data-dir", str(tmp_path), "--port", "5010", "trigger", "churn"]) == 0
    started = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in first.incidents.listing()] == [started["id"]]
    assert second.incidents.listing() == []


def test_when_the_last_demo_stops_the_first_is_still_driven(two_demos, tmp_path, capsys) -> None:
    first, second = two_demos
    second.stop()
    assert read_control_url(tmp_path) == first.control.url
    assert main(["--data-dir", str(tmp_path), "trigger", "churn"]) == 0
    assert len(first.incidents.listing()) == 1
    assert main(["--data-dir", str(tmp_path), "--port", "5011", "incidentes"]) == 1
    assert "Nenhuma demonstração na porta 5011. Rodando: porta 5010" in capsys.readouterr().err


def test_a_demo_that_died_without_stopping_is_forgotten(tmp_path: Path) -> None:
    folder = tmp_path / "demos"
    folder.mkdir()
    dead = {
        "porta": 5020,
        "painel": "http://127.0.0.1:5020/",
        "url": "http://127.0.0.1:1",
        "iniciado_em": "x",
    }
    (folder / "5020.json").write_text(json.dumps({**dead, "pid": _dead_pid()}), encoding="utf-8")
    assert running_demos(tmp_path) == []
    assert not (folder / "5020.json").exists()
    with pytest.raises(LookupError, match="Nenhuma demonstração rodando"):
        read_control_url(tmp_path)


def _dead_pid() -> int:
    """The pid of a child that has exited and been reaped."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid
