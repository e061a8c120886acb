// hls-gen HLS layer library: dense (fully connected) layer, `y = x . W + b` on a 1-D input
// (src/ir/layer/dense.rs).
//
// Arithmetic, per output j: acc = accum_t(b[j]); for each input i in increasing order
// acc = accum_t(acc + x[i] * w[i][j]); y[j] = result_t(acc). A zero weight adds nothing (acc is
// already an accum_t value), so pruned products cost nothing once the weights are constants.
//
// Configuration `C`: input_t, result_t, accum_t, weight_t, bias_t, n_in, n_out; for
// dense_multiplexed also reuse_factor (R, dividing n_in) and per_cycle (K = n_in / R).
//
// Synthesis contract (Vitis HLS; UG1399 sections in quotes). Both functions are inlined into the
// layer function the emitter wraps around them, which holds the weights and bias as static const
// arrays with their pragmas.
//
// dense: the loops are unrolled ("pragma HLS unroll"; inside the pipelined top or a pipelined
// dataflow process they would be anyway: "Function Pipelining"). The weights and bias are
// completely partitioned ("pragma HLS array_partition", type=complete dim=0), so after unrolling
// every read has a constant index and every product is a multiplication by a constant: HLS makes
// it a DSP, shift-and-add logic or nothing (zero and powers of two). II = 1, one operator per
// nonzero weight. Both strategies build this at reuse factor 1.
//
// dense_multiplexed: one loop of R iterations, pipelined with II=1 and rewind, and nothing else
// in the function ("Rewinding Pipelined Loops for Performance": successive calls overlap when the
// loop is the outermost construct of a dataflow process; UG1448 200-950 / 200-954: no code before
// the loop, a single loop). Iteration r multiplies input lane q (q < K) by the weights of every
// output j: n_out * K multipliers, multiplier (j, q) fixed at compile time to output j and to
// inputs q*R .. q*R + R - 1, read through an R:1 multiplexer on r (`step_select`, constant indices
// only). The weights of iteration r are the row w[r][.]: completely partitioned (Latency strategy:
// each weight slot is a constant multiplexer on r) or reshaped along dim 2 into R words and bound
// to a single-port ROM (Resource strategy; LUTRAM or block RAM by depth x width). The interval is R
// cycles per sample; the latency R - 1 cycles plus the iteration's pipeline depth.
//
// Iteration r adds the products of inputs q*R + r, so the sums are accumulated in another order
// than the definition's. The emitter builds this function only when the accumulator makes the
// order irrelevant (Dense::order_free in src/ir/layer/dense.rs): then accum_t(x * w) summed with
// wrap-around, added to the running sum, gives the definition's bits.
#ifndef HLSGEN_DENSE_H
#define HLSGEN_DENSE_H

#include "common.h"

namespace hlsgen {

template <class C>
void dense(const typename C::input_t x[C::n_in], typename C::result_t y[C::n_out],
           const typename C::weight_t w[C::n_in][C::n_out], const typename C::bias_t b[C::n_out]) {
#pragma HLS INLINE
    for (unsigned j = 0; j < C::n_out; j++) {
#pragma HLS UNROLL
        typename C::accum_t acc = b[j];
        for (unsigned i = 0; i < C::n_in; i++) {
#pragma HLS UNROLL
            acc = acc + x[i] * w[i][j];
        }
        y[j] = acc;
    }
}

// x[first + r * Stride] for the step r < Steps, as a multiplexer over constant indices.
template <unsigned Steps, unsigned Stride, class T>
T step_select(const T x[], unsigned first, unsigned r) {
#pragma HLS INLINE
    T v = x[first];
    for (unsigned s = 1; s < Steps; s++) {
#pragma HLS UNROLL
        if (r == s) {
            v = x[first + s * Stride];
        }
    }
    return v;
}

template <class C>
void dense_multiplexed(const typename C::input_t x[C::n_in], typename C::result_t y[C::n_out],
                       const typename C::weight_t w[C::reuse_factor][C::n_out * C::per_cycle],
                       const typename C::bias_t b[C::n_out]) {
#pragma HLS INLINE
    typename C::accum_t acc[C::n_out];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0
    for (unsigned r = 0; r < C::reuse_factor; r++) {
#pragma HLS PIPELINE II=1 rewind
        for (unsigned j = 0; j < C::n_out; j++) {
#pragma HLS UNROLL
            typename C::accum_t s = 0;
            for (unsigned q = 0; q < C::per_cycle; q++) {
#pragma HLS UNROLL
                const typename C::input_t xq = step_select<C::reuse_factor, 1>(x, q * C::reuse_factor, r);
                s = s + typename C::accum_t(xq * w[r][j * C::per_cycle + q]);
            }
            const typename C::accum_t start = r == 0 ? typename C::accum_t(b[j]) : acc[j];
            acc[j] = start + s;
            if (r == C::reuse_factor - 1) {
                y[j] = acc[j];
            }
        }
    }
}

}  // namespace hlsgen

#endif
