// hls-gen HLS layer library: concatenation. The output is n_outer rows of `row` values; input k
// holds n_outer blocks of Len values, which go to columns Offset .. Offset + Len of every row,
// each converted to result_t. The emitter makes one call per input.
//
// Synthesis contract (common.h): wiring plus a conversion per value where the types differ,
// unrolled, II = 1.
#ifndef HLSGEN_CONCATENATE_H
#define HLSGEN_CONCATENATE_H

#include "common.h"

namespace hlsgen {

template <class C, unsigned Offset, unsigned Len, class X>
void concatenate_part(const X x[C::n_outer * Len], typename C::result_t y[C::n]) {
#pragma HLS INLINE
    for (unsigned o = 0; o < C::n_outer; o++) {
#pragma HLS UNROLL
        for (unsigned i = 0; i < Len; i++) {
#pragma HLS UNROLL
            y[o * C::row + Offset + i] = x[o * Len + i];
        }
    }
}

}  // namespace hlsgen

#endif
