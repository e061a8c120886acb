// hls-gen HLS layer library: standalone batch normalization, y = x * scale[c] + bias[c] with c
// the index on the last axis (scale and bias broadcast onto x), then the cast to result_t.
//
// Synthesis contract (common.h): n multiply-adds by constants (scale and bias are partitioned),
// unrolled, II = 1.
#ifndef HLSGEN_BATCH_NORM_H
#define HLSGEN_BATCH_NORM_H

#include "common.h"

namespace hlsgen {

template <class C>
void batch_norm(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                const typename C::scale_t scale[C::n_scale], const typename C::bias_t bias[C::n_bias]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = x[i] * scale[broadcast_index<C::scale_inner, C::n_scale>(i)] +
               bias[broadcast_index<C::bias_inner, C::n_bias>(i)];
    }
}

}  // namespace hlsgen

#endif
