// Optimizers and gradient clipping (see optim.h): the update kernels, the state format's
// writer and its checking reader.
//
// Legend: n = elements of one parameter; p value, g grad, m/v/b state buffers, all [n].
#include "autodiff/optim.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "autodiff/thread_pool.h"

// The kernels' pointers never alias (each is a separate Tensor); saying so lets the compiler
// vectorize without run-time overlap checks.
#define NFVI_RESTRICT __restrict

namespace nfvi {
namespace {

// A parameter this large (elements) is updated by several threads, each a contiguous range.
constexpr std::int64_t kParallelGrain = std::int64_t{1} << 15;

// Runs kernel(begin, end) over [0, n), split over the pool when n is large.
template <class F>
void for_range(std::int64_t n, F&& kernel) {
    if (n >= 2 * kParallelGrain)
        parallel_for(n, kParallelGrain, kernel);
    else if (n > 0)
        kernel(0, n);
}

// ---- kernels (elementwise, one pass, contiguous) --------------------------------------------

void sgd_kernel(real* NFVI_RESTRICT p, const real* NFVI_RESTRICT g, std::int64_t n, real lr) {
    for (std::int64_t i = 0; i < n; ++i) p[i] -= lr * g[i];
}

void sgd_momentum_kernel(real* NFVI_RESTRICT p, const real* NFVI_RESTRICT g, real* NFVI_RESTRICT b,
                         std::int64_t n, real lr, real mu) {
    for (std::int64_t i = 0; i < n; ++i) {
        real bi = mu * b[i] + g[i];
        b[i] = bi;
        p[i] -= lr * bi;
    }
}

// step_size = lr / (1-β1^t), bc2_sqrt = sqrt(1-β2^t).
void adam_kernel(real* NFVI_RESTRICT p, const real* NFVI_RESTRICT g, real* NFVI_RESTRICT m,
                 real* NFVI_RESTRICT v, std::int64_t n, real beta1, real one_minus_beta1,
                 real beta2, real one_minus_beta2, real step_size, real bc2_sqrt, real eps) {
    for (std::int64_t i = 0; i < n; ++i) {
        real gi = g[i];
        real mi = beta1 * m[i] + one_minus_beta1 * gi;
        real vi = beta2 * v[i] + one_minus_beta2 * (gi * gi);
        m[i] = mi;
        v[i] = vi;
        real denom = std::sqrt(vi) / bc2_sqrt + eps;
        p[i] -= step_size * (mi / denom);
    }
}

void rmsprop_kernel(real* NFVI_RESTRICT p, const real* NFVI_RESTRICT g, real* NFVI_RESTRICT v,
                    std::int64_t n, real lr, real alpha, real one_minus_alpha, real eps) {
    for (std::int64_t i = 0; i < n; ++i) {
        real gi = g[i];
        real vi = alpha * v[i] + one_minus_alpha * (gi * gi);
        v[i] = vi;
        p[i] -= lr * (gi / (std::sqrt(vi) + eps));
    }
}

void rmsprop_momentum_kernel(real* NFVI_RESTRICT p, const real* NFVI_RESTRICT g,
                             real* NFVI_RESTRICT v, real* NFVI_RESTRICT b, std::int64_t n, real lr,
                             real alpha, real one_minus_alpha, real eps, real mu) {
    for (std::int64_t i = 0; i < n; ++i) {
        real gi = g[i];
        real vi = alpha * v[i] + one_minus_alpha * (gi * gi);
        v[i] = vi;
        real bi = mu * b[i] + gi / (std::sqrt(vi) + eps);
        b[i] = bi;
        p[i] -= lr * bi;
    }
}

// Σ g², in double: eight lanes (so that it vectorizes without reassociation), combined in a
// fixed order. Same bits on every run and thread count.
double sum_squares(const real* NFVI_RESTRICT g, std::int64_t n) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) {
            double x = static_cast<double>(g[i + k]);
            lane[k] += x * x;
        }
    double tail = 0;
    for (; i < n; ++i) {
        double x = static_cast<double>(g[i]);
        tail += x * x;
    }
    return (((lane[0] + lane[4]) + (lane[1] + lane[5])) +
            ((lane[2] + lane[6]) + (lane[3] + lane[7]))) +
           tail;
}

