// hls-gen HLS layer library: convolution (src/ir/layer/conv.rs), 1-D to 3-D, channels-last, with
// strides, dilations, zero padding and groups, computed one output position after the other.
//
// Arithmetic, per output position p and filter f: acc = accum_t(b[f]); for each window input i in
// the order of the contract (kernel positions row-major, then the channels of f's group)
// acc = accum_t(acc + x_i * w_if), a padding position contributing nothing; y[p][f] = result_t(acc).
//
// The emitter computes, for every iteration s and window lane l, the flat index in x of the value
// the lane reads (`src[s][l]`), or n_x for a padding position (read as zero). Lane l of group g
// serves filters g * filters_per_group .. (g + 1) * filters_per_group.
//
// Configuration `C`: input_t, result_t, accum_t, weight_t, bias_t; n_x (input values), positions,
// filters, groups, filters_per_group, reuse_factor (R), per_cycle (K: window inputs per step),
// lanes (groups * K).
//
// Synthesis contract (common.h; UG1399 sections in quotes). One loop of positions * R iterations,
// pipelined with II=1 rewind and nothing else in the function ("Rewinding Pipelined Loops for
// Performance"; UG1448 200-950/200-954): iteration s = p * R + r computes step r of position p. Each
// lane reads its value through a (positions * R):1 multiplexer with constant indices only (the
// unrolled `if (s == t)` chain over the constant table src, compiled only where Vitis HLS defines
// __SYNTHESIS__, "System Calls"; C simulation reads the same element directly, so both branches
// compute the same value and C/RTL co-simulation compares like with like). The lanes' values `v`
// are a completely partitioned local ("pragma HLS array_partition"), one register per lane.
// The weights of step r are the row w[r][.]: at R = 1 a row of constants (every product is a
// multiplication by a constant, the same for every position: filters * window operators), above
// it completely partitioned constants (Latency strategy) or a ROM reshaped into R words (Resource
// strategy), read by filters * K shared multipliers. The result of position p is written to
// y[p * filters + f] in its last step.
// II = positions * R cycles per sample; latency positions * R - 1 cycles plus the iteration's depth.
// Above R = 1 the window is accumulated r-major, which the emitter allows only for an order-free
// accumulator (Conv::order_free), as for dense_multiplexed (dense.h).
#ifndef HLSGEN_CONV_H
#define HLSGEN_CONV_H

#include "common.h"

namespace hlsgen {

// The value lane l reads in iteration s: x[src[s][l]], or zero for a padding position. Synthesis
// sees a multiplexer over all iterations with constant indices only; C simulation (and g++) reads
// the same element directly, which is the same selection in O(1) instead of O(positions * R).
template <class C>
typename C::input_t conv_lane(const typename C::input_t x[C::n_x],
                              const unsigned src[C::positions * C::reuse_factor][C::lanes], unsigned s,
                              unsigned l) {
#pragma HLS INLINE
    typename C::input_t v = 0;
#ifdef __SYNTHESIS__
    for (unsigned t = 0; t < C::positions * C::reuse_factor; t++) {
#pragma HLS UNROLL
        if (s == t && src[t][l] != C::n_x) {
            v = x[src[t][l]];
        }
    }
#else
    if (src[s][l] != C::n_x) {
        v = x[src[s][l]];
    }
#endif
    return v;
}

// Reuse factor 1: the window of one position per iteration, accumulated in the contract's order.
template <class C>
void conv(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions * C::filters],
          const typename C::weight_t w[1][C::filters * C::per_cycle], const typename C::bias_t b[C::filters],
          const unsigned src[C::positions][C::lanes]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS PIPELINE II=1 rewind
        typename C::input_t v[C::lanes];
#pragma HLS ARRAY_PARTITION variable=v type=complete dim=0
        for (unsigned l = 0; l < C::lanes; l++) {
#pragma HLS UNROLL
            v[l] = conv_lane<C>(x, src, p, l);
        }
        for (unsigned f = 0; f < C::filters; f++) {
#pragma HLS UNROLL
            const unsigned g = f / C::filters_per_group;
            typename C::accum_t acc = b[f];
            for (unsigned q = 0; q < C::per_cycle; q++) {
#pragma HLS UNROLL
                acc = acc + v[g * C::per_cycle + q] * w[0][f * C::per_cycle + q];
            }
            y[p * C::filters + f] = acc;
        }
    }
}

// Reuse factor R > 1: step r of a position adds the products of window inputs q * R + r.
template <class C>
void conv_multiplexed(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions * C::filters],
                      const typename C::weight_t w[C::reuse_factor][C::filters * C::per_cycle],
                      const typename C::bias_t b[C::filters],
                      const unsigned src[C::positions * C::reuse_factor][C::lanes]) {
#pragma HLS INLINE
    typename C::accum_t acc[C::filters];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0
    for (unsigned s = 0; s < C::positions * C::reuse_factor; s++) {
#pragma HLS PIPELINE II=1 rewind
        const unsigned r = s % C::reuse_factor;
        const unsigned p = s / C::reuse_factor;
        typename C::input_t v[C::lanes];
#pragma HLS ARRAY_PARTITION variable=v type=complete dim=0
        for (unsigned l = 0; l < C::lanes; l++) {
#pragma HLS UNROLL
            v[l] = conv_lane<C>(x, src, s, l);
        }
        for (unsigned f = 0; f < C::filters; f++) {
#pragma HLS UNROLL
            const unsigned g = f / C::filters_per_group;
            typename C::accum_t sum = 0;
            for (unsigned q = 0; q < C::per_cycle; q++) {
#pragma HLS UNROLL
                sum = sum + typename C::accum_t(v[g * C::per_cycle + q] * w[r][f * C::per_cycle + q]);
            }
            const typename C::accum_t start = r == 0 ? typename C::accum_t(b[f]) : acc[f];
            acc[f] = start + sum;
            if (r == C::reuse_factor - 1) {
                y[p * C::filters + f] = acc[f];
            }
        }
    }
}

}  // namespace hlsgen

#endif
