"""VerilatorBackend: the RTL verilated into a shared library with the generic shim, driven through ctypes.

One Python call per retirement (`next_retirement`), per batch (`start_batch`/`finish_batch`, see
harness/verilator_batch.py) or per run (`run_to_completion`); the clock loop, the command
handshake and the DRAM model run in C++ (harness/shim/).
State is read by name through the refinement map (rtl/<accel>/refinement.json): each mapped
memory is resolved once to a handle and copied raw into a numpy buffer, then viewed as the
ILA's dtype and shape (entry r = row r, lanes packed little endian; rtl/README.md).
"""

from __future__ import annotations

import contextlib
import ctypes
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.backend import Retire, SimulatorHang
from harness.refinement import RefinementMap
from harness.verilator_batch import BatchOutcome, BatchPlan, Watched, plan_batch
from harness.verilator_build import VerilatedLibrary, build_library

if TYPE_CHECKING:
    from ila_models.program import Program

_P = ctypes.c_void_p
_U64 = ctypes.c_uint64
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "tandem_create": (_P, []),
    "tandem_destroy": (None, [_P]),
    "tandem_last_error": (ctypes.c_char_p, [_P]),
    "tandem_units": (ctypes.c_uint32, []),
    "tandem_cmd_port_bytes": (ctypes.c_uint32, []),
    "tandem_reset": (None, [_P]),
    "tandem_set_serial": (None, [_P, ctypes.c_int]),
    "tandem_cycle": (_U64, [_P]),
    "tandem_busy": (ctypes.c_int, [_P]),
    "tandem_retired": (_U64, [_P]),
    "tandem_accepted": (_U64, [_P]),
    "tandem_dram_errors": (_U64, [_P]),
    "tandem_dram_alloc": (ctypes.c_int, [_P, _U64]),
    "tandem_dram_size": (_U64, [_P]),
    "tandem_dram_write": (ctypes.c_int, [_P, _U64, _P, _U64]),
    "tandem_dram_read": (ctypes.c_int, [_P, _U64, _P, _U64]),
    "tandem_push_commands": (ctypes.c_int, [_P, _P, _U64, ctypes.c_uint32]),
    "tandem_run_until_retire": (ctypes.c_int, [_P, _U64, _P, ctypes.c_int]),
    "tandem_run_to_completion": (ctypes.c_int64, [_P, _U64, _U64, _P]),
    "tandem_state_find": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_char_p]),
    "tandem_state_info": (
        ctypes.c_int,
        [
            _P,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_uint32),
            ctypes.POINTER(_U64),
            ctypes.POINTER(ctypes.c_uint32),
        ],
    ),
    "tandem_state_read": (ctypes.c_int, [_P, ctypes.c_int, _U64, _U64, _P]),
    "tandem_state_write": (ctypes.c_int, [_P, ctypes.c_int, _U64, _U64, _P]),
    "tandem_trace_open": (ctypes.c_int, [_P, ctypes.c_char_p, _U64, _U64]),
    "tandem_trace_close": (None, [_P]),
    "tandem_batch_start": (ctypes.c_int, [_P, _U64, _U64, _P, _U64, _P, _P, _P]),
    "tandem_batch_wait": (ctypes.c_int64, [_P, ctypes.POINTER(_U64)]),
    "tandem_state_equal": (ctypes.c_int, [_P, ctypes.c_int, _P, _U64, _U64]),
}
_RUN_DONE = 0
_RUN_HANG = -1


def load_shim(path: str | Path) -> ctypes.CDLL:
    """Open a built libtandem.so and declare its C signatures."""
    lib = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


class _MappedState:
    """One ILA state variable held in an RTL memory, resolved to a shim handle."""

    def __init__(self, name: str, handle: int, dtype: np.dtype, shape: tuple[int, ...], entry_bytes: int):
        self.name = name
        self.handle = handle
        self.dtype = dtype
        self.shape = shape
        self.entry_bytes = entry_bytes
        self.row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        self.layout = Watched(handle, entry_bytes, self.row_bytes, dtype, shape[1:])
        self.raw = np.zeros((shape[0], entry_bytes), dtype=np.uint8)  # reused by every full read


