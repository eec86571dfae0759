"""Command line of the simulator.

    python -m simulator trigger fiber_cut [--port 5010]   an incident now in the running demo
    python -m simulator incidentes                       the demo's active incidents
    python -m simulator normalizar                       recover every incident now

The demo is found through `--url` (its control address), `DEMO_CONTROL_URL`, or the demos
`python monitor_service.py --demo` registers under `data/demo/demos/`: the one served on
`--port` (the dashboard's port), or the only one running. With several running and no
`--port`, the command lists them and asks for one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import requests

from simulator.demo import read_control_url
from simulator.scenario import KINDS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Controle do ISP simulado")
    parser.add_argument("--url", help="endereço de controle da demonstração (padrão: a que estiver rodando)")
    parser.add_argument("--port", type=int, help="porta do painel da demonstração a controlar")
    parser.add_argument("--data-dir", default="data/demo", help="pasta da demonstração")
    commands = parser.add_subparsers(dest="command", required=True)
    trigger = commands.add_parser("trigger", help="provoca um incidente agora")
    trigger.add_argument("tipo", choices=KINDS)
    commands.add_parser("incidentes", help="lista os incidentes ativos")
    commands.add_parser("normalizar", help="normaliza todos os incidentes agora")
    args = parser.parse_args(argv)
    try:
        base = (args.url or read_control_url(args.data_dir, args.port)).rstrip("/")
    except LookupError as exc:
        print(f"Erro: {exc}", file=sys.stderr)
        return 1
    try:
        if args.command == "trigger":
            response = requests.post(f"{base}/incidente", json={"tipo": args.tipo}, timeout=10)
        elif args.command == "incidentes":
            response = requests.get(f"{base}/incidentes", timeout=10)
        else:
            response = requests.post(f"{base}/normalizar", timeout=10)
    except requests.RequestException as exc:
        print(f"Erro: a demonstração não respondeu em {base} ({exc.__class__.__name__}).", file=sys.stderr)
        return 1
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
