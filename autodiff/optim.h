// Optimizers (SGD with momentum, Adam, RMSprop) and global gradient-norm clipping.
//
// An optimizer updates each Parameter's value in place from its grad. Formulas follow
// PyTorch's torch.optim (without weight decay, dampening or Nesterov), so that a run can be
// compared with a PyTorch run of the same model. Its state buffers, one tensor per parameter
// and per "slot" (Adam's m and v, a momentum buffer ...), each of the parameter's shape, are
// allocated in the constructor: step() allocates nothing. Every update is elementwise, so a
// large parameter is split over the thread pool and the result does not depend on the number
// of threads.
//
// Training loop:   opt.zero_grad(); graph.backward(loss); clip_grad_norm(ps, 5); opt.step();
//
// Checkpoint format (save_state / load_state). Every number is stored in the byte order of the
// machine that wrote it (a tag refuses the other byte order); offsets are in bytes.
//
//   header
//     0   8  magic "NFVIOPT\0"
//     8   4  u32 format version, 1
//    12   4  u32 byte-order tag 0x01020304
//    16   4  u32 sizeof(real) of the build that wrote it: 4 (float) or 8 (double)
//    20   4  u32 kind: 1 SGD, 2 Adam, 3 RMSprop                           (OptimizerKind)
//    24   8  i64 step count (steps())
//    32   4  u32 number of option values O
//    36  8*O f64 option values, in order   SGD: lr, momentum
//                                          Adam: lr, beta1, beta2, eps
//                                          RMSprop: lr, alpha, eps, momentum
//     .   8  u64 number of buffers B = slots × number of parameters
//   then B buffers, slot-major (all of slot 0 in parameter order, then slot 1 ...):
//         4  u32 rank (0..4)
//        16  4 × i32 dims (unused trailing dims are 1)
//         8  i64 element count n
//       n*S  n values of type `real` (S = sizeof(real))
//
//   Slots: SGD 1 (momentum_buffer) when momentum > 0, else 0; Adam 2 (exp_avg, exp_avg_sq);
//   RMSprop 1 (square_avg), plus momentum_buffer when momentum > 0.
//
// Buffers hold `real`s, so a state saved by a float build does not load into a double build
// (or the reverse): load_state refuses it and says which sizes differ. The options are part of
// the state and are restored with it (lr included; call set_lr after load_state to change it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "autodiff/parameter.h"
#include "autodiff/tensor.h"

namespace nfvi {

struct SGDOptions {
    real lr = real(1e-2);
    real momentum = 0;  // in [0,1); 0 means plain SGD (no buffer)
};

struct AdamOptions {
    real lr = real(1e-3);
    real beta1 = real(0.9);    // in [0,1)
    real beta2 = real(0.999);  // in [0,1)
    real eps = real(1e-8);     // >= 0, added to sqrt(v̂)
};

struct RMSpropOptions {
    real lr = real(1e-2);
    real alpha = real(0.99);  // in [0,1): decay of the running mean of g²
    real eps = real(1e-8);    // >= 0, added to sqrt(v)
    real momentum = 0;        // in [0,1); 0 means no momentum buffer
};

enum class OptimizerKind : std::uint32_t { SGD = 1, Adam = 2, RMSprop = 3 };
const char* to_string(OptimizerKind k);  // "SGD", "Adam", "RMSprop"

class Optimizer {
public:
    // Takes each parameter once (throws std::invalid_argument on a null or repeated pointer,
    // or a grad whose shape differs from its value's). The parameters must outlive it.
    explicit Optimizer(ParameterList params);
    virtual ~Optimizer();
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    void zero_grad();         // zeroes every parameter's grad
    virtual void step() = 0;  // one update from the current grads
    virtual OptimizerKind kind() const = 0;

    real lr() const { return lr_; }
    void set_lr(real lr);  // for schedules; throws std::invalid_argument unless finite and >= 0
    std::int64_t steps() const { return steps_; }  // number of step() calls so far

    // The state (step count, options, buffers) in the format above. load_state restores it
    // into an optimizer of the same kind over parameters of the same shapes, and throws
    // std::runtime_error saying what differs otherwise; on a throw nothing is changed.
    std::vector<std::byte> save_state() const;
    void load_state(std::span<const std::byte> bytes);

    const ParameterList& params() const { return params_; }

