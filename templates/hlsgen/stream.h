// hls-gen HLS layer library: the io_stream tensor format and the sliding window shared by
// conv_stream.h and pool_stream.h.
//
// In io_stream a tensor [H, W, C] (channels-last; a 1-D tensor [W, C] has H = 1) travels as an
// hls::stream of pixels in row-major order, one pixel (all C channels) per transfer: a pixel is a
// struct holding one array, and a stream moves whole objects, so one read or write carries the C
// values side by side.
//
// The sliding window: a layer that reads a window of EH rows by EW columns (EH = dilation_h *
// (kernel_h - 1) + 1, EW likewise) walks the padded input Hp x Wp row-major, one padded position
// per iteration. It keeps the last EH - 1 padded rows in a line buffer `line[EH - 1][Wp]` of
// pixels (one memory per row, indexed by column) and the last EW columns of EH rows in the
// window registers `win[EH][EW][N]`. window_push moves the window one column right: every
// register column shifts left, the new right column is the column j of the EH - 1 stored rows
// followed by the new pixel, and each row memory takes the value of the row below it at column j
// (the oldest row leaves, the new pixel enters the newest row). Padding is never stored beyond
// these: a padding position enters as a pixel of zeros.
//
// Synthesis contract (common.h; UG1399 sections in quotes). The caller declares both arrays with
// their pragmas (an array is partitioned where it is declared):
// * win: `ARRAY_PARTITION type=complete dim=0`, one register per value ("pragma HLS
//   array_partition"), read with constant indices only;
// * line: `AGGREGATE` (an array of structs becomes an array of wide words holding a whole pixel,
//   "pragma HLS aggregate", "Structs"; without it the struct is disaggregated into one array per
//   member) and `ARRAY_PARTITION type=complete dim=1` (one memory per stored row, Wp words deep,
//   so the EH - 1 rows are read and written in the same cycle). No ARRAY_RESHAPE is used on it:
//   partition and reshape on one array conflict ("pragma HLS array_reshape", common.h).
// * line is read at column j and written at column j in every iteration; the same column is next
//   touched Wp iterations later. The caller states that exact distance with `DEPENDENCE
//   variable=line type=inter direction=RAW dependent=true distance=<Wp>` ("pragma HLS
//   dependence"): without it the analysis cannot see through the column counter and assumes a
//   distance of one iteration, and since each row's new value is the read of the row below, a
//   distance-one RAW through a memory with a read latency forbids II = 1. With the true distance
//   the pipeline keeps II = 1 whenever Wp * II covers the read-to-write latency, and is still
//   correct (the tool then raises the II) for a one-column input.
#ifndef HLSGEN_STREAM_H
#define HLSGEN_STREAM_H

#include "hls_stream.h"
#include "common.h"

namespace hlsgen {

template <class T, unsigned N>
struct pixel {
    T data[N];
};

// Rows of a line buffer for a window EH rows high: EH - 1, but at least one so that the array is
// never empty (a window one row high reads no stored row).
template <unsigned EH>
struct line_rows {
    static const unsigned value = EH > 1 ? EH - 1 : 1;
};

// Grid of a sliding window over the padded input of configuration C (conv_stream, pool_stream):
// extents of the window (EH, EW) and of the padded input (Hp, Wp).
template <class C, unsigned DH, unsigned DW>
struct window_grid {
    static const unsigned eh = DH * (C::kernel_h - 1) + 1;
    static const unsigned ew = DW * (C::kernel_w - 1) + 1;
    static const unsigned height = C::pad_top + C::in_height + C::pad_bottom;
    static const unsigned width = C::pad_left + C::in_width + C::pad_right;
    static const unsigned lines = line_rows<eh>::value;
};

// Whether padded position (i, j) of configuration C holds an input pixel.
template <class C>
inline bool padded_inside(unsigned i, unsigned j) {
#pragma HLS INLINE
    return i >= C::pad_top && i < C::pad_top + C::in_height && j >= C::pad_left && j < C::pad_left + C::in_width;
}

// The pixel at padded position (i, j) of configuration C: the next pixel of x when the position
// holds one, zeros in the padding (nothing is read).
template <class C>
typename C::in_pixel_t padded_pixel(hls::stream<typename C::in_pixel_t> &x, unsigned i, unsigned j) {
#pragma HLS INLINE
    typename C::in_pixel_t p;
    if (padded_inside<C>(i, j)) {
        p = x.read();
    } else {
        for (unsigned c = 0; c < C::channels; c++) {
#pragma HLS UNROLL
            p.data[c] = 0;
        }
    }
    return p;
}

// The next position (i, j) of a row-major walk over a grid `Width` columns wide.
template <unsigned Width>
inline void grid_step(unsigned &i, unsigned &j) {
#pragma HLS INLINE
    if (j + 1 == Width) {
        j = 0;
        i++;
    } else {
        j++;
    }
}

// Moves the window one column right onto padded column j, with `p` the pixel at the current
// padded position (see the contract above).
template <class T, unsigned N, unsigned EH, unsigned EW, unsigned Wp>
void window_push(pixel<T, N> line[line_rows<EH>::value][Wp], T win[EH][EW][N], const pixel<T, N> &p, unsigned j) {
#pragma HLS INLINE
    for (unsigned r = 0; r < EH; r++) {
#pragma HLS UNROLL
        for (unsigned q = 0; q + 1 < EW; q++) {
#pragma HLS UNROLL
            for (unsigned c = 0; c < N; c++) {
#pragma HLS UNROLL
                win[r][q][c] = win[r][q + 1][c];
            }
        }
    }
    for (unsigned r = 0; r + 1 < EH; r++) {
#pragma HLS UNROLL
        const pixel<T, N> stored = line[r][j];
        for (unsigned c = 0; c < N; c++) {
#pragma HLS UNROLL
            win[r][EW - 1][c] = stored.data[c];
        }
    }
    for (unsigned c = 0; c < N; c++) {
#pragma HLS UNROLL
        win[EH - 1][EW - 1][c] = p.data[c];
    }
    for (unsigned r = 0; r + 1 < EH; r++) {
#pragma HLS UNROLL
        pixel<T, N> moved;
        for (unsigned c = 0; c < N; c++) {
#pragma HLS UNROLL
            moved.data[c] = win[r + 1][EW - 1][c];
        }
        line[r][j] = moved;
    }
}

// Whether the window whose bottom-right padded corner is (i, j) is an output position of a grid
// with window extents EH x EW, strides SH x SW and OH x OW outputs; if so, its output row and
// column.
template <unsigned EH, unsigned EW, unsigned SH, unsigned SW, unsigned OH, unsigned OW>
inline bool window_output(unsigned i, unsigned j, unsigned &oh, unsigned &ow) {
#pragma HLS INLINE
    if (i + 1 < EH || j + 1 < EW) {
        return false;
    }
    const unsigned top = i + 1 - EH;
    const unsigned left = j + 1 - EW;
    oh = top / SH;
    ow = left / SW;
    return top % SH == 0 && left % SW == 0 && oh < OH && ow < OW;
}

}  // namespace hlsgen

#endif