void scale_kernel(real* NFVI_RESTRICT g, std::int64_t n, real s) {
    for (std::int64_t i = 0; i < n; ++i) g[i] *= s;
}

// ---- option checks ---------------------------------------------------------------------------

bool in_unit(double x) { return x >= 0 && x < 1; }  // [0,1), false for NaN
bool finite_nonneg(double x) { return std::isfinite(x) && x >= 0; }

// ---- the state format ------------------------------------------------------------------------

constexpr char kMagic[8] = {'N', 'F', 'V', 'I', 'O', 'P', 'T', '\0'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint32_t kByteOrderTag = 0x01020304u;
constexpr std::uint32_t kByteOrderSwapped = 0x04030201u;
constexpr std::size_t kBufferHeaderBytes = 4 + 4 * 4 + 8;  // rank, dims, element count

const char* real_name(std::uint32_t bytes) {
    return bytes == 4 ? "float" : bytes == 8 ? "double" : "unknown";
}

class Writer {
public:
    explicit Writer(std::vector<std::byte>& out) : out_(out) {}
    template <class T>
    void put(const T& x) {
        raw(&x, sizeof(T));
    }
    void raw(const void* src, std::size_t n) {
        std::size_t at = out_.size();
        out_.resize(at + n);
        if (n) std::memcpy(out_.data() + at, src, n);
    }

private:
    std::vector<std::byte>& out_;
};

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("nfvi: cannot load optimizer state: " + what);
}

class Reader {
public:
    explicit Reader(std::span<const std::byte> in) : in_(in) {}
    template <class T>
    T get(const char* field) {
        T x;
        raw(&x, sizeof(T), field);
        return x;
    }
    void raw(void* dst, std::size_t n, const char* field) {
        need(n, field);
        if (n) std::memcpy(dst, in_.data() + at_, n);
        at_ += n;
    }
    void skip(std::size_t n, const char* field) {
        need(n, field);
        at_ += n;
    }
    std::size_t offset() const { return at_; }
    std::size_t left() const { return in_.size() - at_; }

private:
    void need(std::size_t n, const char* field) const {
        if (left() < n)
            fail("the data is truncated: " + std::string(field) + " needs " + std::to_string(n) +
                 " bytes at offset " + std::to_string(at_) + " but only " + std::to_string(left()) +
                 " remain (of " + std::to_string(in_.size()) +
                 "); the checkpoint is incomplete or corrupt");
    }

    std::span<const std::byte> in_;
    std::size_t at_ = 0;
};

}  // namespace

const char* to_string(OptimizerKind k) {
    switch (k) {
        case OptimizerKind::SGD:
            return "SGD";
        case OptimizerKind::Adam:
            return "Adam";
        case OptimizerKind::RMSprop:
            return "RMSprop";
    }
    return "unknown optimizer";
}

// ---- Optimizer -------------------------------------------------------------------------------

Optimizer::Optimizer(ParameterList params) : params_(std::move(params)) {
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Parameter* p = params_[i];
        if (!p)
            throw std::invalid_argument("nfvi: optimizer given a null parameter (index " +
                                        std::to_string(i) + ")");
        if (!(p->grad.shape() == p->value.shape()))
            throw std::invalid_argument("nfvi: parameter '" + p->name + "' has value " +
                                        p->value.shape().str() + " but grad " +
                                        p->grad.shape().str() + "; they must have the same shape");
        for (std::size_t j = 0; j < i; ++j)
            if (params_[j] == p)
                throw std::invalid_argument("nfvi: parameter '" + p->name +
                                            "' is given to the optimizer twice (indices " +
                                            std::to_string(j) + " and " + std::to_string(i) +
                                            "); list each parameter once");
    }
}

