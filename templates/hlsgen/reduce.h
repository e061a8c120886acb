// hls-gen HLS layer library: reductions over some axes (src/ir/layer/reduce.rs), unrolled.
//
// Arithmetic (the layer's contract): for every output position p, its n input values
// x[src[p][k]] (the emitter's flat indices, row-major over the reduced coordinates) are reduced
// exactly in sum_t, the exact type of the sum the op forms: reduce_sum sums v, reduce_l1 |v|,
// reduce_sum_square and reduce_l2 v * v; reduce_mean multiplies the exact sum by the constant
// recip (1 / n rounded as Pool::reciprocal_raw says), the product exact; reduce_max and
// reduce_min select exactly among the input values; reduce_l2 reads table[index(s)] (common.h
// table_index, the table holding sqrt). The only rounding and overflow is the assignment to
// result_t (and for L2 the table's index cast).
//
// Configuration `C`: input_t, result_t, sum_t (every op but max and min), recip_t (mean),
// table_t, table_index_t, table_size (L2); n_x (input elements), positions (outputs), n.
//
// Synthesis contract (common.h; UG1399 "Loop Unrolling" and "Array Partitioning", "pragma HLS
// unroll", "pragma HLS inline"): every output at once, II = 1: n - 1 adders of sum_t (and n
// multipliers for the squares, one constant product for the mean) or n - 1 comparisons and
// selects per output; src and recip are constants, so every index is a wire; the L2 table is a
// ROM of the design's storage, read once per output.
#ifndef HLSGEN_REDUCE_H
#define HLSGEN_REDUCE_H

#include "common.h"

namespace hlsgen {

// The exact sum of one output's values (|v| for L1).
template <class C, bool Abs>
typename C::sum_t reduce_total(const typename C::input_t x[C::n_x], const unsigned src[C::n]) {
#pragma HLS INLINE
    typename C::sum_t s = 0;
    for (unsigned k = 0; k < C::n; k++) {
#pragma HLS UNROLL
        const typename C::input_t v = x[src[k]];
        if (Abs && v < 0) {
            s -= v;
        } else {
            s += v;
        }
    }
    return s;
}

template <class C>
typename C::sum_t reduce_squares(const typename C::input_t x[C::n_x], const unsigned src[C::n]) {
#pragma HLS INLINE
    typename C::sum_t s = 0;
    for (unsigned k = 0; k < C::n; k++) {
#pragma HLS UNROLL
        const typename C::input_t v = x[src[k]];
        s += v * v;
    }
    return s;
}

// The largest (Greater) or smallest of one output's values, the first of equal ones.
template <class C, bool Greater>
typename C::input_t reduce_extreme(const typename C::input_t x[C::n_x], const unsigned src[C::n]) {
#pragma HLS INLINE
    typename C::input_t m = x[src[0]];
    for (unsigned k = 1; k < C::n; k++) {
#pragma HLS UNROLL
        const typename C::input_t v = x[src[k]];
        if (Greater ? v > m : v < m) {
            m = v;
        }
    }
    return m;
}

template <class C>
void reduce_sum(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions],
                const unsigned src[C::positions][C::n]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        y[p] = reduce_total<C, false>(x, src[p]);
    }
}

template <class C>
void reduce_l1(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions],
               const unsigned src[C::positions][C::n]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        y[p] = reduce_total<C, true>(x, src[p]);
    }
}

template <class C>
void reduce_sum_square(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions],
                       const unsigned src[C::positions][C::n]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        y[p] = reduce_squares<C>(x, src[p]);
    }
}

template <class C>
void reduce_l2(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions],
               const unsigned src[C::positions][C::n], const typename C::table_t table[C::table_size]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        y[p] = table[table_index<typename C::table_index_t>(reduce_squares<C>(x, src[p]))];
    }
}

template <class C>
void reduce_mean(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions],
                 const unsigned src[C::positions][C::n], const typename C::recip_t recip[1]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        y[p] = reduce_total<C, false>(x, src[p]) * recip[0];
    }
}

template <class C>
void reduce_max(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions],
                const unsigned src[C::positions][C::n]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        y[p] = reduce_extreme<C, true>(x, src[p]);
    }
}

template <class C>
void reduce_min(const typename C::input_t x[C::n_x], typename C::result_t y[C::positions],
                const unsigned src[C::positions][C::n]) {
#pragma HLS INLINE
    for (unsigned p = 0; p < C::positions; p++) {
#pragma HLS UNROLL
        y[p] = reduce_extreme<C, false>(x, src[p]);
    }
}

}  // namespace hlsgen

#endif