class VerilatorBackend:
    """The fast-path RTL backend (see the module docstring)."""

    name = "verilator"

    def __init__(
        self,
        rtl_dir: str | Path,
        top: str,
        parameters: dict[str, int],
        layout: dict[str, tuple[Any, tuple[int, ...]]],
        refinement: RefinementMap,
        cycle_budget: int = 1_000_000,
        *,
        library: VerilatedLibrary | None = None,
        trace: bool = False,
    ):
        """Build (or reuse) the library of `rtl_dir` and resolve every mapped state variable.

        layout: the ILA's state, name -> (numpy dtype, shape).
        refinement: the refinement map of `rtl_dir`.
        cycle_budget: cycles without any retirement before `SimulatorHang`.
        trace: use the trace flavour of the library (FST waveform windows; see `trace_window`).
        """
        self.units: list[str] = list(refinement.units)
        self.library = library or build_library(rtl_dir, top, parameters, len(self.units), trace=trace)
        self.cycle_budget = int(cycle_budget)
        self._lib = load_shim(self.library.path)
        if self._lib.tandem_units() != len(self.units):
            raise ValueError(
                f"{self.library.path} was built for {self._lib.tandem_units()} units, "
                f"but the refinement map lists {self.units!r}"
            )
        self._sim = self._lib.tandem_create()
        self._layout = {k: (np.dtype(v[0]), tuple(v[1])) for k, v in layout.items()}
        if "dram" in self._layout:  # sized as the ILA's until a Program brings its image
            self._lib.tandem_dram_alloc(self._sim, int(np.prod(self._layout["dram"][1])))
        self._records = (ctypes.c_uint64 * (4 * len(self.units)))()
        self._pending: deque[Retire] = deque()
        self._retired: np.ndarray = np.zeros(0, dtype=bool)
        self.unmapped: dict[str, str] = dict(refinement.unmapped)
        self._harness: dict[str, str] = dict(refinement.harness)
        self._mapped = {
            name: self._resolve(name, signal.scope, signal.var) for name, signal in refinement.mapped.items()
        }
        self._watched = {name: Watched(-1, 1, 1, np.dtype(np.uint8), ()) for name in self._harness}
        self._watched.update({name: st.layout for name, st in self._mapped.items()})
        self._batch: BatchPlan | None = None

    def _error(self) -> str:
        return (self._lib.tandem_last_error(self._sim) or b"").decode()

    def _resolve(self, name: str, scope: str, var: str) -> _MappedState:
        if name not in self._layout:
            raise ValueError(
                f"refinement maps {name!r}, which the ILA layout does not have ({sorted(self._layout)})"
            )
        dtype, shape = self._layout[name]
        handle = self._lib.tandem_state_find(self._sim, scope.encode(), var.encode())
        if handle < 0:
            raise ValueError(f"refinement state {name!r}: {self._error()}")
        bits, depth, entry_bytes = ctypes.c_uint32(), ctypes.c_uint64(), ctypes.c_uint32()
        self._lib.tandem_state_info(
            self._sim, handle, ctypes.byref(bits), ctypes.byref(depth), ctypes.byref(entry_bytes)
        )
        state = _MappedState(name, handle, dtype, shape, entry_bytes.value)
        if depth.value != shape[0]:
            raise ValueError(
                f"state {name!r}: RTL {scope}.{var} has {depth.value} entries, the ILA {shape[0]} rows"
            )
        if entry_bytes.value < state.row_bytes:
            raise ValueError(
                f"state {name!r}: RTL {scope}.{var} entries are {bits.value} bits ({entry_bytes.value} bytes "
                f"stored), smaller than an ILA row of {state.row_bytes} bytes ({dtype} x {shape[1:]})"
            )
        return state

    # ---- the Backend protocol ---------------------------------------------------------------------
    def reset(self) -> None:
        """Reset the RTL, zero every mapped memory and the DRAM, forget the command stream."""
        self._lib.tandem_reset(self._sim)
        for st in self._mapped.values():
            zeros = np.zeros((st.shape[0], st.entry_bytes), dtype=np.uint8)
            self._check(self._lib.tandem_state_write(self._sim, st.handle, 0, st.shape[0], zeros.ctypes.data))
        size = self._lib.tandem_dram_size(self._sim)
        self._lib.tandem_dram_alloc(self._sim, size)
        self._pending.clear()
        self._retired = np.zeros(0, dtype=bool)
        self._batch = None  # the shim waited for any batch still running

    def load(self, program: Program) -> None:
        """Copy the Program's DRAM image (if it has one) into the shim's memory model and queue its commands."""
        if "dram" in program.memories:  # accelerators without a DRAM master (FlexASR) have none
            dram = np.ascontiguousarray(program.memories["dram"], dtype=np.uint8).reshape(-1)
            self._check(self._lib.tandem_dram_alloc(self._sim, dram.size))
            self._check(self._lib.tandem_dram_write(self._sim, 0, dram.ctypes.data, dram.size))
        commands = np.ascontiguousarray(program.commands, dtype=np.uint8)
        if commands.ndim != 2:
            raise ValueError(f"program.commands has shape {commands.shape}; expected (N, command_bytes)")
        port = self._lib.tandem_cmd_port_bytes()
        if commands.shape[1] > port:
            raise ValueError(f"commands of {commands.shape[1]} bytes do not fit the {port}-byte command port")
        start = len(self._retired)
        self._retired = np.concatenate([self._retired, np.zeros(len(commands), dtype=bool)])
        if start and self._lib.tandem_accepted(self._sim) < start:
            raise RuntimeError(
                "load() while an earlier Program's commands are still being accepted; reset() first"
            )
        self._check(
            self._lib.tandem_push_commands(self._sim, commands.ctypes.data, len(commands), commands.shape[1])
        )

    def next_retirement(self) -> Retire | None:
        """Run until the next instruction retires (records of one cycle are handed out one by one)."""
        if self._pending:
            return self._pending.popleft()
        n = self._lib.tandem_run_until_retire(self._sim, self.cycle_budget, self._records, len(self.units))
        if n == _RUN_DONE:
            return None
        if n == _RUN_HANG:
            raise SimulatorHang(self.cycle, self.cycle_budget, self.pending())
        rec = self._records
        for k in range(n):
            index = rec[4 * k]
            if index < len(self._retired):
                self._retired[index] = True
            self._pending.append(Retire(index, self.units[rec[4 * k + 1]], rec[4 * k + 2], rec[4 * k + 3]))
        return self._pending.popleft()

    def execute(self, index: int) -> None:
        """Not meaningful for RTL: the RTL decides its own order; use next_retirement()."""
        raise NotImplementedError(
            f"VerilatorBackend.execute({index}): the RTL runs instructions itself and reports them through "
            "next_retirement(); execute() is for the ILA backend"
        )

    def read(self, state: str, rows: slice | None = None) -> np.ndarray:
        """State `state` (rows of its first axis when given) in the ILA's dtype and shape."""
        if state in self._harness:
            size = self._lib.tandem_dram_size(self._sim)
            start, stop, _ = (rows or slice(None)).indices(size)
            out = np.empty(max(stop - start, 0), dtype=np.uint8)
            self._check(self._lib.tandem_dram_read(self._sim, start, out.ctypes.data, out.size))
            return out
        st = self._mapped.get(state)
        if st is None:
            why = self.unmapped.get(state)
            raise KeyError(
                f"state {state!r} is not held by the RTL ({why})"
                if why
                else f"unknown state {state!r}; the RTL maps {sorted(self._mapped) + sorted(self._harness)}"
            )
        start, stop, _ = (rows or slice(None)).indices(st.shape[0])
        nrows = max(stop - start, 0)
        raw = st.raw[:nrows] if nrows else st.raw[:0]
        self._check(self._lib.tandem_state_read(self._sim, st.handle, start, nrows, raw.ctypes.data))
        return st.layout.as_rows(raw)

    def write(self, state: str, value: np.ndarray) -> None:
        """Overwrite a mapped state variable (initial state for tests); value in the ILA's dtype/shape."""
        if state in self._harness:
            data = np.ascontiguousarray(value, dtype=np.uint8).reshape(-1)
            self._check(self._lib.tandem_dram_write(self._sim, 0, data.ctypes.data, data.size))
            return
        st = self._mapped[state]
        value = np.asarray(value, dtype=st.dtype).reshape(st.shape)
        raw = np.zeros((st.shape[0], st.entry_bytes), dtype=np.uint8)
        raw[:, : st.row_bytes] = np.ascontiguousarray(value).view(np.uint8).reshape(st.shape[0], -1)
        self._check(self._lib.tandem_state_write(self._sim, st.handle, 0, st.shape[0], raw.ctypes.data))

    def quiescent(self) -> bool:
        """True when nothing is in flight in the RTL."""
        return not self._lib.tandem_busy(self._sim)

    def close(self) -> None:
        """Destroy the simulator (the library stays loaded: it cannot be unloaded safely)."""
        if self._sim:
            self._lib.tandem_destroy(self._sim)
            self._sim = None

    # ---- beyond the protocol -----------------------------------------------------------------------
    @property
    def cycle(self) -> int:
        """Cycles since the last reset (the harness-owned counter)."""
        return int(self._lib.tandem_cycle(self._sim))

    def set_serial_mode(self, on: bool) -> None:
        """Debug mode: the RTL accepts a command only when nothing is in flight."""
        self._lib.tandem_set_serial(self._sim, 1 if on else 0)

    def pending(self) -> list[int]:
        """Indices of loaded instructions that have not retired."""
        return [int(i) for i in np.flatnonzero(~self._retired)]

    def dram_errors(self) -> int:
        """DRAM requests the RTL made outside the memory (reads answered with zeros, writes dropped)."""
        return int(self._lib.tandem_dram_errors(self._sim))

    def run_to_completion(self, n_expected: int | None = None, max_cycles: int = 1 << 40) -> np.ndarray:
        """The C++-only run: clock until every loaded instruction retires, no Python per instruction.

        Returns the retirements as a (n, 4) uint64 array of (index, unit, cycle, cycles_taken).
        Raises SimulatorHang when fewer than `n_expected` retire within `max_cycles`.
        """
        n = len(self._retired) if n_expected is None else n_expected
        out = np.zeros((max(n, 1), 4), dtype=np.uint64)
        got = self._lib.tandem_run_to_completion(self._sim, n, max_cycles, out.ctypes.data)
        self._retired[out[:got, 0].astype(np.int64)] = True
        if got < n:
            raise SimulatorHang(self.cycle, max_cycles, self.pending())
        return out[:got]

    def trace_window(self, path: str | Path, first: int, last: int) -> None:
        """Record an FST waveform of harness cycles first..last into `path` (trace flavour only).

        Cycle N is at time 10N ns (posedge) in the file, its low phase at 10N-5.
        """
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._check(self._lib.tandem_trace_open(self._sim, str(path).encode(), int(first), int(last)))

    def trace_close(self) -> None:
        """Flush and close the waveform file."""
        self._lib.tandem_trace_close(self._sim)

    def equals(self, state: str, expected: np.ndarray) -> bool:
        """True when state `state` holds exactly `expected` (all of it, in the ILA's dtype and shape),
        compared in C++ without copying it out; False when anything differs."""
        if state in self._harness:
            handle, row_bytes, rows = -1, 1, expected.size
            if expected.dtype != np.uint8 or expected.ndim != 1:
                return False
        else:
            st = self._mapped[state]
            if expected.dtype != st.dtype or expected.shape != st.shape:
                return False
            handle, row_bytes, rows = st.handle, st.row_bytes, st.shape[0]
        expected = np.ascontiguousarray(expected)
        status = self._lib.tandem_state_equal(self._sim, handle, expected.ctypes.data, row_bytes, rows)
        self._check(status)
        return status == 1

    def plan_batch(
        self, n_retire: int, watch: list[tuple[int, str, int, int, int]], expected: bytearray
    ) -> BatchPlan:
        """Lay out a batch for `start_batch` (safe while another batch runs; see verilator_batch.plan_batch)."""
        return plan_batch(self._watched, len(self.units), n_retire, watch, expected)

    def start_batch(self, batch: BatchPlan) -> None:
        """Start running `batch` on the shim's own thread and return at once; `finish_batch` ends it.

        Until then nothing else may be asked of this backend. The batch clocks until `n_retire`
        retirements, copying and comparing each watched instruction's rows as it retires.
        """
        if self._batch is not None:
            raise RuntimeError("start_batch() while a batch is running; finish_batch() first")
        self._check(
            self._lib.tandem_batch_start(
                self._sim, batch.n_retire, self.cycle_budget, batch.table.ctypes.data, len(batch.watch),
                batch.snap.ctypes.data, batch.expected.ctypes.data, batch.out.ctypes.data,
            )
        )  # fmt: skip
        self._batch = batch

    def finish_batch(self) -> BatchOutcome:
        """Wait for the running batch; its retirements, how many compared entries differ, any hang
        (returned, not raised: the retirements before it still count)."""
        batch, self._batch = self._batch, None
        if batch is None:
            raise RuntimeError("finish_batch() without start_batch()")
        differing = _U64()
        got = self._lib.tandem_batch_wait(self._sim, ctypes.byref(differing))
        if got < -(1 << 40):
            raise RuntimeError(f"tandem shim: {self._error()}")
        hung = got < 0
        records = batch.out[: -got - 1 if hung else got]
        index = records[:, 0].astype(np.int64)
        self._retired[index[index < len(self._retired)]] = True
        hang = SimulatorHang(self.cycle, self.cycle_budget, self.pending()) if hung else None
        return BatchOutcome(batch, records, int(differing.value), hang, self.units, self._watched)

    def _check(self, status: int) -> None:
        if status < 0:
            raise RuntimeError(f"tandem shim: {self._error()}")

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown may have unloaded ctypes
            self.close()