    // State buffer `slot` of parameter i: same shape as params()[i]->value.
    // Slots are listed under "Slots" above; for inspection and tests.
    int slots() const { return slots_; }
    const Tensor& state(int slot, std::size_t i) const {
        return state_[static_cast<std::size_t>(slot) * params_.size() + i];
    }

protected:
    static constexpr int kMaxOptions = 4;

    // Options as doubles (lr first), the count of them, their check, and how many buffers per
    // parameter they need. check_options returns an error message, or nullptr when valid.
    virtual int option_count() const = 0;
    virtual void get_options(double* out) const = 0;
    virtual const char* check_options(const double* in) const = 0;
    virtual void set_options(const double* in) = 0;  // in already checked; lr is set by the base
    virtual int slots_for(const double* in) const = 0;
    virtual const char* slot_name(int slot) const = 0;

    // Called by a derived constructor once its options are set: checks them (throws
    // std::invalid_argument), sets lr and allocates the zeroed buffers.
    void init_state(const double* options);

    Tensor& buffer(int slot, std::size_t i) {
        return state_[static_cast<std::size_t>(slot) * params_.size() + i];
    }

    ParameterList params_;
    real lr_ = 0;
    std::int64_t steps_ = 0;
    int slots_ = 0;
    std::vector<Tensor> state_;  // [slots × params], slot-major; buffer s,i has param i's shape
};

// p -= lr·b where b = μ·b + g (b = g without momentum).
class SGD : public Optimizer {
public:
    SGD(ParameterList params, SGDOptions options = {});
    void step() override;
    OptimizerKind kind() const override { return OptimizerKind::SGD; }
    SGDOptions options() const { return {lr_, momentum_}; }

protected:
    int option_count() const override { return 2; }
    void get_options(double* out) const override;
    const char* check_options(const double* in) const override;
    void set_options(const double* in) override;
    int slots_for(const double* in) const override;
    const char* slot_name(int slot) const override;

private:
    real momentum_ = 0;
};

// Adam (Kingma & Ba), bias-corrected, as torch.optim.Adam: at step t
//   m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//   p -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)
class Adam : public Optimizer {
public:
    Adam(ParameterList params, AdamOptions options = {});
    void step() override;
    OptimizerKind kind() const override { return OptimizerKind::Adam; }
    AdamOptions options() const { return {lr_, beta1_, beta2_, eps_}; }

protected:
    int option_count() const override { return 4; }
    void get_options(double* out) const override;
    const char* check_options(const double* in) const override;
    void set_options(const double* in) override;
    int slots_for(const double* in) const override;
    const char* slot_name(int slot) const override;

private:
    real beta1_ = 0, beta2_ = 0, eps_ = 0;
};

// RMSprop as torch.optim.RMSprop (not centered):
//   v = α v + (1-α) g²
//   with momentum μ > 0: b = μ b + g / (sqrt(v) + eps); p -= lr b
//   without:             p -= lr g / (sqrt(v) + eps)
class RMSprop : public Optimizer {
public:
    RMSprop(ParameterList params, RMSpropOptions options = {});
    void step() override;
    OptimizerKind kind() const override { return OptimizerKind::RMSprop; }
    RMSpropOptions options() const { return {lr_, alpha_, eps_, momentum_}; }

protected:
    int option_count() const override { return 4; }
    void get_options(double* out) const override;
    const char* check_options(const double* in) const override;
    void set_options(const double* in) override;
    int slots_for(const double* in) const override;
    const char* slot_name(int slot) const override;

private:
    real alpha_ = 0, eps_ = 0, momentum_ = 0;
};

// Scales all grads by max_norm / (norm + 1e-6) when that is below 1 (torch's
// clip_grad_norm_), so that their global L2 norm is at most max_norm, and returns the norm
// before clipping. The sum of squares is taken in double, in a fixed order (same bits for any
// thread count). List each parameter once. When the norm is not finite (a NaN or Inf grad) the
// grads are left unchanged and the NaN/Inf is returned, so that the caller can skip the step.
// Throws std::invalid_argument when max_norm is NaN or negative.
real clip_grad_norm(const ParameterList& params, real max_norm);

// The global L2 norm of the grads, as clip_grad_norm measures it (no change to the grads).
double grad_norm(const ParameterList& params);

}  // namespace nfvi