Optimizer::~Optimizer() = default;

void Optimizer::zero_grad() {
    for (Parameter* p : params_) {  // large gradients are shared among the threads
        real* g = p->grad.data();
        for_range(p->grad.numel(), [&](std::int64_t b, std::int64_t e) { std::fill(g + b, g + e, real(0)); });
    }
}

void Optimizer::set_lr(real lr) {
    if (!finite_nonneg(static_cast<double>(lr)))
        throw std::invalid_argument("nfvi: learning rate " + std::to_string(lr) +
                                    " is invalid; it must be finite and >= 0");
    lr_ = lr;
}

void Optimizer::init_state(const double* options) {
    if (!finite_nonneg(options[0]))
        throw std::invalid_argument(std::string("nfvi: ") + to_string(kind()) + " learning rate " +
                                    std::to_string(options[0]) +
                                    " is invalid; it must be finite and >= 0");
    if (const char* err = check_options(options))
        throw std::invalid_argument(std::string("nfvi: ") + to_string(kind()) + ": " + err);
    lr_ = static_cast<real>(options[0]);
    slots_ = slots_for(options);
    state_.clear();
    state_.reserve(static_cast<std::size_t>(slots_) * params_.size());
    for (int s = 0; s < slots_; ++s)
        for (const Parameter* p : params_) state_.emplace_back(p->value.shape());
}

std::vector<std::byte> Optimizer::save_state() const {
    double opts[kMaxOptions] = {};
    get_options(opts);
    const int n_opts = option_count();

    std::size_t total = 8 + 4 * 5 + 8 + 8 * static_cast<std::size_t>(n_opts) + 8;
    for (const Tensor& t : state_)
        total += kBufferHeaderBytes + static_cast<std::size_t>(t.numel()) * sizeof(real);

    std::vector<std::byte> out;
    out.reserve(total);
    Writer w(out);
    w.raw(kMagic, sizeof kMagic);
    w.put(kFormatVersion);
    w.put(kByteOrderTag);
    w.put(static_cast<std::uint32_t>(sizeof(real)));
    w.put(static_cast<std::uint32_t>(kind()));
    w.put(steps_);
    w.put(static_cast<std::uint32_t>(n_opts));
    for (int k = 0; k < n_opts; ++k) w.put(opts[k]);
    w.put(static_cast<std::uint64_t>(state_.size()));
    for (const Tensor& t : state_) {
        const Shape& s = t.shape();
        w.put(static_cast<std::uint32_t>(s.rank));
        for (int d : s.dims) w.put(static_cast<std::int32_t>(d));
        w.put(static_cast<std::int64_t>(t.numel()));
        w.raw(t.data(), static_cast<std::size_t>(t.numel()) * sizeof(real));
    }
    return out;
}

