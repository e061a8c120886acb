// hls-gen HLS layer library: max and average pooling (src/ir/layer/pool.rs), unrolled.
//
// The emitter computes, for every output position p and window position t, the flat index of
// the input position in channel 0 (`src[p][t]`; channel c adds c), or n_x for a position outside
// the input (padding), which takes no part. Average pooling multiplies the exact sum by the
// reciprocal of the position's count, `recip[p]` (the contract's r_n, rounded by the emitter as
// Pool::reciprocal_raw says).
//
// Configuration `C`: input_t, result_t, sum_t (exact window sum, average only), recip_t (average
// only); n_x, positions, channels, window.
//
// Synthesis contract (common.h): every output position and channel at once, II = 1: window - 1
// comparisons and selects (max) or adders (average) per output, and for average one product by a
// constant; src and recip are constants, so every index is a wire.
#ifndef HLSGEN_POOL_H
#define HLSGEN_POOL_H

#include "common.h"

namespace hlsgen {

template <class C>
void pool_max(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions * C::channels],
              const unsigned src[C::positions][C::window]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        for (unsigned c = 0; c < C::channels; c++) {
#pragma HLS UNROLL
            bool any = false;
            typename C::input_t m = 0;
            for (unsigned t = 0; t < C::window; t++) {
#pragma HLS UNROLL
                if (src[p][t] != C::n_x) {
                    const typename C::input_t v = x[src[p][t] + c];
                    if (!any || v > m) {
                        m = v;
                    }
                    any = true;
                }
            }
            y[p * C::channels + c] = m;
        }
    }
}

template <class C>
void pool_average(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions * C::channels],
                  const unsigned src[C::positions][C::window], const typename C::recip_t recip[C::positions]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        for (unsigned c = 0; c < C::channels; c++) {
#pragma HLS UNROLL
            typename C::sum_t s = 0;
            for (unsigned t = 0; t < C::window; t++) {
#pragma HLS UNROLL
                if (src[p][t] != C::n_x) {
                    s += x[src[p][t] + c];
                }
            }
            y[p * C::channels + c] = s * recip[p];
        }
    }
}

}  // namespace hlsgen

#endif
