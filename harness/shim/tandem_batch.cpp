// tandem_batch: batched lockstep and whole-state comparison, both in C++ (the simulator itself is
// tandem_shim.cpp).
//
// Batched lockstep is for machines whose retirement order is known in advance (one unit: program
// order). The ILA runs ahead and names the rows each instruction writes, with their values; a
// batch clocks until n_retire retirements and, at each one, copies that instruction's watched rows
// into `snap` and compares them with the ILA's values, so the state is captured and compared
// exactly as at its retirement. Batches run on the simulator's batch thread: tandem_batch_start
// hands one over and returns at once, tandem_batch_wait waits for it, so Python plans the next
// batch meanwhile without either side waiting for the other's interpreter lock.

#include <algorithm>
#include <array>
#include <cstring>
#include <system_error>

#include "tandem_shim.h"

using namespace tandem;

namespace {

constexpr int kWatchColumns = 7;
using WatchRow = std::array<int64_t, kWatchColumns>;
constexpr int64_t kBadWatch = int64_t{1} << 40;

// Copies one watch entry's rows at its retirement into snap and compares them with the expected
// values; returns false when the rows are outside their memory (s->error says why).
bool capture(Sim* s, const WatchRow& w, uint8_t* snap, const uint8_t* expected, uint64_t* differing) {
    const uint64_t row0 = static_cast<uint64_t>(w[2]), rows = static_cast<uint64_t>(w[3]);
    const uint8_t* src;
    uint64_t entry_bytes;
    if (w[1] < 0) {
        if (row0 + rows > s->dram.size() || row0 + rows < row0) {
            s->error = "watched DRAM bytes past the memory";
            return false;
        }
        src = s->dram.data() + row0;
        entry_bytes = 1;
    } else {
        const StateHandle* st = rows_ok(s, static_cast<int>(w[1]), row0, rows);
        if (!st) return false;
        src = st->data + row0 * st->entry_bytes;
        entry_bytes = st->entry_bytes;
    }
    std::memcpy(snap + w[4], src, rows * entry_bytes);
    if (w[5] < 0) return true;  // captured only: Python compares it
    const uint8_t* want = expected + w[5];
    const uint64_t row_bytes = static_cast<uint64_t>(w[6]);
    bool same = true;
    if (row_bytes == entry_bytes) {
        same = std::memcmp(src, want, rows * row_bytes) == 0;
    } else {
        for (uint64_t r = 0; r < rows && same; ++r)
            same = std::memcmp(src + r * entry_bytes, want + r * row_bytes, row_bytes) == 0;
    }
    if (!same) ++*differing;
    return true;
}

void run_batch(Sim* s) {
    BatchJob& job = s->batch;
    const auto* watch = reinterpret_cast<const WatchRow*>(job.watch);
    const WatchRow* watch_end = watch + job.n_watch;
    uint64_t n = 0;
    while (n < job.n_retire && !all_retired(s)) {
        uint32_t valid = 0;
        for (uint64_t c = 0; c < job.max_idle_cycles && !valid; ++c) valid = step(s);
        if (!valid) {
            job.result = -static_cast<int64_t>(n) - 1;
            return;
        }
        const int got = collect(s, valid, job.out + 4 * n, TANDEM_UNITS);
        for (int k = 0; k < got; ++k) {
            const int64_t index = static_cast<int64_t>(job.out[4 * (n + k)]);
            const WatchRow* w = std::lower_bound(
                watch, watch_end, index, [](const WatchRow& row, int64_t i) { return row[0] < i; });
            for (; w < watch_end && (*w)[0] == index; ++w) {
                if (!capture(s, *w, job.snap, job.expected, &job.differing)) {
                    job.result = -static_cast<int64_t>(n) - 1 - kBadWatch;
                    return;
                }
            }
        }
        n += static_cast<uint64_t>(got);
    }
    job.result = static_cast<int64_t>(n);
}

void batch_thread(Sim* s) {
    make_current(s);
    std::unique_lock<std::mutex> lock(s->batch_mutex);
    for (;;) {
        s->batch_changed.wait(lock, [s] { return s->batch_state == kBatchQueued || s->batch_state == kBatchStop; });
        if (s->batch_state == kBatchStop) return;
        s->batch_state = kBatchRunning;
        lock.unlock();
        run_batch(s);
        lock.lock();
        s->batch_state = kBatchDone;
        s->batch_changed.notify_all();
    }
}

}  // namespace

