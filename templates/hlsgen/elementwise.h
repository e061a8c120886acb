// hls-gen HLS layer library: y = x op r with r a second tensor of the same shape or a constant
// broadcast onto x; the exact result is cast to result_t. The configuration names the operation
// as `typedef hlsgen::op_add op;` (op_sub, op_mul).
//
// Synthesis contract (common.h): n operators, unrolled, II = 1; a broadcast constant is
// partitioned, so its operations are by constants.
#ifndef HLSGEN_ELEMENTWISE_H
#define HLSGEN_ELEMENTWISE_H

#include "common.h"

namespace hlsgen {

struct op_add {
    template <class A, class B>
    static auto apply(const A &a, const B &b) -> decltype(a + b) {
#pragma HLS INLINE
        return a + b;
    }
};

struct op_sub {
    template <class A, class B>
    static auto apply(const A &a, const B &b) -> decltype(a - b) {
#pragma HLS INLINE
        return a - b;
    }
};

struct op_mul {
    template <class A, class B>
    static auto apply(const A &a, const B &b) -> decltype(a * b) {
#pragma HLS INLINE
        return a * b;
    }
};

// Two tensors: x is the node's first input, r its second.
template <class C>
void elementwise(const typename C::input_t x[C::n], const typename C::input2_t r[C::n],
                 typename C::result_t y[C::n]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = C::op::apply(x[i], r[i]);
    }
}

// A constant broadcast onto x.
template <class C>
void elementwise_constant(const typename C::input_t x[C::n], typename C::result_t y[C::n],
                          const typename C::constant_t c[C::n_constant]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < C::n; i++) {
#pragma HLS UNROLL
        y[i] = C::op::apply(x[i], c[broadcast_index<C::constant_inner, C::n_constant>(i)]);
    }
}

}  // namespace hlsgen

#endif
