"""Reader for the FlexASR authors' AXI command streams (flexnlp-ila data/, MIT licence).

Format, one command per line: `<kind>,<op>,<address>,<data>`; `//` starts a comment line.
- op `W`: a 128-bit AXI write; `R`: a read. The data is hex, most significant byte first
  (its least significant byte is data_in_0); short values are zero-extended.
- op `Q`: a barrier of the authors' testbench (wait until the accelerator is idle before
  reading results). Our commands already execute in order, one at a time as seen by the
  ISA, so a barrier is not a command: it becomes a provenance span boundary ("phase").
- `W` to address 0x00000000 is the testbench's end-of-stream marker (outside FlexASR's
  address map); it is dropped, but only as the last command of a stream.
- kind (0 or 2) is the testbench's beat kind; it does not change the command.

The files are read from `../shared/reference/flexasr_streams/` next to the repository (they are
MIT licensed; they are not copied here). `streams_dir()` is None when that folder is absent.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from ila_models import flexasr
from ila_models import flexasr_isa as isa
from ila_models.program import Program, Span

STREAMS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "flexasr_streams"
STREAM_FILES = {
    "layernorm": "axi_commands_for_layernorm_with_rds.csv",
    "maxpool": "axi_commands_for_maxpool_with_read_commands.txt",
    "lstm_2x64": "axi_commands_for_2_lstm_64x64_with_rd.txt",
    "lstm_10ts_clustered": "axi_commands_10_LSTM_timesteps_with_clustered_weights_in_4PEs_with_comments.txt",
}


class StreamFormatError(ValueError):
    """A malformed stream line; the message names the file, the line and the field."""


@dataclass(frozen=True)
class StreamCommand:
    """One command of a stream: write or read, address, data, and the line it came from."""

    line: int
    wr: bool
    addr: int
    data: int


def streams_dir() -> Path | None:
    """The folder of the authors' streams, or None when it is not next to the repository."""
    path = STREAMS_DIR.resolve()
    return path if path.is_dir() else None


def parse_stream(text: str, source: str = "<stream>") -> tuple[list[StreamCommand], list[int]]:
    """The commands of a stream and the command indices where a `Q` barrier stood."""
    commands: list[StreamCommand] = []
    barriers: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4:
            raise StreamFormatError(f"{source}:{number}: {line!r}: expected 4 fields kind,op,address,data")
        _, op, addr_text, data_text = parts
        try:
            addr, data = int(addr_text, 16), int(data_text, 16)
        except ValueError:
            raise StreamFormatError(
                f"{source}:{number}: address {addr_text!r} or data {data_text!r} is not hex"
            ) from None
        if data >> 128:
            raise StreamFormatError(f"{source}:{number}: data {data_text!r} is wider than 128 bits")
        if op == "Q":
            barriers.append(len(commands))
        elif op in ("W", "R"):
            commands.append(StreamCommand(number, op == "W", addr, data))
        else:
            raise StreamFormatError(f"{source}:{number}: op {op!r}: expected W, R or Q")
    if commands and commands[-1].wr and commands[-1].addr == 0:
        commands.pop()  # end-of-stream marker
    return commands, barriers


def load_stream(path: Path, name: str | None = None) -> Program:
    """A stream file as a Program (every command kept, in order)."""
    commands, barriers = parse_stream(path.read_text(), str(path))
    words = [isa.write(c.addr, c.data) if c.wr else isa.read(c.addr) for c in commands]
    bounds = [0, *barriers, len(words)]
    spans = [
        Span(a, b, "flexnlp-ila", path.name, f"phase {k}")
        for k, (a, b) in enumerate(itertools.pairwise(bounds))
        if b > a
    ]
    provenance = {"source": "PrincetonUniversity/flexnlp-ila data/ @ca5c14699a1f (MIT)", "file": path.name}
    return flexasr.program(name or path.stem, words, spans, provenance)


def authors_stream(name: str) -> Program:
    """One of the authors' streams by short name (see STREAM_FILES); FileNotFoundError when absent."""
    folder = streams_dir()
    if folder is None:
        raise FileNotFoundError(f"{STREAMS_DIR}: the FlexASR authors' streams are not next to the repository")
    return load_stream(folder / STREAM_FILES[name], f"flexnlp_{name}")
