// hls-gen HLS layer library: reshape. Tensors are flat row-major arrays, so a reshape keeps the
// values in order and casts them to result_t.
#ifndef HLSGEN_RESHAPE_H
#define HLSGEN_RESHAPE_H

#include "common.h"

namespace hlsgen {

template <class C>
void reshape(const typename C::input_t x[C::n], typename C::result_t y[C::n]) {
#pragma HLS PIPELINE II=C::reuse_factor
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = x[i];
    }
}

}  // namespace hlsgen

#endif
