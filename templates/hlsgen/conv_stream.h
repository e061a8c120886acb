// hls-gen HLS layer library: convolution (src/ir/layer/conv.rs) in io_stream, 1-D and 2-D,
// channels-last, with strides, dilations, zero padding and groups, one padded input position per
// iteration through a line buffer (stream.h).
//
// Arithmetic (conv.h's at reuse factor 1, bit for bit): for the output pixel whose window has its
// top-left padded corner at (top, left), and filter f of group g = f / filters_per_group:
// acc = accum_t(b[f]); for ki < kernel_h, kj < kernel_w (row-major), then c < group_channels:
// v = the value at padded (top + ki * dilation_h, left + kj * dilation_w), channel
// g * group_channels + c (zero in the padding), acc = accum_t(acc + v * w[f * window +
// (ki * kernel_w + kj) * group_channels + c]); y.data[f] = result_t(acc).
//
// Configuration `C`: input_t, result_t, accum_t, weight_t, bias_t, in_pixel_t (pixel<input_t,
// channels>), out_pixel_t (pixel<result_t, filters>); in_height, in_width, channels, pad_top,
// pad_bottom, pad_left, pad_right, kernel_h, kernel_w, stride_h, stride_w, dilation_h,
// dilation_w, out_height, out_width, filters, groups, group_channels (channels / groups),
// filters_per_group, window (kernel_h * kernel_w * group_channels), reuse_factor (R).
//
// Loop: one loop over the padded input, Hp = pad_top + in_height + pad_bottom rows by
// Wp = pad_left + in_width + pad_right columns, row-major, `PIPELINE II=R`. At padded (i, j) it
// reads one pixel from x iff (i, j) is inside the input (every input pixel is read, also rows and
// columns no window uses), else takes a pixel of zeros; it pushes the pixel into the window
// (stream.h) and, with (top, left) = (i - EH + 1, j - EW + 1), writes output pixel
// (top / stride_h, left / stride_w) iff top >= 0, left >= 0, both divide by their stride and the
// output position is below (out_height, out_width). Cycles per frame: Hp * Wp * R, plus the
// iteration's depth.
//
// Synthesis contract (common.h, stream.h; UG1399 sections in quotes). Storage: the window
// registers (completely partitioned) and the line buffer (aggregated pixels, one memory per row,
// with its exact dependence distance), as stream.h says. Every product of an output pixel is in
// the source, unrolled: filters * window products at R = 1, every index into w and b a constant
// after unrolling (the emitter declares w and b, partitioned as its schedule needs). At R > 1 the same operations
// sit in a loop pipelined with II = R ("pragma HLS pipeline": a new iteration starts every II
// cycles), so one iteration's operations may spread over R cycles and Vitis HLS can bind
// operations scheduled in different cycles modulo R to one operator instance, dividing the
// multipliers by up to R; "pragma HLS allocation" / "Controlling Hardware Implementation" are
// the means to make that a hard limit where the emitter wants one. w must then be readable
// filters * window / R times per cycle, which the emitter arranges where it declares it. The
// arithmetic is the same at every R, so C simulation does not depend on R.
#ifndef HLSGEN_CONV_STREAM_H
#define HLSGEN_CONV_STREAM_H

#include "stream.h"

namespace hlsgen {

template <class C>
void conv_stream(hls::stream<typename C::in_pixel_t> &x, hls::stream<typename C::out_pixel_t> &y,
                 const typename C::weight_t w[C::filters * C::window], const typename C::bias_t b[C::filters]) {
#pragma HLS INLINE
    typedef window_grid<C, C::dilation_h, C::dilation_w> G;
    typedef typename C::input_t input_t;

    typename C::in_pixel_t line[G::lines][G::width];
#pragma HLS AGGREGATE variable=line compact=bit
#pragma HLS ARRAY_PARTITION variable=line type=complete dim=1
    input_t win[G::eh][G::ew][C::channels];
#pragma HLS ARRAY_PARTITION variable=win type=complete dim=0

    unsigned i = 0;
    unsigned j = 0;
    for (unsigned s = 0; s < G::height * G::width; s++) {
#pragma HLS PIPELINE II=C::reuse_factor
#pragma HLS DEPENDENCE variable=line type=inter direction=RAW dependent=true distance=G::width
        window_push<input_t, C::channels, G::eh, G::ew, G::width>(line, win, padded_pixel<C>(x, i, j), j);

        unsigned oh;
        unsigned ow;
        if (window_output<G::eh, G::ew, C::stride_h, C::stride_w, C::out_height, C::out_width>(i, j, oh, ow)) {
            typename C::out_pixel_t o;
            for (unsigned f = 0; f < C::filters; f++) {
#pragma HLS UNROLL
                const unsigned g = f / C::filters_per_group;
                typename C::accum_t acc = b[f];
                for (unsigned ki = 0; ki < C::kernel_h; ki++) {
#pragma HLS UNROLL
                    for (unsigned kj = 0; kj < C::kernel_w; kj++) {
#pragma HLS UNROLL
                        for (unsigned c = 0; c < C::group_channels; c++) {
#pragma HLS UNROLL
                            const input_t v = win[ki * C::dilation_h][kj * C::dilation_w][g * C::group_channels + c];
                            acc = acc + v * w[f * C::window + (ki * C::kernel_w + kj) * C::group_channels + c];
                        }
                    }
                }
                o.data[f] = acc;
            }
            y.write(o);
        }

        grid_step<G::width>(i, j);
    }
}

}  // namespace hlsgen

#endif
