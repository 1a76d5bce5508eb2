// tandem_shim.h: what the shim's two files share (tandem_shim.cpp: the simulator, its clock, DRAM
// model and state by name; tandem_batch.cpp: batched lockstep and state comparison in C++).
// Built with -DTOP_CLASS=V<top> -DTOP_HEADER='"V<top>.h"' -DTANDEM_UNITS=<n> (harness/verilator_build.py).

#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "verilated.h"
#include TOP_HEADER
#ifdef TANDEM_TRACE
#include "verilated_fst_c.h"
#endif

#ifndef TANDEM_UNITS
#error "define TANDEM_UNITS (the top's number of retiring units)"
#endif

#define TANDEM_API extern "C" __attribute__((visibility("default")))

namespace tandem {

constexpr int kBeatBytes = 16;

struct StateHandle {
    std::string name;
    uint8_t* data;
    uint32_t entry_bits;
    uint32_t entry_bytes;
    uint64_t depth;
};

struct Record {  // what Python reads, 4 x uint64 per retirement
    uint64_t index, unit, cycle, cycles_taken;
};

// One batch of the batched lockstep (tandem_batch.cpp), run on the simulator's batch thread.
struct BatchJob {
    uint64_t n_retire = 0, max_idle_cycles = 0, n_watch = 0;
    const int64_t* watch = nullptr;
    uint8_t* snap = nullptr;
    const uint8_t* expected = nullptr;
    uint64_t* out = nullptr;
    int64_t result = 0;       // what tandem_batch_wait returns
    uint64_t differing = 0;   // watch entries whose captured rows differ from the expected ones
};

struct Sim {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<TOP_CLASS> top;
    uint64_t cycle = 0;
    // command stream
    std::vector<uint8_t> cmds;
    size_t cmd_bytes = 0;
    uint64_t n_cmds = 0, next_cmd = 0, loaded_cmd = UINT64_MAX, retired = 0;
    std::vector<uint64_t> accept_cycle;
    // DRAM model
    std::vector<uint8_t> dram;
    bool resp_due = false;
    uint8_t resp_buf[kBeatBytes] = {};
    uint64_t dram_errors = 0;  // requests outside the memory (reads answer zeros, writes dropped)
    // state by name
    std::vector<StateHandle> states;
    std::string error;
    // The batch thread, started by the first batch and kept (a new thread per batch would start
    // on a cold core): it runs `batch` when `batch_state` is kBatchQueued.
    std::thread batch_thread;
    std::mutex batch_mutex;
    std::condition_variable batch_changed;
    int batch_state = 0;  // kBatchIdle, kBatchQueued, kBatchRunning, kBatchDone, kBatchStop
    BatchJob batch;
#ifdef TANDEM_TRACE
    std::unique_ptr<VerilatedFstC> fst;
    uint64_t trace_first = 0, trace_last = 0;
    bool in_reset = false;
#endif
};

void make_current(Sim* s);
// One clock cycle; returns the retire_valid bits sampled after the edge.
uint32_t step(Sim* s);
// Appends the records of the units whose bits are set in `valid` to out; returns how many.
int collect(Sim* s, uint32_t valid, uint64_t* out, int room);
bool all_retired(Sim* s);
// The handle `id` when rows [row0, row0 + nrows) are inside it; else nullptr and s->error says why.
StateHandle* rows_ok(Sim* s, int id, uint64_t row0, uint64_t nrows);
enum : int { kBatchIdle, kBatchQueued, kBatchRunning, kBatchDone, kBatchStop };
// Waits for the batch in flight, if any, and leaves its result in s->batch (kBatchIdle after).
void wait_batch(Sim* s);
// Stops the batch thread (before the simulator is destroyed).
void stop_batch_thread(Sim* s);

}  // namespace tandem
