// The C ABI from C++17: the header in a C++ translation unit (extern "C" linkage), an RAII
// handle, known values, in-place calls, status codes, and one handle shared by several
// std::threads, with and without actkern_set_serial.
//
// Built and run by tests/c_abi.rs (c++ -std=c++17 -Wall -Wextra -Werror -pedantic), against
// libactkern.a and libactkern.so. Prints "<checks> checks, <failures> failed" and exits non-zero
// when a check fails.
#include "actkern.h"

#include <cmath>
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
    test_threads(false);
    test_threads(true);
    std::printf("test_actkern.cpp: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
