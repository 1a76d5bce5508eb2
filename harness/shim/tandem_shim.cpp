// tandem_shim: one generic C++ driver for any Verilated top that follows the Tandem port convention
// (rtl/README.md): command port, per-unit registered retirement, busy, serial_mode, and a DRAM
// port served here from a byte-array memory model. Loaded from Python with ctypes; every loop over
// clock edges runs here, so Python crosses into C++ once per retirement (or once per run; batched
// lockstep and state comparison are in tandem_batch.cpp).
//
// Build (harness/verilator_build.py does it):
//   -DTOP_CLASS=Vvta_top -DTOP_HEADER='"Vvta_top.h"' -DTANDEM_UNITS=3
//
// Cycle model: one call to step() is one clock cycle. Inputs are set, the model is evaluated with
// clk low, the command and DRAM handshakes are sampled, then the posedge is evaluated and the
// cycle counter advances. A command or DRAM request counts as taken at that edge; a DRAM write is
// applied to the memory model at that edge; a read's data is presented during the next cycle.
// retire_valid is sampled after the edge, so a retirement record's `cycle` is the edge at which
// the unit's registered retire bit rose, with all its writes visible.
//
// Trace flavour (-DTANDEM_TRACE, a separate library and cache entry; verilator --trace-fst):
// tandem_trace_open(path, first, last) dumps FST only for harness cycles first..last. Cycle N is
// the low phase at time 10N-5 and the posedge at time 10N (in the trace's ns), so the waveform's
// time / 10 is the harness's cycle. Without TANDEM_TRACE, eval_half is two stores and an eval.

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "tandem_shim.h"
#include "verilated_syms.h"

using namespace tandem;

namespace {

constexpr int kResetCycles = 4;

// ---- port access for any Verilator port type (CData/SData/IData/QData or VlWide<N>)
template <typename T>
void port_write(T& port, const uint8_t* src, size_t nbytes) {
    if constexpr (std::is_integral_v<T>) {
        T value = 0;
        std::memcpy(&value, src, std::min(nbytes, sizeof(T)));
        port = value;
    } else {
        std::memset(port.data(), 0, sizeof(port));
        std::memcpy(port.data(), src, std::min(nbytes, sizeof(port)));
    }
}

template <typename T>
void port_read(const T& port, uint8_t* dst, size_t nbytes) {
    std::memset(dst, 0, nbytes);
    if constexpr (std::is_integral_v<T>) {
        std::memcpy(dst, &port, std::min(nbytes, sizeof(T)));
    } else {
        std::memcpy(dst, port.data(), std::min(nbytes, sizeof(port)));
    }
}

template <typename T>
constexpr size_t port_bytes() {
    return sizeof(T);
}

void eval_half(Sim* s, int clk) {
    s->top->clk = clk;
    s->top->eval();
#ifdef TANDEM_TRACE
    // Dumped after eval and after nothing else: the DRAM model's update at this edge is applied
    // to its byte array, not to RTL signals, so the dump shows exactly what the RTL saw.
    const uint64_t n = s->cycle + 1;  // the cycle this half belongs to (the counter advances after the edge)
    if (s->fst && !s->in_reset && n >= s->trace_first && n <= s->trace_last)
        s->fst->dump(clk ? 10 * n : 10 * n - 5);
#endif
}

}  // namespace

