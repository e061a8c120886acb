// hls-gen HLS layer library: exact decimal text of ap values, for the C simulation testbench
// only (never included by the firmware).
//
// parse_exact reads -?[0-9]+(\.[0-9]+)? into a type T and fails unless T holds the value
// exactly; format_exact writes every digit (-0.3125, 3, 0) with no exponent. Both work on the
// raw bits through arbitrary-precision decimal digit vectors, never through floating point, so
// they are exact for every width.
#ifndef HLSGEN_DECIMAL_IO_H
#define HLSGEN_DECIMAL_IO_H

#include <string>
#include <vector>

#include "common.h"

namespace hlsgen {
namespace decimal {

// A natural number as little-endian decimal digits.
typedef std::vector<unsigned char> natural;

inline void mul_small(natural &n, unsigned m) {
    unsigned carry = 0;
    for (size_t i = 0; i < n.size(); i++) {
        const unsigned v = n[i] * m + carry;
        n[i] = static_cast<unsigned char>(v % 10);
        carry = v / 10;
    }
    while (carry > 0) {
        n.push_back(static_cast<unsigned char>(carry % 10));
        carry /= 10;
    }
}

inline void add_small(natural &n, unsigned a) {
    for (size_t i = 0; a > 0; i++) {
        if (i == n.size()) {
            n.push_back(0);
        }
        const unsigned v = n[i] + a;
        n[i] = static_cast<unsigned char>(v % 10);
        a = v / 10;
    }
}

// Divides in place; returns the remainder.
inline unsigned div_small(natural &n, unsigned m) {
    unsigned rem = 0;
    for (size_t i = n.size(); i-- > 0;) {
        const unsigned v = rem * 10 + n[i];
        n[i] = static_cast<unsigned char>(v / m);
        rem = v % m;
    }
    while (!n.empty() && n.back() == 0) {
        n.pop_back();
    }
    return rem;
}

inline bool is_zero(const natural &n) {
    for (size_t i = 0; i < n.size(); i++) {
        if (n[i] != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace decimal

// Reads `text` into `out`; on failure returns false and says why in `error`.
template <class T>
bool parse_exact(const std::string &text, T &out, std::string &error) {
    const int w = type_traits<T>::width;
    const int frac = type_traits<T>::width - type_traits<T>::iwidth;
    size_t pos = 0;
    const bool negative = !text.empty() && text[0] == '-';
    if (negative) {
        pos = 1;
    }
    decimal::natural digits_be;
    size_t int_digits = 0, frac_digits = 0;
    bool seen_point = false;
    for (; pos < text.size(); pos++) {
        const char c = text[pos];
        if (c >= '0' && c <= '9') {
            digits_be.push_back(static_cast<unsigned char>(c - '0'));
            if (seen_point) {
                frac_digits++;
            } else {
                int_digits++;
            }
        } else if (c == '.' && !seen_point) {
            seen_point = true;
        } else {
            break;
        }
    }
    if (pos != text.size() || int_digits == 0 || (seen_point && frac_digits == 0)) {
        error = "'" + text + "' is not a decimal number";
        return false;
    }
    decimal::natural n(digits_be.rbegin(), digits_be.rend());
    for (int i = 0; i < frac; i++) {
        decimal::mul_small(n, 2);
    }
    bool exact = true;
    for (size_t i = 0; i < frac_digits; i++) {
        exact = exact && decimal::div_small(n, 10) == 0;
    }
    for (int i = 0; i < -frac; i++) {
        exact = exact && decimal::div_small(n, 2) == 0;
    }
    if (!exact) {
        error = "'" + text + "' is not exactly a value of the type";
        return false;
    }
    // Magnitude into w + 1 bits, least significant first.
    ap_uint<w + 1> magnitude = 0;
    for (int b = 0; b <= w; b++) {
        magnitude[b] = decimal::div_small(n, 2) != 0;
    }
    // Signed: magnitudes up to 2^(w-1) when negative, below it otherwise. Unsigned: below 2^w.
    ap_uint<w + 1> limit = 1;
    limit <<= type_traits<T>::is_signed ? w - 1 : w;
    bool in_range = decimal::is_zero(n);
    if (type_traits<T>::is_signed) {
        in_range = in_range && (negative ? magnitude <= limit : magnitude < limit);
    } else {
        in_range = in_range && magnitude < limit && (!negative || magnitude == 0);
    }
    if (!in_range) {
        error = "'" + text + "' is out of the range of the type";
        return false;
    }
    const ap_uint<w + 1> raw = negative ? ap_uint<w + 1>(-magnitude) : magnitude;
    out.range(w - 1, 0) = raw.range(w - 1, 0);
    return true;
}

// The exact decimal text of `v`.
template <class T>
std::string format_exact(const T &v) {
    const int w = type_traits<T>::width;
    const int frac = type_traits<T>::width - type_traits<T>::iwidth;
    ap_uint<w + 1> raw = v.range(w - 1, 0);
    const bool negative = type_traits<T>::is_signed && raw[w - 1] == 1;
    if (negative) {
        raw = (ap_uint<w + 1>(1) << w) - raw;
    }
    decimal::natural n;
    for (int b = w; b >= 0; b--) {
        decimal::mul_small(n, 2);
        decimal::add_small(n, raw[b] ? 1 : 0);
    }
    if (decimal::is_zero(n)) {
        return "0";
    }
    for (int i = 0; i < -frac; i++) {
        decimal::mul_small(n, 2);
    }
    const size_t point = frac > 0 ? static_cast<size_t>(frac) : 0;
    for (size_t i = 0; i < point; i++) {
        decimal::mul_small(n, 5);
    }
    while (n.size() <= point) {
        n.push_back(0);
    }
    size_t lowest = 0;
    while (lowest < point && n[lowest] == 0) {
        lowest++;
    }
    std::string s = negative ? "-" : "";
    for (size_t i = n.size(); i-- > point;) {
        s += static_cast<char>('0' + n[i]);
    }
    if (lowest < point) {
        s += '.';
        for (size_t i = point; i-- > lowest;) {
            s += static_cast<char>('0' + n[i]);
        }
    }
    return s;
}

// True when a and b have the same raw bits.
template <class T>
bool same_bits(const T &a, const T &b) {
    const int w = type_traits<T>::width;
    return a.range(w - 1, 0) == b.range(w - 1, 0);
}

}  // namespace hlsgen

#endif
