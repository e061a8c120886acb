// hls-gen HLS layer library: table-based softmax over the last axis (src/ir/layer/softmax.rs).
//
// For each row of n values:
// 1. m = max_i x_i; d_i = m - x_i, exact in diff_t (unsigned, same width and integer bits);
// 2. e_i = exp_table[table_index<exp_table_index_t>(d_i)];
// 3. s = sum_i e_i, exact in sum_t (ceil(log2 n) more integer bits than the table type);
// 4. r = inv_table[table_index<inv_table_index_t>(s)];
// 5. y_i = result_t(e_i * r).
//
// Synthesis contract (common.h): unrolled, II = 1. Per row: n - 1 comparisons for the maximum, n
// subtractions, n reads of exp_table, an adder tree, one read of inv_table, n multiplications.
// Both tables are bound with BIND_STORAGE (exp_table rom_np: read n_rows * n times per cycle;
// inv_table by its n_rows reads) to LUTRAM or block RAM by depth x width ("pragma HLS
// bind_storage"); block RAM gives two reads per copy.
#ifndef HLSGEN_SOFTMAX_H
#define HLSGEN_SOFTMAX_H

#include "common.h"

namespace hlsgen {

template <class C>
void softmax(const typename C::input_t x[C::n_rows * C::n], typename C::result_t y[C::n_rows * C::n],
             const typename C::exp_table_t exp_table[C::exp_table_size],
             const typename C::inv_table_t inv_table[C::inv_table_size]) {
#pragma HLS INLINE
    for (unsigned row = 0; row < C::n_rows; row++) {
#pragma HLS UNROLL
        const unsigned base = row * C::n;
        typename C::input_t m = x[base];
        for (unsigned i = 1; i < C::n; i++) {
#pragma HLS UNROLL
            if (x[base + i] > m) {
                m = x[base + i];
            }
        }
        typename C::exp_table_t e[C::n];
#pragma HLS ARRAY_PARTITION variable=e type=complete
        typename C::sum_t s = 0;
        for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
            const typename C::diff_t d = m - x[base + i];
            e[i] = exp_table[table_index<typename C::exp_table_index_t>(d)];
            s += e[i];
        }
        const typename C::inv_table_t r = inv_table[table_index<typename C::inv_table_index_t>(s)];
        for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
            y[base + i] = e[i] * r;
        }
    }
}

}  // namespace hlsgen

#endif
