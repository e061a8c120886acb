// hls-gen HLS layer library: spatial zero padding and cropping (src/ir/layer/pad.rs) and nearest
// upsampling by integer factors (src/ir/layer/upsample.rs) in io_stream, 1-D and 2-D,
// channels-last.
//
// pad_stream. Arithmetic: output (r, c) is result_t(input (r - pad_top, c - pad_left)), or zero
// outside the input; a negative pad crops. Configuration `C`: input_t, result_t, in_pixel_t,
// out_pixel_t (pixels of `channels`); in_height, in_width, channels, out_height, out_width, and
// `static const int` pad_top, pad_left. Loop: one loop over the union of the output and the
// shifted input in output coordinates, rows r in [min(0, pad_top), max(out_height, in_height +
// pad_top)) by columns likewise, row-major, `PIPELINE II=1`: at (r, c) it reads a pixel iff
// (r - pad_top, c - pad_left) is inside the input and writes one iff (r, c) is inside the output.
// Every input pixel is read (also those cropped away), in order. Cycles per frame: the grid size.
//
// upsample_stream. Arithmetic: output (oi, oj) is result_t(input (oi / factor_h, oj / factor_w)).
// Configuration `C`: input_t, result_t, in_pixel_t, out_pixel_t; in_height, in_width, channels,
// factor_h, factor_w. Loop: one loop over the output, (in_height * factor_h) x (in_width *
// factor_w), row-major, `PIPELINE II=1`: at (oi, oj) it reads a pixel iff oi % factor_h == 0 and
// oj % factor_w == 0, keeping it in a row buffer at oj / factor_w, and writes the output pixel.
// Cycles per frame: in_height * factor_h * in_width * factor_w.
//
// Synthesis contract (common.h; UG1399 sections in quotes). pad_stream keeps no storage: the grid
// counters decide reads and writes, one pixel register carries the value. upsample_stream keeps
// the last input row in `row[in_width]` of pixels, aggregated into one wide word per pixel ("pragma
// HLS aggregate", "Structs"), one memory; the current pixel `cur` is a register, loaded at
// oj % factor_w == 0 from the stream (first row of a group) or from the row buffer (the others).
// The row buffer is written only in the first row of a group and read only in the others, so a
// read follows the write of its column by exactly out_width = in_width * factor_w iterations,
// stated with `DEPENDENCE variable=row type=inter direction=RAW dependent=true distance=...`
// ("pragma HLS dependence"), which lets the tool keep II = 1 where it could not prove that
// distance from the column counter.
#ifndef HLSGEN_PAD_STREAM_H
#define HLSGEN_PAD_STREAM_H

#include "stream.h"

namespace hlsgen {

// Grid of pad_stream in output coordinates: rows [row_begin, row_end), columns likewise.
template <class C>
struct pad_grid {
    static const int row_begin = C::pad_top < 0 ? C::pad_top : 0;
    static const int col_begin = C::pad_left < 0 ? C::pad_left : 0;
    static const int row_end = int(C::out_height) > int(C::in_height) + C::pad_top
                                   ? int(C::out_height)
                                   : int(C::in_height) + C::pad_top;
    static const int col_end = int(C::out_width) > int(C::in_width) + C::pad_left
                                   ? int(C::out_width)
                                   : int(C::in_width) + C::pad_left;
    static const unsigned rows = unsigned(row_end - row_begin);
    static const unsigned cols = unsigned(col_end - col_begin);
};

template <class C>
void pad_stream(hls::stream<typename C::in_pixel_t> &x, hls::stream<typename C::out_pixel_t> &y) {
#pragma HLS INLINE
    typedef pad_grid<C> G;
    int r = G::row_begin;
    int c = G::col_begin;
    for (unsigned s = 0; s < G::rows * G::cols; s++) {
#pragma HLS PIPELINE II=1
        const int ir = r - C::pad_top;
        const int ic = c - C::pad_left;
        const bool read = ir >= 0 && ir < int(C::in_height) && ic >= 0 && ic < int(C::in_width);
        typename C::in_pixel_t p;
        if (read) {
            p = x.read();
        }
        if (r >= 0 && r < int(C::out_height) && c >= 0 && c < int(C::out_width)) {
            typename C::out_pixel_t o;
            for (unsigned k = 0; k < C::channels; k++) {
#pragma HLS UNROLL
                if (read) {
                    o.data[k] = p.data[k];
                } else {
                    o.data[k] = 0;
                }
            }
            y.write(o);
        }
        if (c + 1 == G::col_end) {
            c = G::col_begin;
            r++;
        } else {
            c++;
        }
    }
}

// Extents of upsample_stream's output.
template <class C>
struct upsample_grid {
    static const unsigned height = C::in_height * C::factor_h;
    static const unsigned width = C::in_width * C::factor_w;
};

template <class C>
void upsample_stream(hls::stream<typename C::in_pixel_t> &x, hls::stream<typename C::out_pixel_t> &y) {
#pragma HLS INLINE
    typedef upsample_grid<C> G;
    typename C::in_pixel_t row[C::in_width];
#pragma HLS AGGREGATE variable=row compact=bit
    typename C::in_pixel_t cur;
    unsigned oi = 0;
    unsigned oj = 0;
    for (unsigned s = 0; s < G::height * G::width; s++) {
#pragma HLS PIPELINE II=1
#pragma HLS DEPENDENCE variable=row type=inter direction=RAW dependent=true distance=G::width
        if (oj % C::factor_w == 0) {
            if (oi % C::factor_h == 0) {
                cur = x.read();
                row[oj / C::factor_w] = cur;
            } else {
                cur = row[oj / C::factor_w];
            }
        }
        typename C::out_pixel_t o;
        for (unsigned k = 0; k < C::channels; k++) {
#pragma HLS UNROLL
            o.data[k] = cur.data[k];
        }
        y.write(o);
        grid_step<G::width>(oi, oj);
    }
}

}  // namespace hlsgen

#endif