void Optimizer::load_state(std::span<const std::byte> bytes) {
    const std::string me = to_string(kind());
    Reader r(bytes);

    // Header.
    if (bytes.size() < sizeof kMagic)
        fail("the data is truncated: " + std::to_string(bytes.size()) +
             " bytes, too short to be an nfvi optimizer state");
    char magic[sizeof kMagic];
    r.raw(magic, sizeof magic, "the magic");
    if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
        fail(
            "bad magic: this is not an nfvi optimizer state (it should start with \"NFVIOPT\"), "
            "or its first bytes are corrupt");
    const auto version = r.get<std::uint32_t>("the format version");
    if (version != kFormatVersion)
        fail("format version " + std::to_string(version) +
             ", but this build of nfvi reads version " + std::to_string(kFormatVersion));
    const auto order = r.get<std::uint32_t>("the byte-order tag");
    if (order == kByteOrderSwapped)
        fail("it was written on a machine of the other byte order (endianness)");
    if (order != kByteOrderTag) fail("bad byte-order tag; the header is corrupt");
    const auto real_bytes = r.get<std::uint32_t>("the size of real");
    if (real_bytes != sizeof(real))
        fail("it holds " + std::to_string(real_bytes) + "-byte reals (a " + real_name(real_bytes) +
             " build of nfvi), but this build uses " + std::to_string(sizeof(real)) +
             "-byte reals (" + real_name(sizeof(real)) +
             "); resume with a build of the same -Dreal option");
    const auto kind_code = r.get<std::uint32_t>("the optimizer kind");
    if (kind_code != static_cast<std::uint32_t>(kind()))
        fail("it holds " +
             (kind_code >= 1 && kind_code <= 3
                  ? std::string(to_string(static_cast<OptimizerKind>(kind_code))) +
                        " optimizer state"
                  : "the state of an unknown optimizer kind (" + std::to_string(kind_code) + ")") +
             ", but this optimizer is " + me + "; use the same optimizer as the saved run");
    const auto steps = r.get<std::int64_t>("the step count");
    if (steps < 0) fail("negative step count " + std::to_string(steps) + "; the header is corrupt");
    const auto n_opts = r.get<std::uint32_t>("the option count");
    if (n_opts != static_cast<std::uint32_t>(option_count()))
        fail("it has " + std::to_string(n_opts) + " option values, but " + me + " has " +
             std::to_string(option_count()) + "; the header is corrupt");
    double opts[kMaxOptions] = {};
    for (std::uint32_t k = 0; k < n_opts; ++k) {
        opts[k] = r.get<double>("an option value");
        opts[k] = static_cast<double>(static_cast<real>(opts[k]));  // the value a real holds
    }
    if (!finite_nonneg(opts[0]))
        fail("learning rate " + std::to_string(opts[0]) + " is invalid; the header is corrupt");
    if (const char* err = check_options(opts)) fail(std::string(err) + "; the header is corrupt");

    // Buffers: count, then each one's shape against its parameter's.
    const int slots = slots_for(opts);
    const std::uint64_t expected = static_cast<std::uint64_t>(slots) * params_.size();
    const auto n_buf = r.get<std::uint64_t>("the buffer count");
    if (n_buf != expected)
        fail("it has " + std::to_string(n_buf) + " state buffers, but " + std::to_string(slots) +
             " per parameter × " + std::to_string(params_.size()) +
             " parameters = " + std::to_string(expected) +
             " are expected; was it saved over a different list of "
             "parameters?");
    std::vector<std::size_t> value_at(
        static_cast<std::size_t>(n_buf));  // offset of each buffer's values
    for (std::size_t b = 0; b < value_at.size(); ++b) {
        const std::size_t i = b % params_.size();
        const Parameter& p = *params_[i];
        const std::string which = "state buffer " + std::to_string(b) + " (" +
                                  slot_name(static_cast<int>(b / params_.size())) +
                                  " of parameter " + std::to_string(i) + " '" + p.name + "')";
        const auto rank = r.get<std::uint32_t>("a buffer's rank");
        std::int32_t dims[4];
        r.raw(dims, sizeof dims, "a buffer's dims");
        const auto numel = r.get<std::int64_t>("a buffer's element count");
        const Shape& want = p.value.shape();
        bool same = rank == static_cast<std::uint32_t>(want.rank) && numel == want.numel();
        for (std::size_t d = 0; d < 4 && same; ++d) same = d >= rank || dims[d] == want.dims[d];
        if (!same) {
            std::string got = "[";
            for (std::uint32_t d = 0; d < rank && d < 4; ++d)
                got += (d ? "," : "") + std::to_string(dims[d]);
            got += "]";
            fail(which + " has shape " + got + " (" + std::to_string(numel) +
                 " elements), but the parameter has shape " + want.str() + " (" +
                 std::to_string(want.numel()) + "); the model differs from the saved one");
        }
        value_at[b] = r.offset();
        r.skip(static_cast<std::size_t>(numel) * sizeof(real), "a buffer's values");
    }
    if (r.left() != 0)
        fail(std::to_string(r.left()) +
             " unexpected bytes after the last buffer; the data is corrupt");

    // Everything checked: build the new buffers, then commit (nothing below throws but the
    // allocation, which happens before any member changes).
    std::vector<Tensor> fresh;
    fresh.reserve(value_at.size());
    for (std::size_t b = 0; b < value_at.size(); ++b) {
        fresh.emplace_back(params_[b % params_.size()]->value.shape());
        Tensor& t = fresh.back();
        std::memcpy(t.data(), bytes.data() + value_at[b],
                    static_cast<std::size_t>(t.numel()) * sizeof(real));
    }
    state_.swap(fresh);
    slots_ = slots;
    steps_ = steps;
    lr_ = static_cast<real>(opts[0]);
    set_options(opts);
}

