// hls-gen HLS layer library: elementwise activations, each followed by the cast to result_t.
//
// Configuration `C`: input_t, result_t, n (elements); constants' types and broadcast shape
// (alpha_t, alpha_inner, n_alpha, ...) and table types where the activation has them. Scalar
// constants are passed as one-element arrays.
//
// Synthesis contract (common.h): n operators, unrolled, II = 1. Constants are partitioned, so the
// products by alpha are multiplications by constants. sigmoid/tanh read their table n times per
// cycle at data-dependent addresses: the table is bound with BIND_STORAGE type=rom_np (rom_1p or
// rom_2p for one or two reads) to LUTRAM or block RAM by its depth x width ("pragma HLS
// bind_storage"); block RAM has two ports, so n reads take ceil(n / 2) copies.
#ifndef HLSGEN_ACTIVATION_H
#define HLSGEN_ACTIVATION_H

#include "common.h"

namespace hlsgen {

// y = x.
template <class C>
void linear(const typename C::input_t x[C::n], typename C::result_t y[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = x[i];
    }
}

// y = max(x, 0).
template <class C>
void relu(const typename C::input_t x[C::n], typename C::result_t y[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] > 0) {
            y[i] = x[i];
        } else {
            y[i] = 0;
        }
    }
}

// y = x >= 0 ? x : alpha * x, alpha a scalar.
template <class C>
void leaky_relu(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                const typename C::alpha_t alpha[1]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] >= 0) {
            y[i] = x[i];
        } else {
            y[i] = alpha[0] * x[i];
        }
    }
}

// As leaky_relu with the slope broadcast onto x.
template <class C>
void prelu(const typename C::input_t x[C::n], typename C::result_t y[C::n],
           const typename C::alpha_t alpha[C::n_alpha]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] >= 0) {
            y[i] = x[i];
        } else {
            y[i] = alpha[broadcast_index<C::alpha_inner, C::n_alpha>(i)] * x[i];
        }
    }
}

// y = min(max(alpha * x + beta, 0), 1), all exact.
template <class C>
void hard_sigmoid(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                  const typename C::alpha_t alpha[1], const typename C::beta_t beta[1]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        const auto t = alpha[0] * x[i] + beta[0];
        if (t < 0) {
            y[i] = 0;
        } else if (t > 1) {
            y[i] = 1;
        } else {
            y[i] = t;
        }
    }
}

// y = min(max(x, lo), hi).
template <class C>
void clip(const typename C::input_t x[C::n], typename C::result_t y[C::n],
          const typename C::min_t lo[1], const typename C::max_t hi[1]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] < lo[0]) {
            if (lo[0] > hi[0]) {
                y[i] = hi[0];
            } else {
                y[i] = lo[0];
            }
        } else if (x[i] > hi[0]) {
            y[i] = hi[0];
        } else {
            y[i] = x[i];
        }
    }
}

// y = max(x, lo).
template <class C>
void clip_min(const typename C::input_t x[C::n], typename C::result_t y[C::n],
              const typename C::min_t lo[1]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] < lo[0]) {
            y[i] = lo[0];
        } else {
            y[i] = x[i];
        }
    }
}

// y = min(x, hi).
template <class C>
void clip_max(const typename C::input_t x[C::n], typename C::result_t y[C::n],
              const typename C::max_t hi[1]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] > hi[0]) {
            y[i] = hi[0];
        } else {
            y[i] = x[i];
        }
    }
}

// y = table[table_index<table_index_t>(x)]; `sigmoid` and `tanh` differ only in the table.
template <class C>
void table_lookup(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                  const typename C::table_t table[C::table_size]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = table[table_index<typename C::table_index_t>(x[i])];
    }
}

template <class C>
void sigmoid(const typename C::input_t x[C::n], typename C::result_t y[C::n],
             const typename C::table_t table[C::table_size]) {
#pragma HLS INLINE
    table_lookup<C>(x, y, table);
}

template <class C>
void tanh(const typename C::input_t x[C::n], typename C::result_t y[C::n],
          const typename C::table_t table[C::table_size]) {
#pragma HLS INLINE
    table_lookup<C>(x, y, table);
}

// ELU: y = x >= 0 ? x : table[index(x)], the table holding alpha * (e^x - 1).
template <class C>
void elu(const typename C::input_t x[C::n], typename C::result_t y[C::n],
         const typename C::table_t table[C::table_size]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] >= 0) {
            y[i] = x[i];
        } else {
            y[i] = table[table_index<typename C::table_index_t>(x[i])];
        }
    }
}

// SELU: y = x >= 0 ? scale * x : table[index(x)], the table holding scale * alpha * (e^x - 1).
template <class C>
void selu(const typename C::input_t x[C::n], typename C::result_t y[C::n], const typename C::scale_t scale[1],
          const typename C::table_t table[C::table_size]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] >= 0) {
            y[i] = scale[0] * x[i];
        } else {
            y[i] = table[table_index<typename C::table_index_t>(x[i])];
        }
    }
}

// y = x > theta ? x : 0.
template <class C>
void thresholded_relu(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                      const typename C::theta_t theta[1]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (x[i] > theta[0]) {
            y[i] = x[i];
        } else {
            y[i] = 0;
        }
    }
}

// y = x * min(max(alpha * x + beta, 0), 1): the clipped factor exact in hs_t, then the exact
// product.
template <class C>
void hard_swish(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                const typename C::alpha_t alpha[1], const typename C::beta_t beta[1]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        const auto t = alpha[0] * x[i] + beta[0];
        typename C::hs_t h;
        if (t < 0) {
            h = 0;
        } else if (t > 1) {
            h = 1;
        } else {
            h = t;
        }
        y[i] = x[i] * h;
    }
}

}  // namespace hlsgen

#endif
