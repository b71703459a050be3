// The C ABI from C++17: the header in a C++ translation unit (extern "C" linkage), an RAII
// handle, known values, in-place calls, status codes, the bfloat16 and binary16 entry points
// against the float ones rounded here, and one handle shared by several std::threads, with and
// without actkern_set_serial.
//
// Built and run by tests/c_abi.rs (c++ -std=c++17 -Wall -Wextra -Werror -pedantic), against
// libactkern.a and libactkern.so. Prints "<checks> checks, <failures> failed" and exits non-zero
// when a check fails.
#include "actkern.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

int checks = 0;
int failures = 0;

void check(bool ok, const char *what, int line) {
    ++checks;
    if (!ok) {
        ++failures;
        std::fprintf(stderr, "test_actkern.cpp:%d: check failed: %s\n", line, what);
    }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

struct Free {
    void operator()(actkern_activation *act) const noexcept { actkern_free(act); }
};
using Activation = std::unique_ptr<actkern_activation, Free>;

// Parses a spec string, throwing the library's message on failure.
Activation parse(const std::string &spec) {
    char err[512];
    Activation act(actkern_parse(spec.c_str(), err, sizeof err));
    if (!act) throw std::invalid_argument(err);
    return act;
}

std::string spec_of(const Activation &act) {
    std::string s(actkern_spec(act.get(), nullptr, 0), '\0');
    actkern_spec(act.get(), s.data(), s.size() + 1);
    return s;
}

std::vector<float> inputs(std::size_t n, std::uint32_t seed) {
    std::vector<float> x(n);
    std::uint32_t s = seed * 2654435761u + 7u;
    for (auto &v : x) {
        s = s * 1664525u + 1013904223u;
        v = static_cast<float>((s >> 8) * (16.0 / 16777216.0) - 8.0);
    }
    return x;
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool close(float got, double want) { return std::fabs(got - want) <= 4e-7 * std::fabs(want); }

void test_basics() {
    CHECK(std::string(actkern_version()) == ACTKERN_VERSION);

    bool threw = false;
    try {
        parse("leaky_relu(negative_slope=abc)");
    } catch (const std::invalid_argument &e) {
        threw = std::string(e.what()).find("negative_slope") != std::string::npos;
    }
    CHECK(threw);

    Activation hardtanh = parse("hardtanh( min_val = -2 , max_val = 2 )");
    CHECK(spec_of(hardtanh) == "hardtanh(min_val=-2, max_val=2)");

    Activation sigmoid = parse("sigmoid");
    std::vector<float> x{-2.0f, 0.0f, 2.0f}, y(3), d(3);
    CHECK(actkern_forward(sigmoid.get(), x.data(), y.data(), x.size()) == ACTKERN_OK);
    CHECK(close(y[0], 0.11920292202211755));
    CHECK(y[1] == 0.5f);
    CHECK(close(y[2], 0.88079707797788245));
    CHECK(actkern_derivative(sigmoid.get(), x.data(), d.data(), x.size()) == ACTKERN_OK);
    CHECK(d[1] == 0.25f);

    // In place: the forward overwrites its input, the backward its incoming gradient.
    std::vector<float> z = x;
    CHECK(actkern_forward(sigmoid.get(), z.data(), z.data(), z.size()) == ACTKERN_OK);
    CHECK(same_bits(z, y));
    std::vector<float> g{1.0f, 1.0f, 1.0f};
    CHECK(actkern_backward(sigmoid.get(), x.data(), g.data(), g.data(), g.size()) == ACTKERN_OK);
    CHECK(same_bits(g, d));
    CHECK(actkern_backward_from_output(sigmoid.get(), y.data(), nullptr, nullptr, 0) == ACTKERN_OK);

    // Direct entry points.
    std::vector<float> e(3);
    CHECK(actkern_elu_forward(x.data(), e.data(), e.size(), 0.5f) == ACTKERN_OK);
    CHECK(close(e[0], 0.5 * std::expm1(-2.0)));
    CHECK(e[2] == 2.0f);
    CHECK(actkern_elu_forward(x.data(), e.data(), e.size(), INFINITY) == ACTKERN_ERR_BAD_SPEC);
    CHECK(actkern_relu6_forward(x.data(), x.data() + 1, 2) == ACTKERN_ERR_OVERLAP);
    CHECK(actkern_tanh_forward(nullptr, e.data(), 1) == ACTKERN_ERR_NULL_POINTER);
    CHECK(actkern_forward(nullptr, x.data(), e.data(), 1) == ACTKERN_ERR_NULL_POINTER);

    Activation hardswish = parse("hardswish");
    CHECK(actkern_has_backward_from_output(hardswish.get()) == 0);
    CHECK(actkern_backward_from_output(hardswish.get(), y.data(), g.data(), e.data(), 3) ==
          ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
    CHECK(std::string(actkern_strerror(ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT)).find("output") !=
          std::string::npos);
}

// ---- bfloat16 and binary16 ------------------------------------------------------------------

// Reference conversions from the formats' definitions: widening exact, narrowing to nearest
// with ties to even, overflow to infinity, NaN kept a NaN.
std::uint32_t bits_of(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float float_of(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

float bf16_to_float(std::uint16_t h) { return float_of(std::uint32_t{h} << 16); }

std::uint16_t float_to_bf16(float f) {
    std::uint32_t u = bits_of(f);
    if (std::isnan(f)) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>(u >> 16);
}

float f16_to_float(std::uint16_t h) {
    const unsigned exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    const float mag = exp == 0    ? std::ldexp(static_cast<float>(man), -24)
                      : exp == 31 ? (man != 0 ? NAN : INFINITY)
                                  : std::ldexp(static_cast<float>(man | 0x400u), static_cast<int>(exp) - 25);
    return (h & 0x8000u) ? -mag : mag;
}

std::uint16_t float_to_f16(float f) {
    // Exact in double: scale to units of the result's last place, round to nearest-even there.
    if (std::isnan(f)) return static_cast<std::uint16_t>(((bits_of(f) >> 16) & 0x8000u) | 0x7e00u);
    const std::uint16_t sign = std::signbit(f) ? 0x8000u : 0u;
    const double a = std::fabs(static_cast<double>(f));
    if (a >= 65520.0) return static_cast<std::uint16_t>(sign | 0x7c00u);  // inf included
    if (a == 0.0) return sign;
    int e;
    std::frexp(a, &e);                        // a = m * 2^e, m in [0.5, 1)
    const int unit = e - 11 < -24 ? -24 : e - 11;  // 11 significant bits, down to subnormals
    const double q = std::nearbyint(std::ldexp(a, -unit));  // ties to even (default mode)
    // q * 2^unit as binary16: subnormal (unit -24) or normal with the implicit bit in q.
    std::uint32_t h;
    if (unit == -24 && q < 1024.0) {
        h = static_cast<std::uint32_t>(q);
    } else {
        int qe = unit + 25;  // biased exponent when q is in [1024, 2048)
        double qq = q;
        if (qq >= 2048.0) {  // rounding carried
            qq /= 2.0;
            ++qe;
        }
        h = (static_cast<std::uint32_t>(qe) << 10) + static_cast<std::uint32_t>(qq) - 0x400u;
    }
    return static_cast<std::uint16_t>(sign | h);
}

struct Format {
    const char *name;
    float (*widen)(std::uint16_t);
    std::uint16_t (*narrow)(float);
    int (*forward)(const actkern_activation *, const std::uint16_t *, std::uint16_t *, std::size_t);
    int (*derivative)(const actkern_activation *, const std::uint16_t *, std::uint16_t *, std::size_t);
    int (*backward)(const actkern_activation *, const std::uint16_t *, const std::uint16_t *, std::uint16_t *,
                    std::size_t);
    int (*backward_from_output)(const actkern_activation *, const std::uint16_t *, const std::uint16_t *,
                                std::uint16_t *, std::size_t);
};

const Format formats[] = {
    {"bf16", bf16_to_float, float_to_bf16, actkern_forward_bf16, actkern_derivative_bf16, actkern_backward_bf16,
     actkern_backward_from_output_bf16},
    {"f16", f16_to_float, float_to_f16, actkern_forward_f16, actkern_derivative_f16, actkern_backward_f16,
     actkern_backward_from_output_f16},
};

std::vector<std::uint16_t> inputs16(const Format &fmt, std::size_t n, std::uint32_t seed) {
    static const float specials[] = {NAN,      -NAN,      INFINITY, -INFINITY, 0.0f,  -0.0f, 1e-40f, -3e-39f,
                                     6e-8f,    -3e-5f,    70000.0f, -70000.0f, 65504.0f, 1e5f,  1.5f,   -1.5f,
                                     -20.0f,   20.0f,     0.5f,     -1.0f};
    const std::vector<float> random = inputs(n, seed);
    std::vector<std::uint16_t> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const float v = i % 2 == 0 ? specials[(i / 2 + seed) % (sizeof specials / sizeof *specials)] : random[i];
        x[i] = fmt.narrow(v);
    }
    return x;
}

std::vector<float> widen(const Format &fmt, const std::vector<std::uint16_t> &h) {
    std::vector<float> f(h.size());
    for (std::size_t i = 0; i < h.size(); ++i) f[i] = fmt.widen(h[i]);
    return f;
}

// got is want rounded to fmt, NaN matching NaN.
bool rounds_to(const Format &fmt, const std::vector<std::uint16_t> &got, const std::vector<float> &want) {
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(fmt.widen(got[i])) && std::isnan(want[i])) continue;
        if (got[i] != fmt.narrow(want[i])) {
            std::fprintf(stderr, "%s [%zu]: got 0x%04x, want 0x%04x (from %.9g)\n", fmt.name, i, got[i],
                         fmt.narrow(want[i]), static_cast<double>(want[i]));
            return false;
        }
    }
    return true;
}

void test_half() {
    CHECK(float_to_f16(65504.0f) == 0x7bff && float_to_f16(65520.0f) == 0x7c00);
    CHECK(float_to_f16(1.00048828125f) == 0x3c00 && float_to_f16(1.00146484375f) == 0x3c02);
    CHECK(float_to_f16(5.9604645e-08f) == 0x0001 && float_to_f16(2.9802322e-08f) == 0x0000);
    CHECK(float_to_f16(-3e-5f) == 0x81f7 && float_to_f16(6.1035156e-05f) == 0x0400);
    CHECK(float_to_bf16(70000.0f) == 0x4789 && float_to_bf16(1.00390625f) == 0x3f80);

    const char *specs[] = {"tanh", "gelu", "silu", "relu", "elu(alpha=0.5)", "sigmoid"};
    const std::size_t lengths[] = {0, 1, 7, 33, 100};
    for (const Format &fmt : formats) {
        for (const char *spec : specs) {
            const Activation act = parse(spec);
            const int failures_before = failures;
            for (std::size_t n : lengths) {
                const auto x = inputs16(fmt, n, static_cast<std::uint32_t>(n));
                const auto dy = inputs16(fmt, n, static_cast<std::uint32_t>(n) + 3);
                const auto xf = widen(fmt, x), dyf = widen(fmt, dy);
                std::vector<std::uint16_t> y(n), out(n);
                std::vector<float> want(n);
                CHECK(fmt.forward(act.get(), x.data(), y.data(), n) == ACTKERN_OK);
                CHECK(actkern_forward(act.get(), xf.data(), want.data(), n) == ACTKERN_OK);
                CHECK(rounds_to(fmt, y, want));
                std::vector<std::uint16_t> z = x;  // in place
                CHECK(fmt.forward(act.get(), z.data(), z.data(), n) == ACTKERN_OK);
                CHECK(z == y);
                CHECK(fmt.derivative(act.get(), x.data(), out.data(), n) == ACTKERN_OK);
                CHECK(actkern_derivative(act.get(), xf.data(), want.data(), n) == ACTKERN_OK);
                CHECK(rounds_to(fmt, out, want));
                CHECK(fmt.backward(act.get(), x.data(), dy.data(), out.data(), n) == ACTKERN_OK);
                CHECK(actkern_backward(act.get(), xf.data(), dyf.data(), want.data(), n) == ACTKERN_OK);
                CHECK(rounds_to(fmt, out, want));
                z = dy;  // the usual in-place gradient, dx == dy
                CHECK(fmt.backward(act.get(), x.data(), z.data(), z.data(), n) == ACTKERN_OK);
                CHECK(z == out);
                const auto yf = widen(fmt, y);
                const int status = actkern_backward_from_output(act.get(), yf.data(), dyf.data(), want.data(), n);
                CHECK(fmt.backward_from_output(act.get(), y.data(), dy.data(), out.data(), n) == status);
                if (status == ACTKERN_OK) CHECK(rounds_to(fmt, out, want));
            }
            if (failures != failures_before) std::fprintf(stderr, "  (in %s, %s)\n", fmt.name, spec);
        }

        // Status codes, in 2-byte elements.
        const Activation tanh_ = parse("tanh"), gelu = parse("gelu");
        std::uint16_t buf[8] = {}, out[8] = {};
        auto *misaligned = reinterpret_cast<std::uint16_t *>(reinterpret_cast<std::uintptr_t>(buf) + 1);
        CHECK(fmt.forward(nullptr, buf, out, 4) == ACTKERN_ERR_NULL_POINTER);
        CHECK(fmt.forward(tanh_.get(), nullptr, out, 4) == ACTKERN_ERR_NULL_POINTER);
        CHECK(fmt.backward(tanh_.get(), nullptr, nullptr, nullptr, 0) == ACTKERN_OK);
        CHECK(fmt.forward(tanh_.get(), misaligned, out, 2) == ACTKERN_ERR_BAD_BUFFER);
        CHECK(fmt.forward(tanh_.get(), out, out + 1, 4) == ACTKERN_ERR_OVERLAP);
        CHECK(fmt.forward(tanh_.get(), out, out + 4, 4) == ACTKERN_OK);
        CHECK(fmt.backward_from_output(gelu.get(), buf, buf, out, 4) == ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
    }
}

// Several threads share one handle, each on its own buffers, long enough that every call is
// split across actkern's pool too (unless serial). Every thread gets the bits of a call made
// alone.
void test_threads(bool serial) {
    const std::size_t n = 200000;
    CHECK(n >= ACTKERN_PARALLEL_THRESHOLD);
    const int previous = actkern_set_serial(serial ? 1 : 0);
    const Activation act = parse("elu(alpha=1.5)");
    const std::vector<float> x = inputs(n, 3), dy = inputs(n, 4);
    std::vector<float> want_y(n), want_dx(n);
    CHECK(actkern_forward(act.get(), x.data(), want_y.data(), n) == ACTKERN_OK);
    CHECK(actkern_backward(act.get(), x.data(), dy.data(), want_dx.data(), n) == ACTKERN_OK);
    std::vector<std::uint16_t> x16(n), want_y16(n);
    for (std::size_t i = 0; i < n; ++i) x16[i] = float_to_bf16(x[i]);
    CHECK(actkern_forward_bf16(act.get(), x16.data(), want_y16.data(), n) == ACTKERN_OK);

    const int threads = 4;
    std::vector<int> ok(threads, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::vector<float> y(n), dx(n);
            bool good = true;
            for (int rep = 0; rep < 3; ++rep) {
                good = good && actkern_forward(act.get(), x.data(), y.data(), n) == ACTKERN_OK;
                good = good && actkern_backward(act.get(), x.data(), dy.data(), dx.data(), n) ==
                                   ACTKERN_OK;
                good = good && same_bits(y, want_y) && same_bits(dx, want_dx);
                // In place on this thread's own copy.
                std::vector<float> z = x;
                good = good && actkern_forward(act.get(), z.data(), z.data(), n) == ACTKERN_OK;
                good = good && same_bits(z, want_y);
                std::vector<std::uint16_t> z16 = x16;
                good = good && actkern_forward_bf16(act.get(), z16.data(), z16.data(), n) == ACTKERN_OK;
                good = good && z16 == want_y16;
            }
            ok[t] = good ? 1 : 0;
        });
    }
    for (auto &th : pool) th.join();
    for (int t = 0; t < threads; ++t) CHECK(ok[t] == 1);
    CHECK(actkern_set_serial(previous) == (serial ? 1 : 0));
}

}  // namespace

int main() {
    test_basics();
    test_half();
    test_threads(false);
    test_threads(true);
    std::printf("test_actkern.cpp: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