// ---- SGD -------------------------------------------------------------------------------------

SGD::SGD(ParameterList params, SGDOptions o) : Optimizer(std::move(params)) {
    const double opts[] = {o.lr, o.momentum};
    init_state(opts);
    set_options(opts);
}

void SGD::get_options(double* out) const {
    out[0] = lr_;
    out[1] = momentum_;
}
const char* SGD::check_options(const double* in) const {
    return in_unit(in[1]) ? nullptr : "momentum must be in [0, 1)";
}
void SGD::set_options(const double* in) { momentum_ = static_cast<real>(in[1]); }
int SGD::slots_for(const double* in) const { return in[1] > 0 ? 1 : 0; }
const char* SGD::slot_name(int) const { return "momentum_buffer"; }

void SGD::step() {
    ++steps_;
    const real lr = lr_, mu = momentum_;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        real* p = params_[i]->value.data();
        const real* g = params_[i]->grad.data();
        if (slots_ == 0) {
            for_range(params_[i]->value.numel(),
                      [&](std::int64_t b, std::int64_t e) { sgd_kernel(p + b, g + b, e - b, lr); });
        } else {
            real* buf = buffer(0, i).data();
            for_range(params_[i]->value.numel(), [&](std::int64_t b, std::int64_t e) {
                sgd_momentum_kernel(p + b, g + b, buf + b, e - b, lr, mu);
            });
        }
    }
}

// ---- Adam ------------------------------------------------------------------------------------

Adam::Adam(ParameterList params, AdamOptions o) : Optimizer(std::move(params)) {
    const double opts[] = {o.lr, o.beta1, o.beta2, o.eps};
    init_state(opts);
    set_options(opts);
}

void Adam::get_options(double* out) const {
    out[0] = lr_;
    out[1] = beta1_;
    out[2] = beta2_;
    out[3] = eps_;
}
const char* Adam::check_options(const double* in) const {
    if (!in_unit(in[1])) return "beta1 must be in [0, 1)";
    if (!in_unit(in[2])) return "beta2 must be in [0, 1)";
    if (!finite_nonneg(in[3])) return "eps must be finite and >= 0";
    return nullptr;
}
void Adam::set_options(const double* in) {
    beta1_ = static_cast<real>(in[1]);
    beta2_ = static_cast<real>(in[2]);
    eps_ = static_cast<real>(in[3]);
}
int Adam::slots_for(const double*) const { return 2; }
const char* Adam::slot_name(int slot) const { return slot == 0 ? "exp_avg" : "exp_avg_sq"; }

