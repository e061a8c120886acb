// hls-gen HLS layer library: whole tensors to and from pixel streams, for the io_stream layers
// that need a whole frame (src/arch/stream.rs, Form::Frame): transposes, reshapes that regroup
// pixels, merges of different shapes.
//
// read_frame<P, C>: reads P pixels of C values, x[p * C + c] = pixel p's value c.
// write_frame<P, C>: writes P pixels of C values, pixel p's value c = y[p * C + c].
//
// Synthesis contract (common.h; UG1399 sections in quotes): one loop over the pixels, pipelined
// with II=1 ("pragma HLS pipeline"), one transfer per iteration; the array is completely
// partitioned where it is declared, so every index is a constant after the inner loop is
// unrolled. P + P' cycles per frame plus the layer's datapath between the loops.
#ifndef HLSGEN_FRAME_H
#define HLSGEN_FRAME_H

#include "stream.h"

namespace hlsgen {

template <unsigned P, unsigned C, class T>
void read_frame(hls::stream<pixel<T, C> > &x, T a[P * C]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < P; p++) {
#pragma HLS PIPELINE II=1
        const pixel<T, C> v = x.read();
        for (unsigned c = 0; c < C; c++) {
#pragma HLS UNROLL
            a[p * C + c] = v.data[c];
        }
    }
}

template <unsigned P, unsigned C, class T>
void write_frame(const T a[P * C], hls::stream<pixel<T, C> > &y) {
#pragma HLS INLINE
    for (unsigned p = 0; p < P; p++) {
#pragma HLS PIPELINE II=1
        pixel<T, C> v;
        for (unsigned c = 0; c < C; c++) {
#pragma HLS UNROLL
            v.data[c] = a[p * C + c];
        }
        y.write(v);
    }
}

}  // namespace hlsgen

#endif
