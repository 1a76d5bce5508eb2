"""The static HTML page of a run (results/<run>/index.html): one self-contained file, no scripts.

For every Program: its row in the summary; for each failure, the mismatch headline, the
disassembly of the last 16 instructions retired, the differing elements (the first 32 and
the total count), the expected-vs-actual picture (embedded PNG), the provenance, and links to
the waveform, its GTKWave save file, the reproducer and its command, and the JSON report.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from harness.results import RunReport, write_atomic

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right;font-family:ui-monospace,monospace}
th{background:#f3f3f3}
td.l,th.l{text-align:left}
.pass{color:#08700d;font-weight:bold}.fail{color:#b00020;font-weight:bold}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto}
section{border-top:2px solid #b00020;margin-top:2em}
img{max-width:100%;border:1px solid #ccc}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _link(run_dir: Path, path: str, text: str | None = None) -> str:
    rel = os.path.relpath(path, run_dir) if os.path.isabs(path) else path
    return f'<a href="{_e(rel)}">{_e(text or Path(path).name)}</a>'


def _hex(v: int | None) -> str:
    if v is None:
        return "?"
    return f"{v:#x}" if v >= 0 else f"-{-v:#x}"


def _failure(run_dir: Path, r: RunReport) -> str:
    m = r.first
    assert m is not None
    parts = [f'<section id="{_e(r.program)}"><h2>{_e(r.program)}: <span class="fail">FAIL</span> {_e(m.kind)}</h2>']
    parts.append(f'<p class="headline"><code>{_e(m.headline())}</code></p>')
    facts = [("instruction", f"#{m.index} {m.disasm}" if m.index is not None else "—"), ("RTL cycle", m.cycle)]
    facts += [("backend", r.backend)]
    if m.provenance:
        facts += [(k, v) for k, v in m.provenance.items() if v]
    parts.append('<table class="facts">' + "".join(
        f'<tr><th class="l">{_e(k)}</th><td class="l">{_e(v)}</td></tr>' for k, v in facts
    ) + "</table>")  # fmt: skip
    if m.differences:
        parts.append(
            f'<h3>Differing elements: the first {len(m.differences)} of <span class="count">{m.differing}</span></h3>'
        )
        rows = "".join(
            f'<tr><td class="l">{_e((m.state or "") + "".join(f"[{i}]" for i in d["element"]))}</td>'
            f"<td>{_hex(d['ila'])}</td><td>{_hex(d['rtl'])}</td>"
            f"<td>{_e(d['ila'])}</td><td>{_e(d['rtl'])}</td></tr>"
            for d in m.differences[:32]
        )
        parts.append(
            '<table class="mismatch"><tr><th class="l">element</th><th>ILA (hex)</th><th>RTL (hex)</th>'
            f"<th>ILA</th><th>RTL</th></tr>{rows}</table>"
        )
    picture = r.artifacts.get("picture")
    if picture and Path(picture).exists():
        data = base64.b64encode(Path(picture).read_bytes()).decode()
        parts.append(f'<h3>Expected vs actual</h3><img alt="ILA vs RTL heat map" src="data:image/png;base64,{data}">')
    if m.history:
        parts.append("<h3>Last instructions retired (oldest first)</h3><pre>" + _e("\n".join(m.history)) + "</pre>")
    links = []
    for key, text in (("waves", "waveform (FST)"), ("gtkw", "GTKWave save file"), ("reproducer", "reproducer"),
                      ("report", "JSON report"), ("difference", "expected/actual arrays (.npz)")):  # fmt: skip
        if key in r.artifacts:
            links.append(f"<li>{text}: {_link(run_dir, r.artifacts[key])}</li>")
    if "wave_cycles" in r.artifacts:
        links.append(f"<li>waveform cycles {_e(r.artifacts['wave_cycles'])} (time = 10 ns x cycle); "
                     f"<code>gtkwave {_e(Path(r.artifacts.get('gtkw', '')).name)}</code></li>")  # fmt: skip
    for key in ("reproducer_instructions", "reproducer_search"):
        if key in r.artifacts:
            links.append(f"<li>{key.replace('_', ' ')}: {_e(r.artifacts[key])}</li>")
    for key in ("reproducer_command", "replay"):
        if key in r.artifacts:
            links.append(f"<li>{key.replace('_', ' ')}: <code>{_e(r.artifacts[key])}</code></li>")
    for key, value in r.artifacts.items():
        if key.endswith("_error"):
            links.append(f"<li>{_e(key)}: {_e(value)}</li>")
    if links:
        parts.append("<h3>Artifacts</h3><ul>" + "".join(links) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def render(run_id: str, run_dir: Path, reports: list[RunReport]) -> str:
    """The page's HTML."""
    rows = []
    for r in reports:
        verdict = '<span class="pass">PASS</span>' if r.passed else f'<span class="fail">FAIL</span> {_e(r.first.kind if r.first else "")}'
        name = _e(r.program) if r.passed else f'<a href="#{_e(r.program)}">{_e(r.program)}</a>'
        rows.append(
            f'<tr><td class="l">{name}</td><td>{_e(r.backend)}</td><td>{r.retired or r.instructions}</td>'
            f"<td>{r.cycles:,}</td><td>{r.comparisons:,}</td><td>{r.wall_seconds:.2f}</td>"
            f'<td class="l">{verdict}</td></tr>'
        )
    passed = sum(r.passed for r in reports)
    body = [
        f"<h1>Tandem lockstep run {_e(run_id)}</h1>",
        f"<p>{passed} passed, {len(reports) - passed} failed.</p>",
        '<table class="summary"><tr><th class="l">program</th><th>backend</th><th>instructions</th><th>cycles</th>'
        '<th>comparisons</th><th>wall s</th><th class="l">result</th></tr>' + "".join(rows) + "</table>",
    ]
    body += [_failure(run_dir, r) for r in reports if not r.passed and r.first is not None]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Tandem run {_e(run_id)}</title>"
        f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_index(run_dir: Path, run_id: str, reports: list[RunReport]) -> Path:
    """Write (atomically) run_dir/index.html for the reports so far."""
    path = run_dir / "index.html"
    write_atomic(path, render(run_id, run_dir, reports).encode())
    return path
