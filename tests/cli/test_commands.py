"""Each command module registers its commands on the one app."""

from __future__ import annotations

from autogradcli.cli import app, evaluate, explain, graph, minimize, samples, verify

OWNERS = {
    evaluate: {"eval", "ops"},
    graph: {"graph", "optimize", "stats", "compile"},
    verify: {"diff", "check"},
    minimize: {"minimize"},
    samples: {"samples"},
    explain: {"explain"},
}


def test_every_command_comes_from_its_module():
    registered = {c.name: c.callback.__module__ for c in app.registered_commands}
    for module, names in OWNERS.items():
        assert {n for n, m in registered.items() if m == module.__name__} == names
    assert set(registered) == set().union(*OWNERS.values())
