// hls-gen HLS layer library: rows of a tensor picked by an index computed at run time
// (src/ir/layer/gather_rows.rs): y[k][c] = result_t(x[index[k]][c]).
//
// Configuration `C`: input_t (data), input2_t (index, an integer type), result_t; n_rows (rows of
// x), row (values per row), n_index (entries of index and rows of y).
//
// Synthesis contract (common.h): unrolled, II = 1. Every output value is an n_rows:1 multiplexer
// over constant indices: a balanced tree of 2:1 selects, level l choosing by bit l of the index,
// so its depth is the bit length of n_rows - 1 by construction, whatever HLS rebalances (a chain
// of selects, one per row, would not be rebalanced: UG1399 "pragma HLS expression_balance"
// balances chains of arithmetic and logic operations). The RTL backend builds the same tree.
// The tree reads the index's low bits; a range check per index, beside the tree, makes a last
// select give row 0 for an index outside 0..n_rows: the simulator rejects such inputs, and the
// testbench feeds only inputs it accepted.
#ifndef HLSGEN_GATHER_ROWS_H
#define HLSGEN_GATHER_ROWS_H

#include "common.h"

namespace hlsgen {

// Bit length of v: the levels of a tree of 2:1 selects over v + 1 leaves.
constexpr unsigned select_levels(unsigned v) { return v == 0 ? 0 : 1 + select_levels(v >> 1); }

template <class C>
void gather_rows(const typename C::input_t x[C::n_rows * C::row], const typename C::input2_t index[C::n_index],
                 typename C::result_t y[C::n_index * C::row]) {
#pragma HLS INLINE
    const unsigned levels = select_levels(C::n_rows - 1);
    const unsigned leaves = 1u << levels;
    for (unsigned k = 0; k < C::n_index; k++) {
#pragma HLS UNROLL
        const bool inside = index[k] >= 0 && index[k] < C::n_rows;
        const unsigned sel = unsigned(index[k]);
        for (unsigned c = 0; c < C::row; c++) {
#pragma HLS UNROLL
            typename C::input_t t[leaves];
            for (unsigned r = 0; r < leaves; r++) {
#pragma HLS UNROLL
                t[r] = x[(r < C::n_rows ? r : 0) * C::row + c];
            }
            for (unsigned l = 0; l < levels; l++) {
#pragma HLS UNROLL
                for (unsigned i = 0; i < (leaves >> (l + 1)); i++) {
#pragma HLS UNROLL
                    t[i] = (sel >> l) & 1 ? t[2 * i + 1] : t[2 * i];
                }
            }
            y[k * C::row + c] = inside ? t[0] : x[c];
        }
    }
}

}  // namespace hlsgen

#endif
