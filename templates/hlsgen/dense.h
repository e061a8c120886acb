// hls-gen HLS layer library: dense (fully connected) layer, `y = x . W + b` on a 1-D input.
//
// Per output j: acc = accum_t(b[j]); then for each input i in increasing order
// acc = accum_t(acc + x[i] * w[i][j]); finally y[j] = result_t(acc).
//
// The emitter passes only the nonzero weights, as a list of entries (weight, input index, output
// index) sorted by input index, then output index. A multiplication by a pruned weight is not in
// the code at all, and skipping it is exact: acc + x * 0 is acc, and casting an accum_t value to
// accum_t changes nothing. Each output still sees its inputs in increasing order.
//
// Configuration `C`: input_t, result_t, accum_t, weight_t, bias_t, in_index_t, out_index_t;
// n_in, n_out, reuse_factor; for the latency strategy n_entries and multiplier_limit; for the
// resource strategy block (entries per reuse cycle). Padding entries have weight 0.
#ifndef HLSGEN_DENSE_H
#define HLSGEN_DENSE_H

#include "common.h"

namespace hlsgen {

// Latency strategy: every entry is its own multiplier, the whole layer is unrolled and
// pipelined with II = reuse_factor; above 1, ALLOCATION makes HLS share the multipliers
// (multiplier_limit = ceil(n_entries / reuse_factor)). Constant weights and indices are
// partitioned into registers, so after unrolling every index is a wire.
template <class C>
void dense_latency(const typename C::input_t x[C::n_in], typename C::result_t y[C::n_out],
                   const typename C::weight_t w[C::n_entries],
                   const typename C::in_index_t in_index[C::n_entries],
                   const typename C::out_index_t out_index[C::n_entries],
                   const typename C::bias_t b[C::n_out]) {
#pragma HLS PIPELINE II=C::reuse_factor
#pragma HLS ALLOCATION operation instances=mul limit=C::multiplier_limit
#pragma HLS ARRAY_PARTITION variable=x type=complete
#pragma HLS ARRAY_PARTITION variable=y type=complete
#pragma HLS ARRAY_PARTITION variable=w type=complete
#pragma HLS ARRAY_PARTITION variable=in_index type=complete
#pragma HLS ARRAY_PARTITION variable=out_index type=complete
#pragma HLS ARRAY_PARTITION variable=b type=complete
    typename C::accum_t acc[C::n_out];
#pragma HLS ARRAY_PARTITION variable=acc type=complete
    for (unsigned j = 0; j < C::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = b[j];
    }
    for (unsigned k = 0; k < C::n_entries; k++) {
#pragma HLS UNROLL
        const unsigned o = out_index[k];
        acc[o] = acc[o] + x[in_index[k]] * w[k];
    }
    for (unsigned j = 0; j < C::n_out; j++) {
#pragma HLS UNROLL
        y[j] = acc[j];
    }
}

// Resource strategy: the entries are stored as reuse_factor rows of `block` entries; each row
// is one wide ROM word (block RAM), and the row loop is pipelined with II = 1, so `block`
// multipliers are time-shared over reuse_factor cycles.
template <class C>
void dense_resource(const typename C::input_t x[C::n_in], typename C::result_t y[C::n_out],
                    const typename C::weight_t w[C::reuse_factor][C::block],
                    const typename C::in_index_t in_index[C::reuse_factor][C::block],
                    const typename C::out_index_t out_index[C::reuse_factor][C::block],
                    const typename C::bias_t b[C::n_out]) {
#pragma HLS ARRAY_PARTITION variable=x type=complete
#pragma HLS ARRAY_PARTITION variable=y type=complete
#pragma HLS ARRAY_PARTITION variable=b type=complete
#pragma HLS ARRAY_RESHAPE variable=w type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=in_index type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=out_index type=complete dim=2
#pragma HLS BIND_STORAGE variable=w type=rom_1p impl=bram
    typename C::accum_t acc[C::n_out];
#pragma HLS ARRAY_PARTITION variable=acc type=complete
    for (unsigned j = 0; j < C::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = b[j];
    }
    for (unsigned r = 0; r < C::reuse_factor; r++) {
#pragma HLS PIPELINE II=1
        for (unsigned m = 0; m < C::block; m++) {
#pragma HLS UNROLL
            const unsigned o = out_index[r][m];
            acc[o] = acc[o] + x[in_index[r][m]] * w[r][m];
        }
    }
    for (unsigned j = 0; j < C::n_out; j++) {
#pragma HLS UNROLL
        y[j] = acc[j];
    }
}

}  // namespace hlsgen

#endif
