//! The io_stream forms of the HLS layer library (templates/hlsgen/stream.h, conv_stream.h,
//! pool_stream.h, pad_stream.h) under g++: a C++ harness runs conv_stream, pool_max_stream,
//! pool_average_stream, pad_stream and upsample_stream on random ap_fixed inputs for 1-D and 2-D
//! geometries (strides 1 to 3, asymmetric 'same' padding, dilation 2, groups and depthwise,
//! kernels larger than the stride, floor-mode rows and columns no window uses, crops and pads of
//! either sign, upsampling 2x3, one channel and three, reuse factors 1 and 3, an accumulator that
//! wraps and one whose sums saturate the result). Each case checks that the input stream is fully
//! consumed and the output holds exactly the expected pixels, and compares every output bit for
//! bit with a reference written as plain loops over the output positions from the arithmetic in
//! the headers' contracts.

mod common;

use std::path::Path;
use std::process::Command;

/// `ok` lines of a passing run: one per convolution, padding and upsampling case, two per pooling
/// geometry (max and average).
const OK_LINES: usize = 37;

const HARNESS: &str = r##"// Checks the io_stream layer functions (conv_stream.h, pool_stream.h, pad_stream.h) against
// plain nested-loop references of the same arithmetic, bit for bit, and their stream traffic.
#include <cstdio>
#include "conv_stream.h"
#include "pool_stream.h"
#include "pad_stream.h"

using hlsgen::pixel;

typedef ap_fixed<8, 3> in_t;
typedef ap_fixed<6, 2> w_t;
typedef ap_fixed<7, 3> b_t;
// Narrow accumulators: acc_t wraps often (and truncates every product); wide_acc_t wraps rarely,
// so its sums reach beyond res_t and saturate there.
typedef ap_fixed<11, 4, AP_TRN, AP_WRAP> acc_t;
typedef ap_fixed<13, 6, AP_TRN, AP_WRAP> wide_acc_t;
typedef ap_fixed<10, 4, AP_RND, AP_SAT> res_t;
typedef ap_fixed<13, 7> sum_type;
typedef ap_ufixed<10, 1, AP_RND> recip_type;

static int failures = 0;
static unsigned long long state = 0x1234567887654321ULL;

static unsigned long long next_random() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 17;
}

template <class T>
static T random_value() {
    T v;
    v.range(T::width - 1, 0) = next_random();
    return v;
}

static void check(bool ok, const char *name, const char *what) {
    if (!ok) {
        std::printf("MISMATCH %s: %s\n", name, what);
        failures++;
    }
}

template <class T>
static bool same_bits(const T &a, const T &b) {
    return a.range(T::width - 1, 0) == b.range(T::width - 1, 0);
}

// Fills x with in_height * in_width random pixels and returns them flat ([h][w][c]).
template <class C>
static void fill_input(hls::stream<typename C::in_pixel_t> &x, typename C::input_t *flat) {
    for (unsigned p = 0; p < C::in_height * C::in_width; p++) {
        typename C::in_pixel_t px;
        for (unsigned c = 0; c < C::channels; c++) {
            px.data[c] = random_value<typename C::input_t>();
            flat[p * C::channels + c] = px.data[c];
        }
        x.write(px);
    }
}

// Checks the stream traffic (x fully consumed, exactly `pixels` outputs), then reads every output
// pixel and compares it bit for bit with ref ([oh][ow][n]); prints one line for the case.
template <unsigned N, class XP, class YP, class T>
static void compare_output(const char *name, hls::stream<XP> &x, hls::stream<YP> &y, const T *ref, unsigned pixels) {
    const int before = failures;
    check(x.size() == 0, name, "input stream not fully consumed");
    check(y.size() == pixels, name, "output pixel count");
    for (unsigned p = 0; p < pixels && y.size() == pixels - p && failures == before; p++) {
        YP o = y.read();
        for (unsigned n = 0; n < N; n++) {
            if (!same_bits(o.data[n], ref[p * N + n])) {
                std::printf("MISMATCH %s: pixel %u value %u: %s, expected %s\n", name, p, n,
                            o.data[n].to_string(10).c_str(), ref[p * N + n].to_string(10).c_str());
                failures++;
                break;
            }
        }
    }
    if (failures == before) {
        std::printf("ok %s (%u pixels)\n", name, pixels);
    }
}

