// hls-gen HLS layer library: max and average pooling (src/ir/layer/pool.rs) in io_stream, 1-D and
// 2-D, channels-last, one padded input position per iteration through a line buffer (stream.h).
//
// Arithmetic (pool.h's, bit for bit): the window of an output pixel covers padded rows
// top .. top + kernel_h - 1 and columns left .. left + kernel_w - 1; positions in the padding take
// no part (they are not zeros; "inside" is computed from the padded coordinates). Per channel c,
// over the inside positions in row-major order: max: m = the first value, then `if (v > m) m = v`,
// y.data[c] = result_t(m) (zero if no position is inside, as pool.h); average: sum_t s = 0,
// s += v, y.data[c] = result_t(s * recip[o]) with o = output row * out_width + output column and
// recip the reciprocal of the count of inside positions (Pool::reciprocal_raw).
//
// Configuration `C`: input_t, result_t, sum_t and recip_t (average only), in_pixel_t
// (pixel<input_t, channels>), out_pixel_t (pixel<result_t, channels>); in_height, in_width,
// channels, pad_top, pad_bottom, pad_left, pad_right, kernel_h, kernel_w, stride_h, stride_w,
// out_height, out_width.
//
// Loop: conv_stream's (conv_stream.h) with dilation 1 and `PIPELINE II=1`: Hp * Wp iterations
// over the padded input, each reading one pixel iff its position is inside the input and writing
// the output pixel whose window it completes. Cycles per frame: Hp * Wp, plus the iteration's
// depth.
//
// Synthesis contract (common.h, stream.h): window registers and line buffer as stream.h says;
// per output pixel kernel_h * kernel_w - 1 comparisons and selects (max) or adders (average) per
// channel, unrolled, and for average one product by recip[o], a constant the emitter declares.
// The inside tests compare the loop's row and column counters with constants.
#ifndef HLSGEN_POOL_STREAM_H
#define HLSGEN_POOL_STREAM_H

#include "stream.h"

namespace hlsgen {

// Whether window row ki (column kj) of the window with top-left padded corner top (left) lies in
// the input rather than in the padding.
template <class C>
inline bool pool_row_inside(unsigned top, unsigned ki) {
#pragma HLS INLINE
    return top + ki >= C::pad_top && top + ki < C::pad_top + C::in_height;
}

template <class C>
inline bool pool_col_inside(unsigned left, unsigned kj) {
#pragma HLS INLINE
    return left + kj >= C::pad_left && left + kj < C::pad_left + C::in_width;
}

template <class C>
void pool_max_stream(hls::stream<typename C::in_pixel_t> &x, hls::stream<typename C::out_pixel_t> &y) {
#pragma HLS INLINE
    typedef window_grid<C, 1, 1> G;
    typedef typename C::input_t input_t;

    typename C::in_pixel_t line[G::lines][G::width];
#pragma HLS AGGREGATE variable=line compact=bit
#pragma HLS ARRAY_PARTITION variable=line type=complete dim=1
    input_t win[G::eh][G::ew][C::channels];
#pragma HLS ARRAY_PARTITION variable=win type=complete dim=0

    unsigned i = 0;
    unsigned j = 0;
    for (unsigned s = 0; s < G::height * G::width; s++) {
#pragma HLS PIPELINE II=1
#pragma HLS DEPENDENCE variable=line type=inter direction=RAW dependent=true distance=G::width
        window_push<input_t, C::channels, G::eh, G::ew, G::width>(line, win, padded_pixel<C>(x, i, j), j);

        unsigned oh;
        unsigned ow;
        if (window_output<G::eh, G::ew, C::stride_h, C::stride_w, C::out_height, C::out_width>(i, j, oh, ow)) {
            const unsigned top = i + 1 - G::eh;
            const unsigned left = j + 1 - G::ew;
            typename C::out_pixel_t o;
            for (unsigned c = 0; c < C::channels; c++) {
#pragma HLS UNROLL
                bool any = false;
                input_t m = 0;
                for (unsigned ki = 0; ki < C::kernel_h; ki++) {
#pragma HLS UNROLL
                    for (unsigned kj = 0; kj < C::kernel_w; kj++) {
#pragma HLS UNROLL
                        if (pool_row_inside<C>(top, ki) && pool_col_inside<C>(left, kj)) {
                            const input_t v = win[ki][kj][c];
                            if (!any || v > m) {
                                m = v;
                            }
                            any = true;
                        }
                    }
                }
                o.data[c] = m;
            }
            y.write(o);
        }

        grid_step<G::width>(i, j);
    }
}

template <class C>
void pool_average_stream(hls::stream<typename C::in_pixel_t> &x, hls::stream<typename C::out_pixel_t> &y,
                         const typename C::recip_t recip[C::out_height * C::out_width]) {
#pragma HLS INLINE
    typedef window_grid<C, 1, 1> G;
    typedef typename C::input_t input_t;

    typename C::in_pixel_t line[G::lines][G::width];
#pragma HLS AGGREGATE variable=line compact=bit
#pragma HLS ARRAY_PARTITION variable=line type=complete dim=1
    input_t win[G::eh][G::ew][C::channels];
#pragma HLS ARRAY_PARTITION variable=win type=complete dim=0

    unsigned i = 0;
    unsigned j = 0;
    for (unsigned s = 0; s < G::height * G::width; s++) {
#pragma HLS PIPELINE II=1
#pragma HLS DEPENDENCE variable=line type=inter direction=RAW dependent=true distance=G::width
        window_push<input_t, C::channels, G::eh, G::ew, G::width>(line, win, padded_pixel<C>(x, i, j), j);

        unsigned oh;
        unsigned ow;
        if (window_output<G::eh, G::ew, C::stride_h, C::stride_w, C::out_height, C::out_width>(i, j, oh, ow)) {
            const unsigned top = i + 1 - G::eh;
            const unsigned left = j + 1 - G::ew;
            typename C::out_pixel_t o;
            for (unsigned c = 0; c < C::channels; c++) {
#pragma HLS UNROLL
                typename C::sum_t sum = 0;
                for (unsigned ki = 0; ki < C::kernel_h; ki++) {
#pragma HLS UNROLL
                    for (unsigned kj = 0; kj < C::kernel_w; kj++) {
#pragma HLS UNROLL
                        if (pool_row_inside<C>(top, ki) && pool_col_inside<C>(left, kj)) {
                            sum += win[ki][kj][c];
                        }
                    }
                }
                o.data[c] = sum * recip[oh * C::out_width + ow];
            }
            y.write(o);
        }

        grid_step<G::width>(i, j);
    }
}

}  // namespace hlsgen

#endif