namespace tandem {

void make_current(Sim* s) { Verilated::threadContextp(s->ctx.get()); }

// One clock cycle (see the header). Returns the retire_valid bits sampled after the edge.
uint32_t step(Sim* s) {
    TOP_CLASS* t = s->top.get();
    const bool have_cmd = s->next_cmd < s->n_cmds;
    t->cmd_valid = have_cmd;
    if (have_cmd && s->loaded_cmd != s->next_cmd) {
        port_write(t->cmd_data, &s->cmds[s->next_cmd * s->cmd_bytes], s->cmd_bytes);
        s->loaded_cmd = s->next_cmd;
    }
    t->mem_resp_valid = s->resp_due;
    if (s->resp_due) port_write(t->mem_resp_data, s->resp_buf, kBeatBytes);
    t->mem_req_ready = 1;
    eval_half(s, 0);

    const bool cmd_fire = have_cmd && t->cmd_ready;
    const bool req_fire = t->mem_req_valid && t->mem_req_ready;
    bool req_we = false;
    uint64_t req_addr = 0;
    uint8_t wdata[kBeatBytes];
    uint32_t wstrb = 0;
    if (req_fire) {
        req_we = t->mem_req_we;
        req_addr = t->mem_req_addr;
        if (req_we) {
            port_read(t->mem_req_wdata, wdata, kBeatBytes);
            wstrb = t->mem_req_wstrb;
        }
    }

    eval_half(s, 1);
    s->cycle++;
    if (cmd_fire) s->accept_cycle[s->next_cmd++] = s->cycle;
    s->resp_due = false;
    if (req_fire) {
        const bool inside = req_addr + kBeatBytes <= s->dram.size();
        if (!inside) s->dram_errors++;
        if (req_we) {
            if (inside) {
                uint8_t* dst = &s->dram[req_addr];
                for (int b = 0; b < kBeatBytes; ++b)
                    if (wstrb & (1u << b)) dst[b] = wdata[b];
            }
        } else {
            if (inside) std::memcpy(s->resp_buf, &s->dram[req_addr], kBeatBytes);
            else std::memset(s->resp_buf, 0, kBeatBytes);
            s->resp_due = true;
        }
    }
    return t->retire_valid;
}

int collect(Sim* s, uint32_t valid, uint64_t* out, int room) {
    uint8_t idx_bytes[4 * TANDEM_UNITS + 8];
    port_read(s->top->retire_index, idx_bytes, sizeof(idx_bytes));
    int n = 0;
    for (int u = 0; u < TANDEM_UNITS && n < room; ++u) {
        if (!(valid & (1u << u))) continue;
        uint32_t index;
        std::memcpy(&index, &idx_bytes[4 * u], 4);
        const uint64_t accepted = index < s->n_cmds ? s->accept_cycle[index] : s->cycle;
        Record r{index, static_cast<uint64_t>(u), s->cycle, s->cycle - accepted};
        std::memcpy(out + 4 * n, &r, sizeof r);
        ++n;
        ++s->retired;
    }
    return n;
}

bool all_retired(Sim* s) { return s->next_cmd >= s->n_cmds && s->retired >= s->n_cmds && !s->top->busy; }

StateHandle* rows_ok(Sim* s, int id, uint64_t row0, uint64_t nrows) {
    if (id < 0 || static_cast<size_t>(id) >= s->states.size()) {
        s->error = "no state handle " + std::to_string(id);
        return nullptr;
    }
    StateHandle* st = &s->states[id];
    if (row0 + nrows > st->depth || row0 + nrows < row0) {
        s->error = st->name + ": rows [" + std::to_string(row0) + ", +" + std::to_string(nrows) +
                   ") past its depth " + std::to_string(st->depth);
        return nullptr;
    }
    return st;
}

void wait_batch(Sim* s) {
    std::unique_lock<std::mutex> lock(s->batch_mutex);
    s->batch_changed.wait(lock, [s] { return s->batch_state == kBatchIdle || s->batch_state == kBatchDone; });
    s->batch_state = kBatchIdle;
}

void stop_batch_thread(Sim* s) {
    if (!s->batch_thread.joinable()) return;
    wait_batch(s);
    {
        std::lock_guard<std::mutex> lock(s->batch_mutex);
        s->batch_state = kBatchStop;
    }
    s->batch_changed.notify_all();
    s->batch_thread.join();
}

}  // namespace tandem

// ---------------------------------------------------------------- lifecycle
TANDEM_API void* tandem_create() {
    auto* s = new Sim;
    s->ctx = std::make_unique<VerilatedContext>();
#ifdef TANDEM_TRACE
    s->ctx->traceEverOn(true);
#endif
    make_current(s);
    s->top = std::make_unique<TOP_CLASS>(s->ctx.get(), "TOP");
    s->top->clk = 0;
    s->top->rst = 1;
    s->top->serial_mode = 0;
    s->top->cmd_valid = 0;
    s->top->mem_req_ready = 1;
    s->top->mem_resp_valid = 0;
    s->top->eval();
    return s;
}

TANDEM_API void tandem_destroy(void* h) {
    auto* s = static_cast<Sim*>(h);
    if (!s) return;
    stop_batch_thread(s);
    // Verilator keeps a per-thread "current context"; with several models alive, destroying one
    // while another's context is current hangs, so make this one current first.
    Verilated::threadContextp(s->ctx.get());
#ifdef TANDEM_TRACE
    if (s->fst) s->fst->close();
#endif
    s->top->final();
    s->top.reset();
    s->ctx.reset();
    delete s;
}

TANDEM_API const char* tandem_last_error(void* h) { return static_cast<Sim*>(h)->error.c_str(); }

TANDEM_API uint32_t tandem_units() { return TANDEM_UNITS; }

TANDEM_API uint32_t tandem_cmd_port_bytes() { return port_bytes<decltype(TOP_CLASS::cmd_data)>(); }

