"""The benchmark table writes numbers the Brazilian way: 200.000 assinantes, 2,5 ms."""

from __future__ import annotations

from bench import br
from bench.run import table


def test_numbers_take_dots_for_thousands_and_commas_for_decimals() -> None:
    assert [br(200_000), br(2.5, 1), br(0.5), br(1_234_567.891, 2), br(3.0)] == [
        "200.000",
        "2,5",
        "0,5",
        "1.234.567,89",
        "3",
    ]


def test_the_table_shows_each_value_with_three_significant_digits_the_brazilian_way() -> None:
    rows = [
        {"nome": f"ciclo ({br(200_000)} assinantes)", "valor": 2.5, "unidade": "ms", "meta": "<= 100"},
        {"nome": "leitura", "valor": 0.987, "unidade": "s", "meta": "—"},
        {"nome": "vazão", "valor": 1234.4, "unidade": "req/s", "meta": ">= 100"},
        {"nome": "p99", "valor": 95.04, "unidade": "ms", "meta": "<= 300"},
    ]
    text = table([{**row, "limite": "", "ok": True} for row in rows], markdown=True)
    assert "| ciclo (200.000 assinantes) | 2,5 ms |" in text
    assert "| leitura | 0,987 s |" in text
    assert "| vazão | 1.234 req/s |" in text
    assert "| p99 | 95,0 ms |" in text
