// Helpers of the generated Verilator testbenches: exact decimal <-> raw conversion, port packing.
// hls-gen inserts this text into templates/verilator/tb*.cpp.tera.
typedef __int128 tb_int;
typedef unsigned __int128 tb_uint;

struct TbType {
    unsigned width;
    int frac;
    bool is_signed;
};

std::vector<std::string> tb_split(std::string text) {
    if (!text.empty() && text[text.size() - 1] == '\r') {
        text.erase(text.size() - 1);
    }
    std::vector<std::string> tokens;
    if (text.empty()) {
        return tokens;
    }
    size_t start = 0;
    while (true) {
        const size_t space = text.find(' ', start);
        tokens.push_back(text.substr(start, space == std::string::npos ? std::string::npos : space - start));
        if (space == std::string::npos) {
            return tokens;
        }
        start = space + 1;
    }
}

// The raw value of `text` in type `t`; false (with a reason) when it is not an exact value of t.
bool tb_parse(const std::string &text, const TbType &t, tb_int &raw, std::string &error) {
    size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
        negative = text[i] == '-';
        i++;
    }
    std::string int_digits;
    std::string frac_digits;
    bool point = false;
    for (; i < text.size(); i++) {
        const char c = text[i];
        if (c == '.' && !point) {
            point = true;
        } else if (c >= '0' && c <= '9') {
            (point ? frac_digits : int_digits).push_back(c);
        } else {
            error = "'" + text + "' is not a decimal number";
            return false;
        }
    }
    if (int_digits.empty() && frac_digits.empty()) {
        error = "'" + text + "' is not a decimal number";
        return false;
    }
    while (!frac_digits.empty() && frac_digits[frac_digits.size() - 1] == '0') {
        frac_digits.erase(frac_digits.size() - 1);
    }
    const tb_uint limit = static_cast<tb_uint>(1) << 100;
    tb_uint int_part = 0;
    for (size_t k = 0; k < int_digits.size(); k++) {
        int_part = int_part * 10 + static_cast<unsigned>(int_digits[k] - '0');
        if (int_part >= limit) {
            error = "'" + text + "' is out of range";
            return false;
        }
    }
    tb_uint magnitude = 0;
    if (t.frac > 0) {
        // Binary digits of the fraction: double the decimal fraction, the carry is the next bit.
        std::vector<int> digits;
        for (size_t k = 0; k < frac_digits.size(); k++) {
            digits.push_back(frac_digits[k] - '0');
        }
        tb_uint bits = 0;
        for (int b = 0; b < t.frac; b++) {
            int carry = 0;
            for (size_t k = digits.size(); k-- > 0;) {
                const int v = digits[k] * 2 + carry;
                digits[k] = v % 10;
                carry = v / 10;
            }
            bits = (bits << 1) | static_cast<tb_uint>(carry);
        }
        for (size_t k = 0; k < digits.size(); k++) {
            if (digits[k] != 0) {
                error = "'" + text + "' is not a multiple of the type's LSB";
                return false;
            }
        }
        if (t.frac >= 120 || (int_part >> (120 - t.frac)) != 0) {
            error = "'" + text + "' is out of range";
            return false;
        }
        magnitude = (int_part << t.frac) | bits;
    } else {
        const unsigned drop = static_cast<unsigned>(-t.frac);
        if (!frac_digits.empty() || (drop > 0 && (int_part & ((static_cast<tb_uint>(1) << drop) - 1)) != 0)) {
            error = "'" + text + "' is not a multiple of the type's LSB";
            return false;
        }
        magnitude = int_part >> drop;
    }
    raw = negative ? -static_cast<tb_int>(magnitude) : static_cast<tb_int>(magnitude);
    const tb_int min = t.is_signed ? -(static_cast<tb_int>(1) << (t.width - 1)) : 0;
    const tb_int max = (static_cast<tb_int>(1) << (t.is_signed ? t.width - 1 : t.width)) - 1;
    if (raw < min || raw > max) {
        error = "'" + text + "' is out of range";
        return false;
    }
    return true;
}

// The shortest exact decimal text of a raw value of `t`.
std::string tb_format(tb_int raw, const TbType &t) {
    if (raw == 0) {
        return "0";
    }
    const bool negative = raw < 0;
    tb_uint magnitude = negative ? static_cast<tb_uint>(-raw) : static_cast<tb_uint>(raw);
    tb_uint int_part = magnitude;
    tb_uint rest = 0;
    if (t.frac <= 0) {
        int_part = magnitude << static_cast<unsigned>(-t.frac);
    } else {
        int_part = t.frac >= 127 ? 0 : magnitude >> t.frac;
        rest = t.frac >= 127 ? magnitude : magnitude & ((static_cast<tb_uint>(1) << t.frac) - 1);
    }
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(int_part % 10)));
        int_part /= 10;
    } while (int_part != 0);
    if (rest != 0) {
        digits.push_back('.');
        const tb_uint mask = (static_cast<tb_uint>(1) << t.frac) - 1;
        while (rest != 0) {
            rest *= 10;
            digits.push_back(static_cast<char>('0' + static_cast<int>(rest >> t.frac)));
            rest &= mask;
        }
    }
    return negative ? "-" + digits : digits;
}

// A port's bits as 32-bit words, least significant first.
void tb_pack(std::vector<uint32_t> &words, unsigned offset, unsigned width, tb_int raw) {
    for (unsigned b = 0; b < width; b++) {
        if ((static_cast<tb_uint>(raw) >> b) & 1) {
            words[(offset + b) / 32] |= static_cast<uint32_t>(1) << ((offset + b) % 32);
        }
    }
}

tb_int tb_unpack(const std::vector<uint32_t> &words, unsigned offset, const TbType &t) {
    tb_uint bits = 0;
    for (unsigned b = 0; b < t.width; b++) {
        const unsigned at = offset + b;
        bits |= static_cast<tb_uint>((words[at / 32] >> (at % 32)) & 1) << b;
    }
    if (t.is_signed && ((bits >> (t.width - 1)) & 1)) {
        bits |= ~static_cast<tb_uint>(0) << t.width;
    }
    return static_cast<tb_int>(bits);
}

// Ports of at most 64 bits are integers; wider ones are VlWide word arrays.
template <class T>
void tb_set(T &port, const std::vector<uint32_t> &words) {
    uint64_t v = words[0];
    if (words.size() > 1) {
        v |= static_cast<uint64_t>(words[1]) << 32;
    }
    port = static_cast<T>(v);
}

template <std::size_t N>
void tb_set(VlWide<N> &port, const std::vector<uint32_t> &words) {
    for (std::size_t k = 0; k < N; k++) {
        port[k] = words[k];
    }
}

template <class T>
std::vector<uint32_t> tb_get(const T &port, unsigned n_words) {
    std::vector<uint32_t> words(n_words, 0);
    const uint64_t v = static_cast<uint64_t>(port);
    words[0] = static_cast<uint32_t>(v);
    if (n_words > 1) {
        words[1] = static_cast<uint32_t>(v >> 32);
    }
    return words;
}

template <std::size_t N>
std::vector<uint32_t> tb_get(const VlWide<N> &port, unsigned n_words) {
    std::vector<uint32_t> words(n_words, 0);
    for (std::size_t k = 0; k < N && k < n_words; k++) {
        words[k] = port[k];
    }
    return words;
}

int tb_fail(unsigned long line, const std::string &file, const std::string &what) {
    std::cerr << "error: " << file << " line " << line << ": " << what << std::endl;
    return 2;
}
