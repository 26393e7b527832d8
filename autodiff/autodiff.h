// Everything of nfvi's autodiff engine, in one include.
#pragma once

#include "autodiff/config.h"
#include "autodiff/gemm.h"
#include "autodiff/gradcheck.h"
#include "autodiff/graph.h"
#include "autodiff/ops.h"
#include "autodiff/optim.h"
#include "autodiff/parameter.h"
#include "autodiff/rng.h"
#include "autodiff/tensor.h"
#include "autodiff/thread_pool.h"
