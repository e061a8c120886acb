// hls-gen HLS layer library: data movement by a compile-time index map, for padding and
// cropping (src/ir/layer/pad.rs), nearest upsampling (upsample.rs) and transposes (transpose.rs):
// y[i] = result_t(x[src[i]]), or result_t(0) where src[i] is n_x (a padded position).
//
// Configuration `C`: input_t, result_t; n_x (input values), n (output values).
//
// Synthesis contract (common.h): unrolled, II = 1; src is a table of constants, so every output
// is a wire (or the constant zero), plus the conversion where the types differ.
#ifndef HLSGEN_GATHER_H
#define HLSGEN_GATHER_H

#include "common.h"

namespace hlsgen {

template <class C>
void gather(const typename C::input_t x[C::n_x], typename C::result_t y[C::n], const unsigned src[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        if (src[i] == C::n_x) {
            y[i] = 0;
        } else {
            y[i] = x[src[i]];
        }
    }
}

}  // namespace hlsgen

#endif