// ---------------------------------------------------------------- convolution

template <unsigned H, unsigned W, unsigned CH, unsigned PT, unsigned PB, unsigned PL, unsigned PR, unsigned KH,
          unsigned KW, unsigned SH, unsigned SW, unsigned DH, unsigned DW, unsigned F, unsigned G, unsigned R, class A = acc_t>
struct conv_cfg {
    typedef in_t input_t;
    typedef res_t result_t;
    typedef A accum_t;
    typedef w_t weight_t;
    typedef b_t bias_t;
    typedef pixel<input_t, CH> in_pixel_t;
    typedef pixel<result_t, F> out_pixel_t;
    static const unsigned in_height = H, in_width = W, channels = CH;
    static const unsigned pad_top = PT, pad_bottom = PB, pad_left = PL, pad_right = PR;
    static const unsigned kernel_h = KH, kernel_w = KW, stride_h = SH, stride_w = SW;
    static const unsigned dilation_h = DH, dilation_w = DW;
    static const unsigned out_height = (PT + H + PB - (DH * (KH - 1) + 1)) / SH + 1;
    static const unsigned out_width = (PL + W + PR - (DW * (KW - 1) + 1)) / SW + 1;
    static const unsigned filters = F, groups = G, group_channels = CH / G, filters_per_group = F / G;
    static const unsigned window = KH * KW * (CH / G);
    static const unsigned reuse_factor = R;
};

template <class C>
static void conv_case(const char *name) {
    static in_t xs[C::in_height * C::in_width * C::channels];
    static w_t w[C::filters * C::window];
    static b_t b[C::filters];
    static res_t ref[C::out_height * C::out_width * C::filters];
    hls::stream<typename C::in_pixel_t> x;
    hls::stream<typename C::out_pixel_t> y;
    fill_input<C>(x, xs);
    for (unsigned k = 0; k < C::filters * C::window; k++) w[k] = random_value<w_t>();
    for (unsigned k = 0; k < C::filters; k++) b[k] = random_value<b_t>();
    for (unsigned oh = 0; oh < C::out_height; oh++) {
        for (unsigned ow = 0; ow < C::out_width; ow++) {
            for (unsigned f = 0; f < C::filters; f++) {
                const unsigned g = f / C::filters_per_group;
                typename C::accum_t acc = b[f];
                for (unsigned ki = 0; ki < C::kernel_h; ki++) {
                    for (unsigned kj = 0; kj < C::kernel_w; kj++) {
                        for (unsigned c = 0; c < C::group_channels; c++) {
                            const int r = int(oh * C::stride_h + ki * C::dilation_h) - int(C::pad_top);
                            const int q = int(ow * C::stride_w + kj * C::dilation_w) - int(C::pad_left);
                            in_t v = 0;
                            if (r >= 0 && r < int(C::in_height) && q >= 0 && q < int(C::in_width)) {
                                v = xs[(r * C::in_width + q) * C::channels + g * C::group_channels + c];
                            }
                            acc = acc + v * w[f * C::window + (ki * C::kernel_w + kj) * C::group_channels + c];
                        }
                    }
                }
                ref[(oh * C::out_width + ow) * C::filters + f] = acc;
            }
        }
    }
    hlsgen::conv_stream<C>(x, y, w, b);
    compare_output<C::filters>(name, x, y, ref, C::out_height * C::out_width);
}

// ---------------------------------------------------------------- pooling

template <unsigned H, unsigned W, unsigned CH, unsigned PT, unsigned PB, unsigned PL, unsigned PR, unsigned KH,
          unsigned KW, unsigned SH, unsigned SW>
struct pool_cfg {
    typedef in_t input_t;
    typedef res_t result_t;
    typedef sum_type sum_t;
    typedef recip_type recip_t;
    typedef pixel<input_t, CH> in_pixel_t;
    typedef pixel<result_t, CH> out_pixel_t;
    static const unsigned in_height = H, in_width = W, channels = CH;
    static const unsigned pad_top = PT, pad_bottom = PB, pad_left = PL, pad_right = PR;
    static const unsigned kernel_h = KH, kernel_w = KW, stride_h = SH, stride_w = SW;
    static const unsigned out_height = (PT + H + PB - KH) / SH + 1;
    static const unsigned out_width = (PL + W + PR - KW) / SW + 1;
};

