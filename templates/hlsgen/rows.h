// hls-gen HLS layer library: the resource-optimized form of a graph model (--edge-parallelism N,
// src/arch/rows.rs). A tensor [Rows][F] travels as chunks of N rows, a chunk being one
// pixel<T, N * F> (stream.h) holding rows c * N .. c * N + N - 1 side by side; the rows of the last
// chunk beyond Rows are zeros. Each function handles one chunk and is inlined into the pipelined
// chunk loop of its process (`PIPELINE II=1`, UG1399 "pragma HLS pipeline"), which unrolls its
// loops: one chunk per cycle.
#ifndef HLSGEN_ROWS_H
#define HLSGEN_ROWS_H

#include "stream.h"

namespace hlsgen {

// Chunk c of the array a[Rows * F].
template <class T, unsigned Rows, unsigned F, unsigned N>
void chunk_of(const T a[Rows * F], unsigned c, pixel<T, N * F> &p) {
#pragma HLS INLINE
    for (unsigned k = 0; k < N; k++) {
#pragma HLS UNROLL
        for (unsigned f = 0; f < F; f++) {
#pragma HLS UNROLL
            const unsigned r = c * N + k;
            p.data[k * F + f] = r < Rows ? a[r * F + f] : T(0);
        }
    }
}

// Writes the rows of chunk c held in v into a[Rows * F], the rows beyond Rows excepted.
template <class T, unsigned Rows, unsigned F, unsigned N>
void store_chunk(const T v[N * F], unsigned c, T a[Rows * F]) {
#pragma HLS INLINE
    for (unsigned k = 0; k < N; k++) {
#pragma HLS UNROLL
        for (unsigned f = 0; f < F; f++) {
#pragma HLS UNROLL
            const unsigned r = c * N + k;
            if (r < Rows) {
                a[r * F + f] = v[k * F + f];
            }
        }
    }
}

template <class T, unsigned M>
void unpack(const pixel<T, M> &p, T a[M]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < M; i++) {
#pragma HLS UNROLL
        a[i] = p.data[i];
    }
}

template <class T, unsigned M>
void pack(const T a[M], pixel<T, M> &p) {
#pragma HLS INLINE
    for (unsigned i = 0; i < M; i++) {
#pragma HLS UNROLL
        p.data[i] = a[i];
    }
}

// gather_rows (gather_rows.h) of one chunk of N indices from a table of the data's chunks:
// y[k][f] = result_t(row index[k] of the data)[f]. Row r is lane r % N of chunk word r / N, so the
// table has one read per gathered row and one write per stored chunk (the caller binds it to
// ram_1wnr). An index outside 0..n_rows selects row 0: the simulator rejects such inputs.
// Configuration `C`: gather_rows' input_t, input2_t, result_t, n_rows, row, n_index; n (N) and
// data_chunks (ceil(n_rows / N)).
template <class C>
void gather_rows_chunk(const pixel<typename C::input_t, C::n * C::row> table[C::data_chunks],
                       const typename C::input2_t index[C::n], typename C::result_t y[C::n * C::row]) {
#pragma HLS INLINE
    for (unsigned k = 0; k < C::n; k++) {
#pragma HLS UNROLL
        const bool inside = index[k] >= 0 && index[k] < C::n_rows;
        const unsigned r = inside ? unsigned(index[k]) : 0u;
        const pixel<typename C::input_t, C::n * C::row> word = table[r / C::n];
        const unsigned lane = r % C::n;
        for (unsigned f = 0; f < C::row; f++) {
#pragma HLS UNROLL
            typename C::input_t v = word.data[f];
            for (unsigned q = 1; q < C::n; q++) {
#pragma HLS UNROLL
                if (lane == q) {
                    v = word.data[q * C::row + f];
                }
            }
            y[k * C::row + f] = v;
        }
    }
}

// scatter_add (scatter_add.h) of chunk c of the messages into the exact sums acc[n_rows * row]:
// every sum adds, in one adder tree, the chunk's values whose index names its row (rows of the
// chunk beyond n_index add nothing), then the tree's result to itself. As in scatter_add, each
// term is selected before the additions, so the additions form a plain chain that HLS balances
// into that tree; the sums are exact, so the order of the additions does not change them.
// Configuration `C`: scatter_add's input_t, input2_t, accum_t, n_rows, row, n_index; n (N).
template <class C>
void scatter_add_chunk(const typename C::input_t x[C::n * C::row], const typename C::input2_t index[C::n],
                       unsigned c, typename C::accum_t acc[C::n_rows * C::row]) {
#pragma HLS INLINE
    for (unsigned r = 0; r < C::n_rows; r++) {
#pragma HLS UNROLL
        for (unsigned f = 0; f < C::row; f++) {
#pragma HLS UNROLL
            typename C::accum_t part = 0;
            for (unsigned k = 0; k < C::n; k++) {
#pragma HLS UNROLL
                const bool hit = c * C::n + k < C::n_index && index[k] == r;
                part += hit ? typename C::accum_t(x[k * C::row + f]) : typename C::accum_t(0);
            }
            acc[r * C::row + f] += part;
        }
    }
}

// Chunk c of the sums, cast to result_t (zeros past n_rows).
template <class C>
void scatter_add_emit(const typename C::accum_t acc[C::n_rows * C::row], unsigned c,
                      typename C::result_t y[C::n * C::row]) {
#pragma HLS INLINE
    for (unsigned k = 0; k < C::n; k++) {
#pragma HLS UNROLL
        for (unsigned f = 0; f < C::row; f++) {
#pragma HLS UNROLL
            const unsigned r = c * C::n + k;
            if (r < C::n_rows) {
                y[k * C::row + f] = acc[r * C::row + f];
            } else {
                y[k * C::row + f] = 0;
            }
        }
    }
}

}  // namespace hlsgen

#endif
