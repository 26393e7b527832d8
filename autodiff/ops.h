// The ops users call. Each evaluates now and records itself on the graph of its inputs.
//
// Shapes: a tensor is a matrix [m,n] to every op (tensor.h). Binary ops broadcast a row
// [1,n], a column [m,1] or a scalar [1,1] against [m,n], on either side. Reductions along an
// axis keep it: sum(x [m,n], 0) is [1,n], sum(x, 1) is [m,1]; sum(x) is [1,1].
#pragma once

#include "autodiff/graph.h"
#include "autodiff/op_table.h"

namespace nfvi {

// Binary, with broadcasting.
Var add(Var a, Var b);
Var sub(Var a, Var b);
Var mul(Var a, Var b);
Var div(Var a, Var b);
Var neg(Var x);
Var affine(Var x, real scale, real shift);  // scale * x + shift

inline Var operator+(Var a, Var b) { return add(a, b); }
inline Var operator-(Var a, Var b) { return sub(a, b); }
inline Var operator*(Var a, Var b) { return mul(a, b); }
inline Var operator/(Var a, Var b) { return div(a, b); }
inline Var operator-(Var x) { return neg(x); }
inline Var operator+(Var x, real c) { return affine(x, 1, c); }
inline Var operator+(real c, Var x) { return affine(x, 1, c); }
inline Var operator-(Var x, real c) { return affine(x, 1, -c); }
inline Var operator-(real c, Var x) { return affine(x, -1, c); }
inline Var operator*(Var x, real c) { return affine(x, c, 0); }
inline Var operator*(real c, Var x) { return affine(x, c, 0); }
inline Var operator/(Var x, real c) { return affine(x, real(1) / c, 0); }

// op(a) · op(b), where op transposes when asked: [m,k]·[k,n] -> [m,n].
Var matmul(Var a, Var b, bool trans_a = false, bool trans_b = false);

// Elementwise.
Var exp(Var x);
Var log(Var x);
Var log1p(Var x);
Var tanh(Var x);
Var sigmoid(Var x);
Var softplus(Var x);  // log(1 + e^x), stable for large |x|
Var elu(Var x, real alpha = 1);
Var relu(Var x);
Var sqrt(Var x);
Var square(Var x);
Var abs(Var x);
Var pow(Var x, real p);  // x^p for a constant p (x > 0 unless p is a whole number)
Var sin(Var x);
Var cos(Var x);

// Reductions.
Var sum(Var x);             // [1,1]
Var sum(Var x, int axis);   // axis 0: [1,n]; axis 1: [m,1]
Var mean(Var x);
Var mean(Var x, int axis);
Var max(Var x, int axis);   // the gradient goes to the first maximum
Var logsumexp(Var x, int axis);

// Shape.
Var slice_cols(Var x, int begin, int end);  // columns [begin, end)
Var concat_cols(Var a, Var b);              // [m,p] and [m,q] -> [m,p+q]
Var reshape(Var x, Shape s);                // same number of elements
Var repeat_rows(Var x, int times);          // [n,d] -> [n*times,d], row i*times+s = row i

// Fused.
Var linear(Var x, Var w, Var b);                 // x [n,in], w [out,in], b [1,out] -> x·wᵀ + b
Var bernoulli_logits_loglik(Var logits, Var x);  // [n,d],[n,d] -> [n,1]: Σ_j x·l − softplus(l)
// One planar flow layer (flows/planar.h has the formulas): z [n,d], raw params [1,2d+1] or
// [n,2d+1] as [u, w, b] -> [n,d+1] holding z' in columns 0..d−1 and log|det J| in column d.
Var planar_layer(Var z, Var params);
// K planar layers in sequence, in one node: z [n,d], raw params [1,c] or [n,c] of which layer
// k reads the 2d+1 columns from begin + k(2d+1) -> [n,d+1] holding z_K in columns 0..d−1 and
// Σ_k log|det J_k| in column d. planar_layer(z, p) is planar_layers(z, p, 0, 1).
Var planar_layers(Var z, Var params, int begin, int layers);

}  // namespace nfvi