template <class C>
static void pool_case(const char *name) {
    static in_t xs[C::in_height * C::in_width * C::channels];
    static res_t ref_max[C::out_height * C::out_width * C::channels];
    static res_t ref_avg[C::out_height * C::out_width * C::channels];
    static recip_type recip[C::out_height * C::out_width];
    hls::stream<typename C::in_pixel_t> x;
    fill_input<C>(x, xs);
    hls::stream<typename C::in_pixel_t> x2;
    for (unsigned p = 0; p < C::in_height * C::in_width; p++) {
        typename C::in_pixel_t px;
        for (unsigned c = 0; c < C::channels; c++) px.data[c] = xs[p * C::channels + c];
        x2.write(px);
    }
    for (unsigned oh = 0; oh < C::out_height; oh++) {
        for (unsigned ow = 0; ow < C::out_width; ow++) {
            const unsigned o = oh * C::out_width + ow;
            unsigned count = 0;
            for (unsigned ki = 0; ki < C::kernel_h; ki++) {
                for (unsigned kj = 0; kj < C::kernel_w; kj++) {
                    const int r = int(oh * C::stride_h + ki) - int(C::pad_top);
                    const int q = int(ow * C::stride_w + kj) - int(C::pad_left);
                    if (r >= 0 && r < int(C::in_height) && q >= 0 && q < int(C::in_width)) count++;
                }
            }
            recip[o] = count == 0 ? 0.0 : 1.0 / count;
            for (unsigned c = 0; c < C::channels; c++) {
                bool any = false;
                in_t m = 0;
                sum_type s = 0;
                for (unsigned ki = 0; ki < C::kernel_h; ki++) {
                    for (unsigned kj = 0; kj < C::kernel_w; kj++) {
                        const int r = int(oh * C::stride_h + ki) - int(C::pad_top);
                        const int q = int(ow * C::stride_w + kj) - int(C::pad_left);
                        if (r >= 0 && r < int(C::in_height) && q >= 0 && q < int(C::in_width)) {
                            const in_t v = xs[(r * C::in_width + q) * C::channels + c];
                            if (!any) {
                                m = v;
                                any = true;
                            } else if (v > m) {
                                m = v;
                            }
                            s += v;
                        }
                    }
                }
                ref_max[o * C::channels + c] = m;
                ref_avg[o * C::channels + c] = s * recip[o];
            }
        }
    }
    hls::stream<typename C::out_pixel_t> y;
    hlsgen::pool_max_stream<C>(x, y);
    char label[128];
    std::snprintf(label, sizeof label, "%s max", name);
    compare_output<C::channels>(label, x, y, ref_max, C::out_height * C::out_width);
    hls::stream<typename C::out_pixel_t> y2;
    hlsgen::pool_average_stream<C>(x2, y2, recip);
    std::snprintf(label, sizeof label, "%s average", name);
    compare_output<C::channels>(label, x2, y2, ref_avg, C::out_height * C::out_width);
}

// ---------------------------------------------------------------- padding, cropping, upsampling

template <unsigned H, unsigned W, unsigned CH, int PT, int PL, unsigned OH, unsigned OW>
struct pad_cfg {
    typedef in_t input_t;
    typedef res_t result_t;
    typedef pixel<input_t, CH> in_pixel_t;
    typedef pixel<result_t, CH> out_pixel_t;
    static const unsigned in_height = H, in_width = W, channels = CH, out_height = OH, out_width = OW;
    static const int pad_top = PT, pad_left = PL;
};