// Holds rst high for a few cycles and forgets the command stream; memories keep their contents.
// The cycle counter restarts at 0.
TANDEM_API void tandem_reset(void* h) {
    auto* s = static_cast<Sim*>(h);
    wait_batch(s);
    make_current(s);
    TOP_CLASS* t = s->top.get();
#ifdef TANDEM_TRACE
    s->in_reset = true;
#endif
    t->rst = 1;
    t->cmd_valid = 0;
    t->mem_resp_valid = 0;
    for (int i = 0; i < kResetCycles; ++i) {
        eval_half(s, 0);
        eval_half(s, 1);
    }
    t->rst = 0;
    eval_half(s, 0);
    s->cycle = 0;
    s->cmds.clear();
    s->accept_cycle.clear();
    s->n_cmds = s->next_cmd = s->retired = 0;
    s->loaded_cmd = UINT64_MAX;
    s->resp_due = false;
    s->dram_errors = 0;
#ifdef TANDEM_TRACE
    s->in_reset = false;
#endif
}

// ---------------------------------------------------------------- waveform window (trace flavour)
// Opens an FST file that records harness cycles first..last (inclusive) from now on; -1 when this
// library was built without tracing (see tandem_last_error).
TANDEM_API int tandem_trace_open(void* h, const char* path, uint64_t first, uint64_t last) {
    auto* s = static_cast<Sim*>(h);
#ifdef TANDEM_TRACE
    make_current(s);
    if (s->fst) s->fst->close();
    s->fst = std::make_unique<VerilatedFstC>();
    s->top->trace(s->fst.get(), 99);
    s->fst->open(path);
    if (!s->fst->isOpen()) {
        s->error = std::string("cannot open FST file '") + path + "'";
        s->fst.reset();
        return -1;
    }
    s->trace_first = first;
    s->trace_last = last;
    return 0;
#else
    (void)path, (void)first, (void)last;
    s->error = "this library was built without tracing; build it with trace=True (verilator --trace-fst)";
    return -1;
#endif
}

// Flushes and closes the FST file, if one is open.
TANDEM_API void tandem_trace_close(void* h) {
    auto* s = static_cast<Sim*>(h);
#ifdef TANDEM_TRACE
    if (s->fst) {
        make_current(s);
        s->fst->close();
        s->fst.reset();
    }
#else
    (void)s;
#endif
}

TANDEM_API void tandem_set_serial(void* h, int on) { static_cast<Sim*>(h)->top->serial_mode = on != 0; }
TANDEM_API uint64_t tandem_cycle(void* h) { return static_cast<Sim*>(h)->cycle; }
TANDEM_API int tandem_busy(void* h) { return static_cast<Sim*>(h)->top->busy ? 1 : 0; }
TANDEM_API uint64_t tandem_retired(void* h) { return static_cast<Sim*>(h)->retired; }
TANDEM_API uint64_t tandem_accepted(void* h) { return static_cast<Sim*>(h)->next_cmd; }
TANDEM_API uint64_t tandem_dram_errors(void* h) { return static_cast<Sim*>(h)->dram_errors; }

// ---------------------------------------------------------------- DRAM model
TANDEM_API int tandem_dram_alloc(void* h, uint64_t nbytes) {
    auto* s = static_cast<Sim*>(h);
    s->dram.assign(nbytes, 0);
    return 0;
}
TANDEM_API uint64_t tandem_dram_size(void* h) { return static_cast<Sim*>(h)->dram.size(); }

TANDEM_API int tandem_dram_write(void* h, uint64_t offset, const uint8_t* src, uint64_t nbytes) {
    auto* s = static_cast<Sim*>(h);
    if (offset + nbytes > s->dram.size() || offset + nbytes < offset) {
        s->error = "dram write [" + std::to_string(offset) + ", +" + std::to_string(nbytes) +
                   ") past the memory of " + std::to_string(s->dram.size()) + " bytes";
        return -1;
    }
    if (nbytes) std::memcpy(&s->dram[offset], src, nbytes);
    return 0;
}

TANDEM_API int tandem_dram_read(void* h, uint64_t offset, uint8_t* dst, uint64_t nbytes) {
    auto* s = static_cast<Sim*>(h);
    if (offset + nbytes > s->dram.size() || offset + nbytes < offset) {
        s->error = "dram read [" + std::to_string(offset) + ", +" + std::to_string(nbytes) +
                   ") past the memory of " + std::to_string(s->dram.size()) + " bytes";
        return -1;
    }
    if (nbytes) std::memcpy(dst, &s->dram[offset], nbytes);
    return 0;
}

// ---------------------------------------------------------------- commands and running
// Appends n commands of cmd_bytes little-endian bytes each; they are offered in order.
TANDEM_API int tandem_push_commands(void* h, const uint8_t* buf, uint64_t n, uint32_t cmd_bytes) {
    auto* s = static_cast<Sim*>(h);
    if (s->n_cmds && cmd_bytes != s->cmd_bytes) {
        s->error = "commands of " + std::to_string(cmd_bytes) + " bytes pushed after commands of " +
                   std::to_string(s->cmd_bytes);
        return -1;
    }
    s->cmd_bytes = cmd_bytes;
    s->cmds.insert(s->cmds.end(), buf, buf + n * cmd_bytes);
    s->n_cmds += n;
    s->accept_cycle.resize(s->n_cmds, 0);
    return 0;
}