// Hands a batch to the batch thread and returns at once; nothing else may touch this simulator
// until tandem_batch_wait. Clocks until n_retire retirements (or everything pushed has retired).
// watch: n_watch rows of 7 int64 sorted by instruction index: (index, state id or -1 for the DRAM
// model, first row (a byte offset for DRAM), number of rows (bytes for DRAM), offset in snap,
// offset of the expected rows in `expected` or -1 to capture only, bytes compared per row (the
// ILA's row; a state's entries may be wider)). out: room for n_retire + TANDEM_UNITS records.
// The buffers must stay alive until tandem_batch_wait. Returns -1 when a batch is already running.
TANDEM_API int tandem_batch_start(void* h, uint64_t n_retire, uint64_t max_idle_cycles, const int64_t* watch,
                                  uint64_t n_watch, uint8_t* snap, const uint8_t* expected, uint64_t* out) {
    auto* s = static_cast<Sim*>(h);
    std::unique_lock<std::mutex> lock(s->batch_mutex);
    if (s->batch_state != kBatchIdle) {
        s->error = "a batch is already running; tandem_batch_wait first";
        return -1;
    }
    if (!s->batch_thread.joinable()) {
        try {
            s->batch_thread = std::thread(batch_thread, s);
        } catch (const std::system_error& e) {
            s->error = std::string("cannot start the batch thread: ") + e.what();
            return -1;
        }
    }
    s->batch = BatchJob{n_retire, max_idle_cycles, n_watch, watch, snap, expected, out};
    s->batch_state = kBatchQueued;
    lock.unlock();
    s->batch_changed.notify_all();
    return 0;
}

// Waits for the batch started last. Returns the number of records written to out, or -(n + 1)
// when nothing retired within max_idle_cycles after n records, or -(n + 1) - (1 << 40) when a
// watched range is outside its memory (see tandem_last_error). *differing: how many watch entries
// that were compared differ from their expected rows.
TANDEM_API int64_t tandem_batch_wait(void* h, uint64_t* differing) {
    auto* s = static_cast<Sim*>(h);
    {
        std::lock_guard<std::mutex> lock(s->batch_mutex);
        if (s->batch_state == kBatchIdle) {
            s->error = "no batch is running";
            return -kBadWatch - 1;
        }
    }
    wait_batch(s);
    *differing = s->batch.differing;
    return s->batch.result;
}

// 1 when state `id` (-1: the DRAM model) holds exactly `expected`: nrows rows of row_bytes each,
// packed (an entry may be wider than its row: the bytes past row_bytes are not compared); 0 when
// it differs or has another number of rows; -1 for an unknown handle.
TANDEM_API int tandem_state_equal(void* h, int id, const uint8_t* expected, uint64_t row_bytes, uint64_t nrows) {
    auto* s = static_cast<Sim*>(h);
    if (id < 0)
        return nrows * row_bytes == s->dram.size() &&
               (s->dram.empty() || std::memcmp(s->dram.data(), expected, s->dram.size()) == 0);
    if (static_cast<size_t>(id) >= s->states.size()) {
        s->error = "no state handle " + std::to_string(id);
        return -1;
    }
    const StateHandle& st = s->states[id];
    if (nrows != st.depth || row_bytes > st.entry_bytes) return 0;
    if (row_bytes == st.entry_bytes) return std::memcmp(st.data, expected, nrows * row_bytes) == 0;
    for (uint64_t r = 0; r < nrows; ++r)
        if (std::memcmp(st.data + r * st.entry_bytes, expected + r * row_bytes, row_bytes) != 0) return 0;
    return 1;
}