template <class C>
static void pad_case(const char *name) {
    static in_t xs[C::in_height * C::in_width * C::channels];
    static res_t ref[C::out_height * C::out_width * C::channels];
    hls::stream<typename C::in_pixel_t> x;
    hls::stream<typename C::out_pixel_t> y;
    fill_input<C>(x, xs);
    for (unsigned r = 0; r < C::out_height; r++) {
        for (unsigned q = 0; q < C::out_width; q++) {
            const int ir = int(r) - C::pad_top;
            const int iq = int(q) - C::pad_left;
            for (unsigned c = 0; c < C::channels; c++) {
                res_t v = 0;
                if (ir >= 0 && ir < int(C::in_height) && iq >= 0 && iq < int(C::in_width)) {
                    v = xs[(ir * C::in_width + iq) * C::channels + c];
                }
                ref[(r * C::out_width + q) * C::channels + c] = v;
            }
        }
    }
    hlsgen::pad_stream<C>(x, y);
    compare_output<C::channels>(name, x, y, ref, C::out_height * C::out_width);
}

template <unsigned H, unsigned W, unsigned CH, unsigned FH, unsigned FW>
struct upsample_cfg {
    typedef in_t input_t;
    typedef res_t result_t;
    typedef pixel<input_t, CH> in_pixel_t;
    typedef pixel<result_t, CH> out_pixel_t;
    static const unsigned in_height = H, in_width = W, channels = CH, factor_h = FH, factor_w = FW;
};

template <class C>
static void upsample_case(const char *name) {
    const unsigned oh = C::in_height * C::factor_h;
    const unsigned ow = C::in_width * C::factor_w;
    static in_t xs[C::in_height * C::in_width * C::channels];
    static res_t ref[C::in_height * C::factor_h * C::in_width * C::factor_w * C::channels];
    hls::stream<typename C::in_pixel_t> x;
    hls::stream<typename C::out_pixel_t> y;
    fill_input<C>(x, xs);
    for (unsigned r = 0; r < oh; r++) {
        for (unsigned q = 0; q < ow; q++) {
            for (unsigned c = 0; c < C::channels; c++) {
                ref[(r * ow + q) * C::channels + c] =
                    xs[((r / C::factor_h) * C::in_width + q / C::factor_w) * C::channels + c];
            }
        }
    }
    hlsgen::upsample_stream<C>(x, y);
    compare_output<C::channels>(name, x, y, ref, oh * ow);
}

