"""JUnit XML of a run, for CI: one testcase per Program × simulator, grouped by suite and simulator.

A failing Program's testcase carries its first mismatch as the failure message and the replay
command in its output; a suite part whose inputs are missing is a testcase with an error (never a
silent skip); a Program the time budget left unstarted is a skipped testcase.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from harness.pipeline import RunOutcome
from harness.results import RunReport
from ila_models.atomic_write import write_atomic


def junit_xml(outcome: RunOutcome, run_id: str) -> bytes:
    """The outcome as a JUnit XML document."""
    groups: dict[str, list[ET.Element]] = defaultdict(list)
    for report in outcome.reports:
        groups[_group(report.suite, report.backend)].append(_testcase(report))
    for missing in outcome.missing:
        case = ET.Element("testcase", name=f"{missing.suite} inputs for {missing.accelerator}", classname=missing.suite)
        if missing.required:
            ET.SubElement(case, "error", message="the suite's inputs are missing", type="missing").text = missing.reason
        else:
            ET.SubElement(case, "skipped", message=missing.reason)
        groups[_group(missing.suite, "")].append(case)
    for path in outcome.not_run:
        case = ET.Element("testcase", name=Path(path).stem, classname="not-run")
        ET.SubElement(case, "skipped", message="not started: the time budget was spent")
        groups["not-run"].append(case)
    root = ET.Element("testsuites", name=f"tandem {run_id}")
    for name, cases in sorted(groups.items()):
        failures = sum(c.find("failure") is not None for c in cases)
        errors = sum(c.find("error") is not None for c in cases)
        skipped = sum(c.find("skipped") is not None for c in cases)
        seconds = sum(float(c.get("time", "0")) for c in cases)
        suite = ET.SubElement(
            root, "testsuite", name=name, tests=str(len(cases)), failures=str(failures), errors=str(errors),
            skipped=str(skipped), time=f"{seconds:.3f}",
        )  # fmt: skip
        suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_junit(path: Path, outcome: RunOutcome, run_id: str) -> Path:
    """Write the JUnit XML file (atomically)."""
    write_atomic(path, junit_xml(outcome, run_id))
    return path


def _group(suite: str, backend: str) -> str:
    return ".".join(part for part in (suite or "run", backend) if part)


def _testcase(report: RunReport) -> ET.Element:
    case = ET.Element(
        "testcase", name=report.program, classname=f"{report.accelerator or 'unknown'}.{report.backend}",
        time=f"{report.wall_seconds:.3f}", file=report.path,
    )  # fmt: skip
    first = report.first
    if first is not None:
        failure = ET.SubElement(case, "failure", message=first.headline()[:1000], type=first.kind.value)
        failure.text = first.message
    if "replay" in report.artifacts:
        ET.SubElement(case, "system-out").text = f"replay: {report.artifacts['replay']}"
    return case
