// hls-gen HLS layer library: the element-wise conversion y[i] = result_t(x[i]) (result_t's
// quantization, then overflow mode) of the layers that move data without computing: reshape
// (arrays are flat and row-major, so the values keep their order) and quantize (a conversion to a
// type the model fixed).
//
// Synthesis contract (common.h): n conversions, unrolled, II = 1; wiring when the types are equal.
#ifndef HLSGEN_CAST_H
#define HLSGEN_CAST_H

#include "common.h"

namespace hlsgen {

template <class C>
void cast(const typename C::input_t x[C::n], typename C::result_t y[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = x[i];
    }
}

}  // namespace hlsgen

#endif