int main() {
    //        H  W  C  PT PB PL PR KH KW SH SW DH DW F  G  R
    conv_case<conv_cfg<1, 11, 3, 0, 0, 1, 2, 1, 3, 1, 1, 1, 1, 4, 1, 1> >("conv 1-D k3 s1 pads 1,2 C3");
    conv_case<conv_cfg<1, 13, 1, 0, 0, 2, 1, 1, 3, 1, 2, 1, 2, 2, 1, 3> >("conv 1-D k3 s2 d2 C1 R3");
    conv_case<conv_cfg<1, 10, 3, 0, 0, 0, 0, 1, 4, 1, 3, 1, 1, 2, 1, 1> >("conv 1-D k4 s3 leftover");
    conv_case<conv_cfg<6, 7, 3, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 4, 1, 1> >("conv 2-D same 3x3 C3");
    conv_case<conv_cfg<5, 6, 1, 1, 2, 1, 2, 4, 4, 1, 1, 1, 1, 3, 1, 3> >("conv 2-D same 4x4 asymmetric C1 R3");
    conv_case<conv_cfg<8, 8, 3, 0, 1, 0, 1, 3, 3, 2, 2, 1, 1, 2, 1, 3> >("conv 2-D 3x3 s2 same C3 R3");
    conv_case<conv_cfg<7, 8, 1, 0, 0, 0, 0, 3, 2, 1, 1, 2, 2, 3, 1, 1> >("conv 2-D 3x2 d2 C1");
    conv_case<conv_cfg<5, 6, 4, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 4, 2, 1> >("conv 2-D groups 2");
    conv_case<conv_cfg<6, 7, 3, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 4, 1, 1, wide_acc_t> >("conv 2-D same 3x3 C3 saturating");
    conv_case<conv_cfg<5, 6, 3, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 2, 1, 3, wide_acc_t> >("conv 2-D same 3x3 C3 saturating R3");
    conv_case<conv_cfg<7, 6, 3, 1, 1, 1, 1, 3, 3, 2, 2, 1, 1, 3, 3, 3> >("conv 2-D depthwise s2 R3");
    conv_case<conv_cfg<9, 10, 3, 0, 0, 0, 0, 2, 3, 3, 3, 1, 1, 2, 1, 1> >("conv 2-D 2x3 s3 floor leftovers");
    conv_case<conv_cfg<5, 1, 3, 1, 1, 0, 0, 3, 1, 1, 1, 1, 1, 2, 1, 1> >("conv 2-D one column 3x1");
    conv_case<conv_cfg<4, 5, 3, 0, 0, 0, 0, 1, 1, 2, 2, 1, 1, 2, 1, 1> >("conv 2-D 1x1 s2");
    //        H  W  C  PT PB PL PR KH KW SH SW
    pool_case<pool_cfg<6, 7, 3, 0, 0, 0, 0, 2, 2, 2, 2> >("pool 2x2 s2 leftover column C3");
    pool_case<pool_cfg<5, 5, 1, 1, 1, 1, 1, 3, 3, 1, 1> >("pool 3x3 s1 same C1");
    pool_case<pool_cfg<6, 6, 3, 0, 1, 0, 1, 3, 3, 2, 2> >("pool 3x3 s2 same asymmetric C3");
    pool_case<pool_cfg<5, 6, 3, 0, 1, 0, 1, 2, 2, 1, 1> >("pool 2x2 s1 same asymmetric C3");
    pool_case<pool_cfg<1, 9, 3, 0, 0, 1, 1, 1, 3, 1, 2> >("pool 1-D k3 s2 pads 1,1 C3");
    pool_case<pool_cfg<1, 10, 1, 0, 0, 0, 0, 1, 3, 1, 3> >("pool 1-D k3 s3 leftover C1");
    pool_case<pool_cfg<7, 7, 1, 0, 0, 0, 0, 3, 3, 3, 3> >("pool 3x3 s3 leftover row and column C1");
    //      H  W  C  PT  PL OH OW
    pad_case<pad_cfg<5, 6, 3, 1, 2, 8, 9> >("pad positive C3");
    pad_case<pad_cfg<5, 6, 3, -1, -2, 3, 3> >("crop C3");
    pad_case<pad_cfg<5, 6, 1, 2, -1, 6, 4> >("pad top, crop left, bottom and right C1");
    pad_case<pad_cfg<4, 5, 1, -1, 1, 4, 7> >("crop top, pad bottom, pad left and right C1");
    pad_case<pad_cfg<1, 6, 3, 0, -1, 1, 7> >("1-D crop left pad right C3");
    //               H  W  C  FH FW
    upsample_case<upsample_cfg<3, 4, 3, 2, 3> >("upsample 2x3 C3");
    upsample_case<upsample_cfg<1, 5, 1, 1, 2> >("upsample 1-D x2 C1");
    upsample_case<upsample_cfg<4, 1, 1, 3, 1> >("upsample 3x1 one column C1");
    upsample_case<upsample_cfg<2, 2, 3, 1, 1> >("upsample 1x1 C3");
    std::printf("%d mismatches\n", failures);
    return failures == 0 ? 0 : 1;
}
"##;

#[test]
fn stream_layers_match_their_reference_bit_for_bit() {
    let Some(ap_types) = common::ap_types() else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let source = dir.path().join("stream_library.cpp");
    std::fs::write(&source, HARNESS).expect("the harness is written");
    let exe = dir.path().join("stream_library");
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/hlsgen");
    // ap_types as a system directory (the same search path as -I) keeps its own warnings quiet.
    let compile = Command::new("g++")
        .args(["-std=c++14", "-O1", "-Wall", "-Wextra", "-Wno-unknown-pragmas"])
        .arg(format!("-I{}", templates.display()))
        .arg("-isystem")
        .arg(&ap_types)
        .arg(&source)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("g++ runs");
    assert!(compile.status.success(), "g++ failed:\n{}", String::from_utf8_lossy(&compile.stderr));
    let run = Command::new(&exe).output().expect("the harness runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "the stream layers differ from the reference:\n{stdout}");
    assert!(stdout.contains("\n0 mismatches"), "no summary line:\n{stdout}");
    let passed = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(passed, OK_LINES, "cases that ran:\n{stdout}");
}
