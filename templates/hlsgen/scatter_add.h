// hls-gen HLS layer library: rows summed into the rows an index computed at run time names
// (src/ir/layer/scatter_add.rs): y[r][c] = result_t(sum of x[k][c] over the k with index[k] == r).
//
// Configuration `C`: input_t (data), input2_t (index, an integer type), result_t, accum_t (the
// exact sum: no addition rounds or overflows, so the order of the sum does not matter); n_rows
// (rows of y), row (values per row), n_index (entries of index and rows of x).
//
// Synthesis contract (common.h): unrolled, II = 1. Every output value sums n_index terms, each
// the input x[k][c] where index[k] equals its row number and zero elsewhere: a comparison and a
// select per term, then a chain of additions and nothing else, which HLS rebuilds as a balanced
// adder tree (UG1399 "pragma HLS expression_balance": on by default for integer operations, so
// for ap_fixed; the sum is exact, so the tree's order gives the same bits). An index outside
// 0..n_rows adds nothing.
#ifndef HLSGEN_SCATTER_ADD_H
#define HLSGEN_SCATTER_ADD_H

#include "common.h"

namespace hlsgen {

template <class C>
void scatter_add(const typename C::input_t x[C::n_index * C::row], const typename C::input2_t index[C::n_index],
                 typename C::result_t y[C::n_rows * C::row]) {
#pragma HLS INLINE
    for (unsigned r = 0; r < C::n_rows; r++) {
#pragma HLS UNROLL
        for (unsigned c = 0; c < C::row; c++) {
#pragma HLS UNROLL
            typename C::accum_t acc = 0;
            for (unsigned k = 0; k < C::n_index; k++) {
#pragma HLS UNROLL
                acc += index[k] == r ? typename C::accum_t(x[k * C::row + c]) : typename C::accum_t(0);
            }
            y[r * C::row + c] = acc;
        }
    }
}

}  // namespace hlsgen

#endif
