// hls-gen HLS layer library: y = x_0 op x_1 op ... with tensors of the same shape, or y = x op c
// with a constant broadcast onto x (src/ir/layer/elementwise.rs); the exact result is cast to
// result_t. The configuration names the operation as `typedef hlsgen::op_add op;` (op_sub, op_mul,
// op_max, op_min) and the exact result type as `exact_t`.
//
// Synthesis contract (common.h): n operators, unrolled, II = 1; a broadcast constant is
// partitioned, so its operations are by constants.
#ifndef HLSGEN_ELEMENTWISE_H
#define HLSGEN_ELEMENTWISE_H

#include "common.h"

namespace hlsgen {

// Each operation returns its exact result in T, a type holding every partial result of the
// layer (the IR's exact result type), so a chain of them is exact.
struct op_add {
    template <class T, class A, class B>
    static T apply(const A &a, const B &b) {
#pragma HLS INLINE
        return a + b;
    }
};

struct op_sub {
    template <class T, class A, class B>
    static T apply(const A &a, const B &b) {
#pragma HLS INLINE
        return a - b;
    }
};

struct op_mul {
    template <class T, class A, class B>
    static T apply(const A &a, const B &b) {
#pragma HLS INLINE
        return a * b;
    }
};

struct op_max {
    template <class T, class A, class B>
    static T apply(const A &a, const B &b) {
#pragma HLS INLINE
        const T u = a;
        const T v = b;
        return u > v ? u : v;
    }
};

struct op_min {
    template <class T, class A, class B>
    static T apply(const A &a, const B &b) {
#pragma HLS INLINE
        const T u = a;
        const T v = b;
        return u < v ? u : v;
    }
};

// Two tensors: x is the node's first input, r its second.
template <class C>
void elementwise(const typename C::input_t x[C::n], const typename C::input2_t r[C::n],
                 typename C::result_t y[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = C::op::template apply<typename C::exact_t>(x[i], r[i]);
    }
}

// A constant broadcast onto x.
template <class C>
void elementwise_constant(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                          const typename C::constant_t c[C::n_constant]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = C::op::template apply<typename C::exact_t>(x[i], c[broadcast_index<C::constant_inner, C::n_constant>(i)]);
    }
}

// Three or more tensors: acc = x_0, then acc = acc op x_k for k = 1, 2, ... (exact in exact_t),
// then y = result_t(acc). The emitter declares acc in the layer function.
template <class C, class X>
void merge_first(const X x[C::n], typename C::exact_t acc[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        acc[i] = x[i];
    }
}

template <class C, class X>
void merge_next(typename C::exact_t acc[C::n], const X x[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        acc[i] = C::op::template apply<typename C::exact_t>(acc[i], x[i]);
    }
}

template <class C>
void merge_last(const typename C::exact_t acc[C::n], typename C::result_t y[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = acc[i];
    }
}

}  // namespace hlsgen

#endif
