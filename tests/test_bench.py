"""The benchmark runs end to end on a small N: it imports through the product path, times every page,
and its engine and pandas figures agree (the run asserts it)."""
from __future__ import annotations

import json

from bench import run as bench


def test_benchmark_runs_and_agrees_with_pandas(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "HERE", tmp_path)
    rows = bench.run(3000, repeats=1)
    figures = [r["figure"] for r in rows]
    assert figures[:2] == ["import from CSV", "import from Parquet"]
    assert {f"{page}, {mode}" for page in bench.PAGES for mode in ("cold", "warm")} <= set(figures)
    assert set(bench.MODELS) <= set(figures)
    assert "engine and pandas agree" in capsys.readouterr().out
    saved = json.loads((tmp_path / "results" / "bench_3000.json").read_text())
    assert saved["orders"] == 3000 and len(saved["rows"]) == len(rows)
