// hls-gen HLS layer library: shared definitions.
//
// Every layer function is a template over a configuration struct `C` (emitted in parameters.h)
// whose typedefs and `static const` members fix the types and sizes. Arithmetic follows
// src/ir/layer/<kind>.rs: products and sums are exact (the result types of the ap_types operators
// are wide enough), and every assignment to a typed variable is the IR's `cast` (the target
// type's quantization mode, then its overflow mode).
//
// Synthesis contract shared by every layer function (Vitis HLS; UG1399 sections in quotes):
// * each is `#pragma HLS INLINE`: it dissolves into the layer function the emitter wraps around
//   it, which carries the schedule's pragmas (inlined into the pipelined top, or a dataflow
//   process of its own) and defines the layer's constants as static const arrays with their
//   partition and storage pragmas ("pragma HLS inline": an inlined function's own pragmas are
//   dissolved, so none of the schedule lives here);
// * no array pragma is put on a parameter: each array is partitioned or reshaped once, where it
//   is declared (top ports are reshaped, channels and constants partitioned), because partition
//   and reshape on the same array is an error ("Adding Pragmas and Directives");
// * every loop is unrolled, so every array index is a constant after unrolling (reads of
//   partitioned arrays are wires, reads of partitioned constants are constants), except the step
//   loop of dense_multiplexed (dense.h) and the position loops of conv and conv_multiplexed
//   (conv.h), which are pipelined and read through multiplexers with constant indices, and the
//   io_stream loops over a stream's pixels or a grid's positions (conv_stream.h, pool_stream.h,
//   pad_stream.h, frame.h; the per-pixel loops the emitter writes around the other layers),
//   each pipelined with one transfer per stream per iteration at most.
#ifndef HLSGEN_COMMON_H
#define HLSGEN_COMMON_H

#include "ap_fixed.h"
#include "ap_int.h"

namespace hlsgen {

// Width, integer bits and signedness of an ap type.
template <class T>
struct type_traits;

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct type_traits<ap_fixed<W, I, Q, O, N> > {
    static const int width = W;
    static const int iwidth = I;
    static const bool is_signed = true;
};

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct type_traits<ap_ufixed<W, I, Q, O, N> > {
    static const int width = W;
    static const int iwidth = I;
    static const bool is_signed = false;
};

template <int W>
struct type_traits<ap_int<W> > {
    static const int width = W;
    static const int iwidth = W;
    static const bool is_signed = true;
};

template <int W>
struct type_traits<ap_uint<W> > {
    static const int width = W;
    static const int iwidth = W;
    static const bool is_signed = false;
};

// Table index of `v`: the raw bits of `IndexT(v)` read as an unsigned number, offset by
// 2^(W-1) when IndexT is signed so that index 0 is the most negative input. Adding 2^(W-1)
// modulo 2^W is flipping the top bit.
template <class IndexT, class T>
ap_uint<type_traits<IndexT>::width> table_index(const T &v) {
#pragma HLS INLINE
    const int w = type_traits<IndexT>::width;
    const IndexT q = v;
    ap_uint<w> bits = q.range(w - 1, 0);
    if (type_traits<IndexT>::is_signed) {
        bits[w - 1] = !bits[w - 1];
    }
    return bits;
}

// Element of a constant broadcast onto a tensor: the constant's values repeat every `Inner`
// elements of the tensor and cycle with period `N` (a scalar has N = 1; a per-channel constant
// has Inner = 1 and N = channels). The emitter expands constants that fit no such pattern.
template <unsigned Inner, unsigned N>
inline unsigned broadcast_index(unsigned i) {
#pragma HLS INLINE
    return (i / Inner) % N;
}

// y = x, element by element: a channel copy (the split processes of a dataflow design, the
// copies to output ports).
template <unsigned N, class T>
void copy(const T x[N], T y[N]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < N; i++) {
#pragma HLS UNROLL
        y[i] = x[i];
    }
}

}  // namespace hlsgen

#endif
