// hls-gen HLS layer library: rows of a tensor picked by an index computed at run time
// (src/ir/layer/gather_rows.rs): y[k][c] = result_t(x[index[k]][c]).
//
// Configuration `C`: input_t (data), input2_t (index, an integer type), result_t; n_rows (rows of
// x), row (values per row), n_index (entries of index and rows of y).
//
// Synthesis contract (common.h): unrolled, II = 1. Every output value is an n_rows:1 multiplexer
// over constant indices, selected by comparing its index with each row number. An index outside
// 0..n_rows selects row 0: the simulator rejects such inputs, and the testbench feeds only
// inputs it accepted.
#ifndef HLSGEN_GATHER_ROWS_H
#define HLSGEN_GATHER_ROWS_H

#include "common.h"

namespace hlsgen {

template <class C>
void gather_rows(const typename C::input_t x[C::n_rows * C::row], const typename C::input2_t index[C::n_index],
                 typename C::result_t y[C::n_index * C::row]) {
#pragma HLS INLINE
    for (unsigned k = 0; k < C::n_index; k++) {
#pragma HLS UNROLL
        for (unsigned c = 0; c < C::row; c++) {
#pragma HLS UNROLL
            typename C::input_t v = x[c];
            for (unsigned r = 1; r < C::n_rows; r++) {
#pragma HLS UNROLL
                if (index[k] == r) {
                    v = x[r * C::row + c];
                }
            }
            y[k * C::row + c] = v;
        }
    }
}

}  // namespace hlsgen

#endif