// Clocks until at least one unit retires and stops at that cycle. Returns the number of records
// written to out (4 uint64 each: index, unit, cycle, cycles_taken), 0 when every pushed command
// has retired and nothing is in flight, -1 when nothing retired within max_idle_cycles.
TANDEM_API int tandem_run_until_retire(void* h, uint64_t max_idle_cycles, uint64_t* out, int max_records) {
    auto* s = static_cast<Sim*>(h);
    make_current(s);
    if (all_retired(s)) return 0;
    for (uint64_t c = 0; c < max_idle_cycles; ++c) {
        const uint32_t valid = step(s);
        if (valid) return collect(s, valid, out, max_records);
    }
    return -1;
}

// The C++-only run: clocks until n_expected retirements (or max_cycles), recording all of them.
// Returns the number of records written (less than n_expected on a timeout).
TANDEM_API int64_t tandem_run_to_completion(void* h, uint64_t n_expected, uint64_t max_cycles, uint64_t* out) {
    auto* s = static_cast<Sim*>(h);
    make_current(s);
    uint64_t n = 0;
    for (uint64_t c = 0; c < max_cycles && n < n_expected; ++c) {
        const uint32_t valid = step(s);
        if (valid) n += collect(s, valid, out + 4 * n, static_cast<int>(std::min<uint64_t>(TANDEM_UNITS, n_expected - n)));
    }
    return static_cast<int64_t>(n);
}

// ---------------------------------------------------------------- state by name
// Resolves scope/var once; returns a handle >= 0, or -1 (see tandem_last_error).
TANDEM_API int tandem_state_find(void* h, const char* scope_name, const char* var_name) {
    auto* s = static_cast<Sim*>(h);
    const VerilatedScope* scope = s->ctx->scopeFind(scope_name);
    if (!scope) {
        std::string known;
        if (const VerilatedScopeNameMap* m = s->ctx->scopeNameMap())
            for (const auto& kv : *m) known += std::string(known.empty() ? "" : ", ") + kv.first;
        s->error = std::string("no scope '") + scope_name + "'; public scopes: " + known;
        return -1;
    }
    VerilatedVar* var = scope->varFind(var_name);
    if (!var) {
        std::string known;
        if (VerilatedVarNameMap* vm = scope->varsp())
            for (const auto& kv : *vm) known += std::string(known.empty() ? "" : ", ") + kv.first;
        s->error = std::string("no public variable '") + var_name + "' in scope '" + scope_name +
                   "' (mark it /*verilator public_flat_rd*/); it has: " + known;
        return -1;
    }
    uint64_t depth = 1;
    for (int d = 1; d <= var->udims(); ++d) depth *= static_cast<uint64_t>(var->elements(d));
    s->states.push_back(StateHandle{std::string(scope_name) + "." + var_name,
                                    static_cast<uint8_t*>(var->datap()), var->entBits(), var->entSize(), depth});
    return static_cast<int>(s->states.size() - 1);
}

TANDEM_API int tandem_state_info(void* h, int id, uint32_t* entry_bits, uint64_t* depth, uint32_t* entry_bytes) {
    auto* s = static_cast<Sim*>(h);
    if (id < 0 || static_cast<size_t>(id) >= s->states.size()) {
        s->error = "no state handle " + std::to_string(id);
        return -1;
    }
    const StateHandle& st = s->states[id];
    *entry_bits = st.entry_bits;
    *depth = st.depth;
    *entry_bytes = st.entry_bytes;
    return 0;
}

// Copies nrows raw entries (entry_bytes each) from row0 on into dst.
TANDEM_API int tandem_state_read(void* h, int id, uint64_t row0, uint64_t nrows, uint8_t* dst) {
    auto* s = static_cast<Sim*>(h);
    StateHandle* st = rows_ok(s, id, row0, nrows);
    if (!st) return -1;
    std::memcpy(dst, st->data + row0 * st->entry_bytes, nrows * st->entry_bytes);
    return 0;
}

// Overwrites nrows raw entries from row0 on (initial state); takes effect at the next cycle.
TANDEM_API int tandem_state_write(void* h, int id, uint64_t row0, uint64_t nrows, const uint8_t* src) {
    auto* s = static_cast<Sim*>(h);
    StateHandle* st = rows_ok(s, id, row0, nrows);
    if (!st) return -1;
    std::memcpy(st->data + row0 * st->entry_bytes, src, nrows * st->entry_bytes);
    return 0;
}
