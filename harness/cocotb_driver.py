"""The cocotb testbench shared by every accelerator: serves CocotbBackend's requests from inside the simulator.

Runs in the simulator process (Verilator or Icarus, started by `cocotb_tools.runner`). It
connects back to the harness over the Unix socket named by TANDEM_SOCKET and answers one
request at a time (harness/cocotb_protocol.py): it drives the Tandem top-level ports
(rtl/README.md), serves the DRAM port from a numpy byte array, clocks until a unit retires and
reads mapped state by hierarchical name. The harness runs the lockstep engine and the ILA.

The cycle is the fast path's (harness/shim/tandem_shim.cpp), so cycle counts agree: inputs are
set with clk low, the design settles for one time step, the command and DRAM handshakes are
sampled, clk rises, the design settles for one more step and the cycle counter advances; a
command or DRAM request counts as taken at that edge, a DRAM write applies at it, a read's data
is presented during the next cycle, and retire_valid is sampled after the edge. The clock is
driven by this loop (two Timer steps per cycle), not by a free-running cocotb Clock, so
reading right after an edge never sees pre-edge values.

Environment: TANDEM_SOCKET (path), TANDEM_STATE (JSON: state name -> {path, depth, row_bytes}),
TANDEM_UNITS (number of retiring units).
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import cocotb
import numpy as np
from cocotb.handle import ArrayObject
from cocotb.triggers import Timer

from harness.cocotb_protocol import ProtocolError, recv, send
from ila_models.program import Program

RESET_CYCLES = 4  # as the shim's kResetCycles
BEAT_BYTES = 16


UNKNOWN = {"x_bits": 0}  # X/Z bits resolved to 0 in state reads since the last reset (reported to the harness)


def _to_int(value: Any, count: bool = False) -> int:
    """A signal value as an unsigned int; X and Z bits read as 0 (the ILA has no unknown values)."""
    try:
        return int(value.to_unsigned()) if hasattr(value, "to_unsigned") else int(value)
    except ValueError:
        text = str(value).lower()
        if count:
            UNKNOWN["x_bits"] += sum(c not in "01" for c in text)
        return int("".join("1" if c == "1" else "0" for c in text), 2) if text else 0


class Driver:
    """The Tandem port convention, driven from Python one clock cycle at a time."""

    def __init__(self, dut: Any, state: dict[str, dict[str, Any]], units: int):
        self.dut = dut
        self.units = units
        self.clk, self.rst = dut.clk, dut.rst
        self.cmd_valid, self.cmd_ready, self.cmd_data = dut.cmd_valid, dut.cmd_ready, dut.cmd_data
        self.retire_valid, self.retire_index, self.busy = dut.retire_valid, dut.retire_index, dut.busy
        self.mem = {
            name: getattr(dut, name)
            for name in (
                "mem_req_valid", "mem_req_ready", "mem_req_we", "mem_req_addr", "mem_req_wdata",
                "mem_req_wstrb", "mem_resp_valid", "mem_resp_data",
            )
        }  # fmt: skip
        self.state = {name: (self._handle(info["path"]), info) for name, info in state.items()}
        self.dram = np.zeros(0, dtype=np.uint8)
        self.commands: list[int] = []
        self.cycle = 0
        self.next_cmd = 0
        self.loaded_cmd = -1
        self.retired = 0
        self.accept_cycle: list[int] = []
        self.resp_due: int | None = None
        self.dram_errors = 0
        self.serial = 0

    def _handle(self, path: list[str]) -> Any:
        handle = self.dut
        for part in path:
            try:
                handle = getattr(handle, part)
            except AttributeError:
                raise AttributeError(
                    f"no signal {'.'.join(path)!r} under the top (stopped at {part!r}); "
                    "check the scope/var of the refinement map"
                ) from None
        return handle

    # ---- clocking ------------------------------------------------------------------------------------
    async def _half(self, clk: int) -> None:
        self.clk.value = clk
        await Timer(1, "ns")

    async def reset(self) -> None:
        """As tandem_reset: rst high for RESET_CYCLES cycles, every mapped memory zeroed, cycle 0."""
        self.rst.value = 1
        self.cmd_valid.value = 0
        self.mem["mem_resp_valid"].value = 0
        self.mem["mem_req_ready"].value = 1
        self.dut.serial_mode.value = self.serial
        for _ in range(RESET_CYCLES):
            await self._half(0)
            await self._half(1)
        for handle, info in self.state.values():
            if info["depth"] == 1 and not _is_array(handle):
                handle.value = 0
            else:
                for i in range(info["depth"]):
                    handle[i].value = 0
        self.rst.value = 0
        await self._half(0)
        self.cycle = 0
        self.commands, self.accept_cycle = [], []
        self.next_cmd = self.retired = 0
        self.loaded_cmd = -1
        self.resp_due = None
        self.dram_errors = 0
        UNKNOWN["x_bits"] = 0

    async def step(self) -> int:
        """One clock cycle; returns retire_valid sampled after the edge."""
        have_cmd = self.next_cmd < len(self.commands)
        self.cmd_valid.value = int(have_cmd)
        if have_cmd and self.loaded_cmd != self.next_cmd:
            self.cmd_data.value = self.commands[self.next_cmd]
            self.loaded_cmd = self.next_cmd
        mem = self.mem
        mem["mem_resp_valid"].value = int(self.resp_due is not None)
        if self.resp_due is not None:
            mem["mem_resp_data"].value = self.resp_due
        await self._half(0)
        cmd_fire = have_cmd and _to_int(self.cmd_ready.value) == 1
        req_fire = _to_int(mem["mem_req_valid"].value) == 1
        if req_fire:
            we = _to_int(mem["mem_req_we"].value)
            addr = _to_int(mem["mem_req_addr"].value)
            if we:
                wdata = _to_int(mem["mem_req_wdata"].value).to_bytes(BEAT_BYTES, "little")
                wstrb = _to_int(mem["mem_req_wstrb"].value)
        await self._half(1)
        self.cycle += 1
        if cmd_fire:
            self.accept_cycle[self.next_cmd] = self.cycle
            self.next_cmd += 1
        self.resp_due = None
        if req_fire:
            inside = addr + BEAT_BYTES <= self.dram.size
            if not inside:
                self.dram_errors += 1
            if we:
                if inside:
                    strobe = np.array([(wstrb >> b) & 1 for b in range(BEAT_BYTES)], dtype=bool)
                    beat = np.frombuffer(wdata, dtype=np.uint8)
                    self.dram[addr : addr + BEAT_BYTES][strobe] = beat[strobe]
            else:
                data = self.dram[addr : addr + BEAT_BYTES].tobytes() if inside else bytes(BEAT_BYTES)
                self.resp_due = int.from_bytes(data, "little")
        return _to_int(self.retire_valid.value)

    def _records(self, valid: int) -> list[list[int]]:
        indices = _to_int(self.retire_index.value)
        out = []
        for u in range(self.units):
            if valid >> u & 1:
                index = (indices >> (32 * u)) & 0xFFFFFFFF
                accepted = self.accept_cycle[index] if index < len(self.commands) else self.cycle
                out.append([index, u, self.cycle, self.cycle - accepted])
                self.retired += 1
        return out

    def _all_retired(self) -> bool:
        n = len(self.commands)
        return self.next_cmd >= n and self.retired >= n and not _to_int(self.busy.value)

    async def next(self, budget: int) -> dict[str, Any]:
        """Clock until a unit retires (as tandem_run_until_retire)."""
        if self._all_retired():
            return {"done": True}
        for _ in range(budget):
            valid = await self.step()
            if valid:
                return {"records": self._records(valid)}
        return {"hang": True}

    # ---- state -----------------------------------------------------------------------------------------
    def read(self, name: str, start: int, stop: int) -> bytes:
        """Rows [start, stop) of a state variable, row_bytes each (low bytes of each entry)."""
        if name == "dram":
            return self.dram[start:stop].tobytes()
        if name not in self.state:
            raise KeyError(f"state {name!r} is not mapped; the driver knows {sorted(self.state)}")
        handle, info = self.state[name]
        rb = info["row_bytes"]
        if info["depth"] == 1 and not _is_array(handle):
            return (_to_int(handle.value, True) & ((1 << (8 * rb)) - 1)).to_bytes(rb, "little")
        mask = (1 << (8 * rb)) - 1
        return b"".join((_to_int(handle[i].value, True) & mask).to_bytes(rb, "little") for i in range(start, stop))

    def load(self, path: str) -> None:
        program = Program.load(path)
        if "dram" in program.memories:
            self.dram = np.ascontiguousarray(program.memories["dram"], dtype=np.uint8).reshape(-1).copy()
        self.commands += [int.from_bytes(c.tobytes(), "little") for c in program.commands]
        self.accept_cycle += [0] * len(program)


def _is_array(handle: Any) -> bool:
    """An unpacked array (a memory), as opposed to a vector (indexing a vector gives its bits)."""
    return isinstance(handle, ArrayObject)


async def _serve(driver: Driver, sock: socket.socket) -> None:
    while True:
        try:
            request, _ = recv(sock)
        except ProtocolError:
            return  # the harness went away: end the simulation
        op = request.get("op")
        reply: dict[str, Any] = {}
        payload = b""
        try:
            if op == "reset":
                await driver.reset()
            elif op == "load":
                driver.load(request["program"])
            elif op == "serial":
                driver.serial = int(request["on"])
                driver.dut.serial_mode.value = driver.serial
            elif op == "next":
                reply = await driver.next(int(request["budget"]))
            elif op == "read":
                payload = driver.read(request["state"], int(request["start"]), int(request["stop"]))
            elif op == "quiescent":
                reply = {"busy": bool(_to_int(driver.busy.value))}
            elif op == "dram_size":
                reply = {"size": int(driver.dram.size)}
            elif op == "close":
                send(sock, {"cycle": driver.cycle})
                return
            else:
                reply = {"error": f"unknown request {op!r}"}
        except Exception as exc:  # the harness shows it; the simulation stays up for the next request
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        send(sock, {**reply, "cycle": driver.cycle, "dram_errors": driver.dram_errors, **UNKNOWN}, payload)


@cocotb.test()
async def lockstep_server(dut: Any) -> None:
    """Serve the harness until it closes the connection."""
    state = json.loads(os.environ.get("TANDEM_STATE", "{}"))
    driver = Driver(dut, state, int(os.environ["TANDEM_UNITS"]))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.environ["TANDEM_SOCKET"])
    try:
        await _serve(driver, sock)
    finally:
        sock.close()
