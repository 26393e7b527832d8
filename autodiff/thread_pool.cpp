#include "autodiff/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace nfvi {
namespace {

thread_local bool tl_in_parallel = false;

// One job at a time: the caller publishes it, bumps `generation_`, takes parts itself, and
// waits until every part is done. Workers spin briefly before sleeping, so that the short
// loops of a training step do not pay a futex wake each.
class Pool {
public:
    explicit Pool(int threads) {
        // A worker starts from the generation at its creation, not at its first run: a job
        // (or the stop) published before the thread gets going must not be missed.
        const std::uint64_t start = generation_.load();
        for (int i = 1; i < threads; ++i) workers_.emplace_back([this, start] { work(start); });
    }
    ~Pool() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            stop_ = true;
            generation_.fetch_add(1, std::memory_order_release);
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
    }
    int threads() const { return static_cast<int>(workers_.size()) + 1; }

    void run(std::int64_t n, std::int64_t parts, FnRef<void(std::int64_t, std::int64_t)> fn) {
        std::lock_guard<std::mutex> job_lock(job_mu_);  // one job at a time
        fn_ = &fn;
        n_ = n;
        parts_ = parts;
        done_.store(0, std::memory_order_relaxed);
        next_.store(0, std::memory_order_release);  // publishes fn_, n_, parts_ to late workers
        {
            std::lock_guard<std::mutex> lk(mu_);
            generation_.fetch_add(1, std::memory_order_release);
        }
        cv_.notify_all();
        take_parts();
        while (done_.load(std::memory_order_acquire) < parts_) std::this_thread::yield();
    }

private:
    void take_parts() {
        tl_in_parallel = true;
        for (;;) {
            std::int64_t p = next_.fetch_add(1, std::memory_order_acq_rel);
            if (p >= parts_) break;
            (*fn_)(n_ * p / parts_, n_ * (p + 1) / parts_);
            done_.fetch_add(1, std::memory_order_acq_rel);
        }
        tl_in_parallel = false;
    }

    void work(std::uint64_t seen) {
        for (;;) {
            std::uint64_t g = generation_.load(std::memory_order_acquire);
            for (int spin = 0; g == seen && spin < 20000; ++spin) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
                g = generation_.load(std::memory_order_acquire);
            }
            if (g == seen) {
                std::unique_lock<std::mutex> lk(mu_);
                cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
                g = generation_.load(std::memory_order_acquire);
            }
            seen = g;
            if (stop_) return;
            take_parts();
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mu_, job_mu_;
    std::condition_variable cv_;
    std::atomic<std::uint64_t> generation_{0};
    bool stop_ = false;
    const FnRef<void(std::int64_t, std::int64_t)>* fn_ = nullptr;
    std::int64_t n_ = 0, parts_ = 0;
    std::atomic<std::int64_t> next_{0}, done_{0};
};

std::mutex g_pool_mu;
std::unique_ptr<Pool> g_pool;
int g_threads = 1;

}  // namespace

void set_num_threads(int n) {
    n = std::max(1, n);
    std::lock_guard<std::mutex> lk(g_pool_mu);
    if (n == g_threads) return;
    g_pool.reset();
    g_threads = n;
    if (n > 1) g_pool = std::make_unique<Pool>(n);
}

int num_threads() { return g_threads; }

void parallel_for(std::int64_t n, std::int64_t grain, FnRef<void(std::int64_t, std::int64_t)> fn) {
    if (n <= 0) return;
    grain = std::max<std::int64_t>(grain, 1);
    std::int64_t parts = std::min<std::int64_t>(g_threads, n / grain);
    if (parts <= 1 || tl_in_parallel || !g_pool) {
        fn(0, n);
        return;
    }
    g_pool->run(n, parts, fn);
}

}  // namespace nfvi