void Adam::step() {
    ++steps_;
    // Scalars in double, as torch does in Python, then rounded once to real.
    const double t = static_cast<double>(steps_);
    const double bc1 = 1.0 - std::pow(static_cast<double>(beta1_), t);
    const double bc2 = 1.0 - std::pow(static_cast<double>(beta2_), t);
    const real step_size = static_cast<real>(static_cast<double>(lr_) / bc1);
    const real bc2_sqrt = static_cast<real>(std::sqrt(bc2));
    const real b1 = beta1_, omb1 = static_cast<real>(1.0 - static_cast<double>(beta1_));
    const real b2 = beta2_, omb2 = static_cast<real>(1.0 - static_cast<double>(beta2_));
    const real eps = eps_;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        real* p = params_[i]->value.data();
        const real* g = params_[i]->grad.data();
        real* m = buffer(0, i).data();
        real* v = buffer(1, i).data();
        for_range(params_[i]->value.numel(), [&](std::int64_t b, std::int64_t e) {
            adam_kernel(p + b, g + b, m + b, v + b, e - b, b1, omb1, b2, omb2, step_size, bc2_sqrt,
                        eps);
        });
    }
}

// ---- RMSprop ---------------------------------------------------------------------------------

RMSprop::RMSprop(ParameterList params, RMSpropOptions o) : Optimizer(std::move(params)) {
    const double opts[] = {o.lr, o.alpha, o.eps, o.momentum};
    init_state(opts);
    set_options(opts);
}

void RMSprop::get_options(double* out) const {
    out[0] = lr_;
    out[1] = alpha_;
    out[2] = eps_;
    out[3] = momentum_;
}
const char* RMSprop::check_options(const double* in) const {
    if (!in_unit(in[1])) return "alpha must be in [0, 1)";
    if (!finite_nonneg(in[2])) return "eps must be finite and >= 0";
    if (!in_unit(in[3])) return "momentum must be in [0, 1)";
    return nullptr;
}
void RMSprop::set_options(const double* in) {
    alpha_ = static_cast<real>(in[1]);
    eps_ = static_cast<real>(in[2]);
    momentum_ = static_cast<real>(in[3]);
}
int RMSprop::slots_for(const double* in) const { return in[3] > 0 ? 2 : 1; }
const char* RMSprop::slot_name(int slot) const {
    return slot == 0 ? "square_avg" : "momentum_buffer";
}

void RMSprop::step() {
    ++steps_;
    const real lr = lr_, alpha = alpha_, eps = eps_, mu = momentum_;
    const real oma = static_cast<real>(1.0 - static_cast<double>(alpha_));
    for (std::size_t i = 0; i < params_.size(); ++i) {
        real* p = params_[i]->value.data();
        const real* g = params_[i]->grad.data();
        real* v = buffer(0, i).data();
        if (slots_ == 1) {
            for_range(params_[i]->value.numel(), [&](std::int64_t b, std::int64_t e) {
                rmsprop_kernel(p + b, g + b, v + b, e - b, lr, alpha, oma, eps);
            });
        } else {
            real* buf = buffer(1, i).data();
            for_range(params_[i]->value.numel(), [&](std::int64_t b, std::int64_t e) {
                rmsprop_momentum_kernel(p + b, g + b, v + b, buf + b, e - b, lr, alpha, oma, eps,
                                        mu);
            });
        }
    }
}

// ---- clipping --------------------------------------------------------------------------------

double grad_norm(const ParameterList& params) {
    double total = 0;
    for (const Parameter* p : params) total += sum_squares(p->grad.data(), p->grad.numel());
    return std::sqrt(total);
}

real clip_grad_norm(const ParameterList& params, real max_norm) {
    if (!(max_norm >= 0))
        throw std::invalid_argument("nfvi: clip_grad_norm: max_norm " + std::to_string(max_norm) +
                                    " is invalid; it must be >= 0");
    const double norm = grad_norm(params);
    if (!std::isfinite(norm)) return static_cast<real>(norm);
    const double coef = static_cast<double>(max_norm) / (norm + 1e-6);
    if (coef < 1.0) {
        const real s = static_cast<real>(coef);
        for (Parameter* p : params) {
            real* g = p->grad.data();
            for_range(p->grad.numel(),
                      [&](std::int64_t b, std::int64_t e) { scale_kernel(g + b, e - b, s); });
        }
    }
    return static_cast<real>(norm);
}

}  // namespace nfvi

#undef NFVI_RESTRICT
