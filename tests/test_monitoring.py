"""The shipped Prometheus alert rules and Grafana dashboard load: every expression parses with
Prometheus's own PromQL grammar, every metric it names is one the keeper exports, and the files
have the structure Prometheus (`rule_files`) and Grafana (dashboard import) read."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from solvent.keeper.metrics import KeeperMetrics

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "ops" / "prometheus" / "solvent-keeper-alerts.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "solvent-keeper.json"
METRIC = re.compile(r"\bsolvent_keeper_[a-z_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def syntax_errors(expressions: list[str]) -> list[int]:
    result = subprocess.run(
        ["node", str(ROOT / "tools" / "promql_check.js")],
        input=json.dumps(expressions),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout)


def exported_series() -> set[str]:
    names = set()
    for family in KeeperMetrics().registry.collect():
        names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def test_the_checker_catches_a_broken_expression():
    assert syntax_errors(["sum(rate(solvent_keeper_rpc_errors_total[5m])) by", "up == 1"]) == [
        1,
        0,
    ]


def test_alert_rules_parse_and_name_only_exported_metrics():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 6
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
        assert rule["alert"].startswith("SolventKeeper")
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"])
    expressions = [rule["expr"] for rule in rules]
    assert syntax_errors(expressions) == [0] * len(expressions)
    exported = exported_series()
    for expr in expressions:
        assert set(METRIC.findall(expr)) <= exported, expr
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))


def test_the_dashboard_imports_and_plots_only_exported_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels) >= 8
    expressions = []
    for panel in panels:
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["targets"], panel["title"]
        expressions += [target["expr"] for target in panel["targets"]]
    assert syntax_errors(expressions) == [0] * len(expressions)
    exported = exported_series()
    for expr in expressions:
        assert set(METRIC.findall(expr)) <= exported, expr
