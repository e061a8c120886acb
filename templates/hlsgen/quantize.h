// hls-gen HLS layer library: an explicit conversion to a type the model fixed (QONNX Quant,
// QDQ), y = result_t(x) with result_t's quantization and overflow modes.
#ifndef HLSGEN_QUANTIZE_H
#define HLSGEN_QUANTIZE_H

#include "common.h"

namespace hlsgen {

template <class C>
void quantize(const typename C::input_t x[C::n], typename C::result_t y[C::n]) {
#pragma HLS PIPELINE II=C::reuse_factor
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = x[i];
    }
}

}  // namespace hlsgen

#endif
