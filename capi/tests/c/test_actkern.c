/* The C ABI from C99: known values, in-place calls, every status code, NULL handling, the
 * direct entry points against the generic ones, serial mode and backends, and the bfloat16 and
 * binary16 entry points against the float ones rounded by reference conversions written here.
 *
 * Built and run by tests/c_abi.rs (cc -std=c99 -Wall -Wextra -Werror -pedantic), against
 * libactkern.a and libactkern.so. Prints "<checks> checks, <failures> failed" and exits non-zero
 * when a check fails. With --bad-backend-env (and ACTKERN_BACKEND set to a bad name) it checks
 * instead that the library runs anyway, on a real backend, and prints "backend: <name>" for
 * tests/c_abi.rs to compare with the message the library wrote on stderr. */
#include "actkern.h"
#include "direct_cases.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;
static int failures;

static void check(int ok, const char *what, int line) {
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "test_actkern.c:%d: check failed: %s\n", line, what);
    }
}
#define CHECK(cond) check((cond) != 0, #cond, __LINE__)

static void check_status(int got, int want, const char *what, int line) {
    checks++;
    if (got != want) {
        failures++;
        fprintf(stderr, "test_actkern.c:%d: %s returned %d (%s), want %d (%s)\n", line, what, got,
                actkern_strerror(got), want, actkern_strerror(want));
    }
}
#define CHECK_STATUS(call, want) check_status((call), (want), #call, __LINE__)

/* |got - want| <= rel * |want| (+ a tiny absolute term for want = 0), or both NaN. */
static void check_close(float got, double want, double rel, const char *what, int line) {
    int ok = (isnan(got) && isnan(want)) || fabs((double)got - want) <= rel * fabs(want) + 1e-30;
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "test_actkern.c:%d: %s = %.9g, want %.17g\n", line, what, (double)got, want);
    }
}
#define CHECK_CLOSE(got, want) check_close((got), (want), 4e-7, #got, __LINE__)
#define CHECK_EXACT(got, want) check_close((got), (want), 0.0, #got, __LINE__)

static int same_bits(const float *a, const float *b, size_t n) {
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* The same bits, except that any NaN matches any NaN (backends may differ in NaN payloads). */
static int same_values(const float *a, const float *b, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])) && memcmp(&a[i], &b[i], sizeof a[i]) != 0) return 0;
    return 1;
}

static actkern_activation *parse(const char *spec) {
    char err[512];
    actkern_activation *act = actkern_parse(spec, err, sizeof err);
    if (act == NULL) {
        fprintf(stderr, "actkern_parse(\"%s\"): %s\n", spec, err);
        exit(2);
    }
    return act;
}

static float *alloc_floats(size_t n) {
    float *p = (float *)malloc((n ? n : 1) * sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Deterministic inputs in [-10, 10), with special values sprinkled in. */
static void fill_inputs(float *x, size_t n, uint32_t seed) {
    static const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, 3.0f, -3.0f, 6.0f, 1e-30f, -1e-30f};
    size_t i;
    uint32_t s = seed * 2654435761u + 12345u;
    for (i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) * (20.0 / 16777216.0) - 10.0);
        if (i % 97 == 5) x[i] = specials[(i / 97) % (sizeof specials / sizeof specials[0])];
        if (i % 211 == 7) x[i] = (i / 211) % 3 == 0 ? NAN : (i / 211) % 3 == 1 ? INFINITY : -INFINITY;
    }
}

static void fill(float *x, size_t n, float v) {
    size_t i;
    for (i = 0; i < n; i++) x[i] = v;
}

/* ---- version, backend, strerror ------------------------------------------------------- */

static int is_backend_name(const char *b);

static void test_version_and_backend(void) {
    const char *b = actkern_backend();
    CHECK(strcmp(actkern_version(), ACTKERN_VERSION) == 0);
    CHECK(is_backend_name(b));
}

static void test_strerror(void) {
    static const int codes[] = {ACTKERN_OK,
                                ACTKERN_ERR_NULL_POINTER,
                                ACTKERN_ERR_OVERLAP,
                                ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT,
                                ACTKERN_ERR_BAD_SPEC,
                                ACTKERN_ERR_BAD_BUFFER,
                                ACTKERN_ERR_BAD_BACKEND,
                                ACTKERN_ERR_INTERNAL};
    size_t i, j, count = sizeof codes / sizeof codes[0];
    const char *unknown = actkern_strerror(12345);
    CHECK(ACTKERN_OK == 0);
    CHECK(unknown != NULL && strstr(unknown, "unknown") != NULL);
    CHECK(actkern_strerror(-8) == unknown || strcmp(actkern_strerror(-8), unknown) == 0);
    for (i = 0; i < count; i++) {
        const char *s = actkern_strerror(codes[i]);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(strcmp(s, unknown) != 0);
        if (i > 0) CHECK(codes[i] < 0);
        for (j = 0; j < i; j++) CHECK(codes[i] != codes[j] && strcmp(s, actkern_strerror(codes[j])) != 0);
    }
}

/* ---- parse, spec, free ------------------------------------------------------------------ */

static void test_parse(void) {
    char err[512], small[6], spec[64];
    actkern_activation *act;

    strcpy(err, "stale");
    act = actkern_parse(" elu( alpha = 0.5 ) ", err, sizeof err);
    CHECK(act != NULL);
    CHECK(err[0] == '\0'); /* cleared on success */
    CHECK(actkern_spec(act, spec, sizeof spec) == strlen("elu(alpha=0.5)"));
    CHECK(strcmp(spec, "elu(alpha=0.5)") == 0);
    CHECK(actkern_spec(act, small, sizeof small) == strlen("elu(alpha=0.5)")); /* cut */
    CHECK(strcmp(small, "elu(a") == 0);
    CHECK(actkern_spec(act, NULL, 0) == strlen("elu(alpha=0.5)"));
    CHECK(actkern_has_backward_from_output(act) == 1);
    actkern_free(act);

    act = actkern_parse("hardtanh", NULL, 0); /* no error buffer is fine */
    CHECK(act != NULL);
    CHECK(actkern_spec(act, spec, sizeof spec) == strlen("hardtanh") && strcmp(spec, "hardtanh") == 0);
    actkern_free(act);

    /* Failures: NULL, the message says what is wrong. */
    CHECK(actkern_parse("tanhh", err, sizeof err) == NULL);
    CHECK(strstr(err, "tanhh") != NULL && strstr(err, "tanh") != NULL);
    CHECK(actkern_parse("elu(alpha=nan)", err, sizeof err) == NULL);
    CHECK(strstr(err, "alpha") != NULL);
    CHECK(actkern_parse("elu(beta=1)", err, sizeof err) == NULL);
    CHECK(strstr(err, "beta") != NULL);
    CHECK(actkern_parse("hardtanh(min_val=2, max_val=-2)", err, sizeof err) == NULL);
    CHECK(strstr(err, "min_val") != NULL);
    CHECK(actkern_parse("", err, sizeof err) == NULL && err[0] != '\0');
    CHECK(actkern_parse("relu(", err, sizeof err) == NULL && err[0] != '\0');
    CHECK(actkern_parse("\xff\xfe", err, sizeof err) == NULL && strstr(err, "UTF-8") != NULL);
    CHECK(actkern_parse(NULL, err, sizeof err) == NULL && strstr(err, "NULL") != NULL);
    CHECK(actkern_parse(NULL, NULL, 0) == NULL);

    /* The message is cut to the buffer, NUL included; a zero-length buffer is untouched. */
    memset(small, 'x', sizeof small);
    CHECK(actkern_parse("nope", small, sizeof small) == NULL);
    CHECK(strlen(small) == sizeof small - 1);
    memset(small, 'x', sizeof small);
    CHECK(actkern_parse("nope", small, 0) == NULL);
    CHECK(small[0] == 'x');
    CHECK(actkern_parse("nope", small, 1) == NULL);
    CHECK(small[0] == '\0' && small[1] == 'x');

    CHECK(actkern_spec(NULL, spec, sizeof spec) == 0 && spec[0] == '\0');
    CHECK_STATUS(actkern_has_backward_from_output(NULL), ACTKERN_ERR_NULL_POINTER);
    actkern_free(NULL);
}

/* ---- known values ----------------------------------------------------------------------- */

static void test_known_values(void) {
    const float x[5] = {-2.0f, -0.5f, 0.0f, 0.5f, 2.0f};
    const float dy[5] = {2.0f, 2.0f, 2.0f, 2.0f, 2.0f};
    float y[5], d[5], dx[5];
    actkern_activation *tanh_ = parse("tanh");
    actkern_activation *sigmoid = parse("sigmoid");
    actkern_activation *elu = parse("elu(alpha=0.5)");
    actkern_activation *leaky = parse("leaky_relu(negative_slope=0.2)");
    actkern_activation *hardtanh = parse("hardtanh(min_val=-2, max_val=2)");
    actkern_activation *relu = parse("relu");
    actkern_activation *hardswish = parse("hardswish");

    CHECK_STATUS(actkern_forward(tanh_, x, y, 5), ACTKERN_OK);
    CHECK_CLOSE(y[0], -0.96402758007581690);
    CHECK_CLOSE(y[1], -0.46211715726000974);
    CHECK_EXACT(y[2], 0.0);
    CHECK_CLOSE(y[3], 0.46211715726000974);
    CHECK_CLOSE(y[4], 0.96402758007581690);
    CHECK_STATUS(actkern_derivative(tanh_, x, d, 5), ACTKERN_OK);
    CHECK_CLOSE(d[0], 0.07065082485316443); /* 1 - tanh(2)^2 */
    CHECK_CLOSE(d[3], 0.78644773296592741);
    CHECK_EXACT(d[2], 1.0);
    CHECK_STATUS(actkern_backward(tanh_, x, dy, dx, 5), ACTKERN_OK);
    CHECK_CLOSE(dx[3], 2.0 * 0.78644773296592741);
    CHECK_STATUS(actkern_backward_from_output(tanh_, y, dy, dx, 5), ACTKERN_OK);
    /* 2(1 - y^2) with y rounded to float: 1 - y^2 amplifies y's rounding near |y| = 1. */
    check_close(dx[0], 2.0 * 0.07065082485316443, 3e-6, "dx[0]", __LINE__);
    CHECK_CLOSE(dx[3], 2.0 * 0.78644773296592741);

    CHECK_STATUS(actkern_forward(sigmoid, x, y, 5), ACTKERN_OK);
    CHECK_CLOSE(y[0], 0.11920292202211755);
    CHECK_EXACT(y[2], 0.5);
    CHECK_CLOSE(y[4], 0.88079707797788245);
    CHECK_STATUS(actkern_derivative(sigmoid, x, d, 5), ACTKERN_OK);
    CHECK_EXACT(d[2], 0.25);
    CHECK_CLOSE(d[4], 0.10499358540350652);

    CHECK_STATUS(actkern_forward(elu, x, y, 5), ACTKERN_OK);
    CHECK_CLOSE(y[0], 0.5 * (exp(-2.0) - 1.0));
    CHECK_CLOSE(y[1], 0.5 * (exp(-0.5) - 1.0));
    CHECK_EXACT(y[4], 2.0);
    CHECK_STATUS(actkern_derivative(elu, x, d, 5), ACTKERN_OK);
    CHECK_CLOSE(d[1], 0.5 * exp(-0.5));
    CHECK_EXACT(d[2], 0.5); /* alpha at 0 (SPEC 2.1) */
    CHECK_EXACT(d[4], 1.0);
    CHECK_STATUS(actkern_backward_from_output(elu, y, dy, dx, 5), ACTKERN_OK);
    CHECK_CLOSE(dx[1], 2.0 * 0.5 * exp(-0.5)); /* y + alpha */
    CHECK_EXACT(dx[4], 2.0);

    CHECK_STATUS(actkern_forward(leaky, x, y, 5), ACTKERN_OK);
    CHECK_EXACT(y[0], -2.0f * 0.2f);
    CHECK_EXACT(y[4], 2.0);
    CHECK_STATUS(actkern_backward(leaky, x, dy, dx, 5), ACTKERN_OK);
    CHECK_EXACT(dx[0], 2.0f * 0.2f);
    CHECK_EXACT(dx[4], 2.0);

    {
        const float h[4] = {-3.0f, -2.0f, 0.5f, 3.0f};
        CHECK_STATUS(actkern_forward(hardtanh, h, y, 4), ACTKERN_OK);
        CHECK_EXACT(y[0], -2.0);
        CHECK_EXACT(y[2], 0.5);
        CHECK_EXACT(y[3], 2.0);
        CHECK_STATUS(actkern_derivative(hardtanh, h, d, 4), ACTKERN_OK);
        CHECK_EXACT(d[1], 0.0); /* 0 at the knee */
        CHECK_EXACT(d[2], 1.0);
    }
    {
        const float r[3] = {-0.0f, -1.0f, 3.5f};
        const float g[3] = {INFINITY, 1.0f, 1.0f};
        CHECK_STATUS(actkern_forward(relu, r, y, 3), ACTKERN_OK);
        CHECK(y[0] == 0.0f && signbit(y[0])); /* relu(-0) = -0 */
        CHECK_EXACT(y[1], 0.0);
        CHECK_EXACT(y[2], 3.5);
        CHECK_STATUS(actkern_backward(relu, r, g, dx, 3), ACTKERN_OK);
        CHECK_EXACT(dx[0], 0.0); /* dy = inf on a flat piece gives 0 */
    }
    {
        const float s[4] = {-4.0f, 0.0f, 1.0f, 4.0f};
        const float nan_in[1] = {NAN};
        CHECK_STATUS(actkern_forward(hardswish, s, y, 4), ACTKERN_OK);
        CHECK(y[0] == 0.0f && signbit(y[0]));
        CHECK_CLOSE(y[2], 4.0 / 6.0);
        CHECK_EXACT(y[3], 4.0);
        CHECK_STATUS(actkern_derivative(hardswish, s, d, 4), ACTKERN_OK);
        CHECK_EXACT(d[1], 0.5);
        CHECK_STATUS(actkern_forward(tanh_, nan_in, y, 1), ACTKERN_OK);
        CHECK(isnan(y[0]));
    }

    {
        const float g[3] = {-1.0f, 0.0f, 1.0f};
        CHECK_STATUS(actkern_gelu_forward(g, y, 3, ACTKERN_GELU_APPROXIMATE_NONE), ACTKERN_OK);
        CHECK_CLOSE(y[0], -0.15865525393145707); /* x * Phi(x) */
        CHECK_CLOSE(y[2], 0.84134474606854293);
        CHECK_STATUS(actkern_gelu_forward(g, y, 3, ACTKERN_GELU_APPROXIMATE_TANH), ACTKERN_OK);
        CHECK_CLOSE(y[2], 0.84119199060827677); /* 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) */
        CHECK_STATUS(actkern_gelu_derivative(g, d, 3, ACTKERN_GELU_APPROXIMATE_NONE), ACTKERN_OK);
        CHECK_EXACT(d[1], 0.5);
        CHECK_STATUS(actkern_silu_forward(g, y, 3), ACTKERN_OK);
        CHECK_CLOSE(y[2], 0.73105857863000488); /* sigmoid(1) */
    }

    actkern_free(tanh_);
    actkern_free(sigmoid);
    actkern_free(elu);
    actkern_free(leaky);
    actkern_free(hardtanh);
    actkern_free(relu);
    actkern_free(hardswish);
}

/* ---- in place --------------------------------------------------------------------------- */

/* Every exact aliasing the header allows gives the bits of the out-of-place call. */
static void check_in_place(const char *spec, size_t n) {
    actkern_activation *act = parse(spec);
    float *x = alloc_floats(n), *dy = alloc_floats(n), *y = alloc_floats(n);
    float *want = alloc_floats(n), *buf = alloc_floats(n), *buf2 = alloc_floats(n);
    int from_output = actkern_has_backward_from_output(act);
    fill_inputs(x, n, (uint32_t)n);
    fill_inputs(dy, n, (uint32_t)n + 1);

    CHECK_STATUS(actkern_forward(act, x, y, n), ACTKERN_OK);
    memcpy(buf, x, n * sizeof *x);
    CHECK_STATUS(actkern_forward(act, buf, buf, n), ACTKERN_OK);
    CHECK(same_bits(buf, y, n));

    CHECK_STATUS(actkern_derivative(act, x, want, n), ACTKERN_OK);
    memcpy(buf, x, n * sizeof *x);
    CHECK_STATUS(actkern_derivative(act, buf, buf, n), ACTKERN_OK);
    CHECK(same_bits(buf, want, n));

    CHECK_STATUS(actkern_backward(act, x, dy, want, n), ACTKERN_OK);
    memcpy(buf, dy, n * sizeof *dy); /* dx == dy */
    CHECK_STATUS(actkern_backward(act, x, buf, buf, n), ACTKERN_OK);
    CHECK(same_bits(buf, want, n));
    memcpy(buf, x, n * sizeof *x); /* dx == x */
    CHECK_STATUS(actkern_backward(act, buf, dy, buf, n), ACTKERN_OK);
    CHECK(same_bits(buf, want, n));
    CHECK_STATUS(actkern_backward(act, x, x, want, n), ACTKERN_OK); /* x == dy, both inputs */
    memcpy(buf, x, n * sizeof *x);                                  /* dx == x == dy */
    CHECK_STATUS(actkern_backward(act, buf, buf, buf, n), ACTKERN_OK);
    CHECK(same_bits(buf, want, n));

    if (from_output == 1) {
        CHECK_STATUS(actkern_backward_from_output(act, y, dy, want, n), ACTKERN_OK);
        memcpy(buf, y, n * sizeof *y); /* dx == y */
        CHECK_STATUS(actkern_backward_from_output(act, buf, dy, buf, n), ACTKERN_OK);
        CHECK(same_bits(buf, want, n));
        memcpy(buf, dy, n * sizeof *dy); /* dx == dy */
        CHECK_STATUS(actkern_backward_from_output(act, y, buf, buf, n), ACTKERN_OK);
        CHECK(same_bits(buf, want, n));
        CHECK_STATUS(actkern_backward_from_output(act, y, y, want, n), ACTKERN_OK);
        memcpy(buf, y, n * sizeof *y); /* dx == y == dy */
        CHECK_STATUS(actkern_backward_from_output(act, buf, buf, buf, n), ACTKERN_OK);
        CHECK(same_bits(buf, want, n));
    } else {
        CHECK(from_output == 0);
        fill(buf2, n, 7.0f);
        memcpy(buf, buf2, n * sizeof *buf);
        CHECK_STATUS(actkern_backward_from_output(act, y, dy, buf, n), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
        CHECK(same_bits(buf, buf2, n)); /* nothing written */
    }

    free(x);
    free(dy);
    free(y);
    free(want);
    free(buf);
    free(buf2);
    actkern_free(act);
}

static void test_in_place(void) {
    static const char *specs[] = {"tanh", "elu(alpha=0.5)", "hardtanh(min_val=-2, max_val=2)",
                                  "hardswish", "sigmoid"};
    /* Short tails, one vector, past the threading threshold, and several 1 MiB copy blocks. */
    static const size_t lengths[] = {1, 3, 16, 17, 100, 1000, 200003, 600001};
    size_t s, l;
    for (s = 0; s < sizeof specs / sizeof specs[0]; s++)
        for (l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            if (lengths[l] > 1000 && s > 1) continue; /* the long ones twice are enough */
            check_in_place(specs[s], lengths[l]);
        }
}

/* ---- status codes ------------------------------------------------------------------------ */

static void test_status_codes(void) {
    float buf[16], out[16], sentinel[16];
    actkern_activation *tanh_ = parse("tanh");
    actkern_activation *hardswish = parse("hardswish");
    actkern_activation *elu_neg = parse("elu(alpha=-0.75)");
    float *misaligned = (float *)(uintptr_t)((uintptr_t)buf + 1);
    size_t too_long = ((size_t)PTRDIFF_MAX / sizeof(float)) + 1;
    fill_inputs(buf, 16, 3);
    fill(sentinel, 16, 42.0f);

    /* NULL handle: always an error, n = 0 too. */
    CHECK_STATUS(actkern_forward(NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_forward(NULL, NULL, NULL, 0), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_derivative(NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward(NULL, buf, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward_from_output(NULL, buf, buf, out, 4), ACTKERN_ERR_NULL_POINTER);

    /* NULL buffers with n > 0, each position, writing nothing. */
    memcpy(out, sentinel, sizeof out);
    CHECK_STATUS(actkern_forward(tanh_, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_forward(tanh_, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_derivative(tanh_, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_derivative(tanh_, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward(tanh_, NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward(tanh_, buf, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward(tanh_, buf, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward_from_output(tanh_, NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward_from_output(tanh_, buf, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward_from_output(tanh_, buf, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_elu_forward(NULL, out, 4, 1.0f), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_elu_backward(buf, NULL, out, 4, 1.0f), ACTKERN_ERR_NULL_POINTER);
    CHECK(same_bits(out, sentinel, 16));

    /* n = 0: a no-op success, NULL pointers included. */
    CHECK_STATUS(actkern_forward(tanh_, NULL, NULL, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_derivative(tanh_, NULL, NULL, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_backward(tanh_, NULL, NULL, NULL, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_backward_from_output(tanh_, NULL, NULL, NULL, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_forward(tanh_, misaligned, misaligned, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_elu_forward(NULL, NULL, 0, 1.0f), ACTKERN_OK);
    CHECK_STATUS(actkern_hardtanh_backward_from_output(NULL, NULL, NULL, 0, -1.0f, 1.0f), ACTKERN_OK);

    /* Partial overlap of the output with an input. */
    memcpy(out, sentinel, sizeof out);
    CHECK_STATUS(actkern_forward(tanh_, out, out + 1, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_forward(tanh_, out + 3, out, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_derivative(tanh_, out + 1, out, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward(tanh_, buf, out + 2, out, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward(tanh_, out + 2, buf, out, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward(tanh_, out, out + 1, out, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward_from_output(tanh_, out + 1, buf, out, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_relu_forward(out, out + 1, 4), ACTKERN_ERR_OVERLAP);
    CHECK(same_bits(out, sentinel, 16));
    /* Adjacent buffers and overlapping inputs are fine. */
    CHECK_STATUS(actkern_forward(tanh_, out, out + 4, 4), ACTKERN_OK);
    CHECK_STATUS(actkern_backward(tanh_, buf, buf + 1, out, 4), ACTKERN_OK);

    /* No backward from the output: the activation, or these parameter values. */
    memcpy(out, sentinel, sizeof out);
    CHECK(actkern_has_backward_from_output(hardswish) == 0);
    CHECK(actkern_has_backward_from_output(elu_neg) == 0);
    CHECK_STATUS(actkern_backward_from_output(hardswish, buf, buf, out, 4), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
    CHECK_STATUS(actkern_backward_from_output(hardswish, NULL, NULL, NULL, 0), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
    CHECK_STATUS(actkern_backward_from_output(elu_neg, buf, buf, out, 4), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
    CHECK_STATUS(actkern_elu_backward_from_output(buf, buf, out, 4, -0.75f), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
    CHECK_STATUS(actkern_elu_backward_from_output(buf, buf, out, 4, 0.75f), ACTKERN_OK);
    memcpy(out, sentinel, sizeof out);

    /* Bad parameters of direct entry points (the bad spec strings are in test_parse). */
    CHECK_STATUS(actkern_elu_forward(buf, out, 4, NAN), ACTKERN_ERR_BAD_SPEC);
    CHECK_STATUS(actkern_elu_forward(buf, out, 4, INFINITY), ACTKERN_ERR_BAD_SPEC);
    CHECK_STATUS(actkern_elu_forward(NULL, NULL, 0, NAN), ACTKERN_ERR_BAD_SPEC);
    CHECK_STATUS(actkern_hardtanh_forward(buf, out, 4, 2.0f, -2.0f), ACTKERN_ERR_BAD_SPEC);
    CHECK_STATUS(actkern_hardtanh_derivative(buf, out, 4, -1.0f, NAN), ACTKERN_ERR_BAD_SPEC);
    CHECK_STATUS(actkern_leaky_relu_backward(buf, buf, out, 4, -INFINITY), ACTKERN_ERR_BAD_SPEC);
    CHECK_STATUS(actkern_gelu_forward(buf, out, 4, 2), ACTKERN_ERR_BAD_SPEC); /* no such choice */
    CHECK_STATUS(actkern_gelu_forward(buf, out, 4, -1), ACTKERN_ERR_BAD_SPEC);
    CHECK_STATUS(actkern_softplus_forward(buf, out, 4, 0.0f, 20.0f), ACTKERN_ERR_BAD_SPEC); /* beta > 0 */
    CHECK(same_bits(out, sentinel, 16));

    /* Buffers that cannot exist. */
    CHECK_STATUS(actkern_forward(tanh_, misaligned, out, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_forward(tanh_, buf, misaligned, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_backward(tanh_, buf, misaligned, out, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_forward(tanh_, buf, out, too_long), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_forward(tanh_, buf, out, SIZE_MAX), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_relu_backward(buf, buf, out, SIZE_MAX / 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK(same_bits(out, sentinel, 16));

    /* Backends. */
    CHECK_STATUS(actkern_set_backend("no-such-backend"), ACTKERN_ERR_BAD_BACKEND);
    CHECK_STATUS(actkern_set_backend(""), ACTKERN_ERR_BAD_BACKEND);
    CHECK_STATUS(actkern_set_backend("\xff"), ACTKERN_ERR_BAD_BACKEND);
    CHECK_STATUS(actkern_set_backend(NULL), ACTKERN_ERR_NULL_POINTER);

    actkern_free(tanh_);
    actkern_free(hardswish);
    actkern_free(elu_neg);
}

/* ---- direct entry points against the generic ones --------------------------------------- */

static void test_direct_entry_points(void) {
    enum { N = 1000 };
    static float x[N], dy[N], y[N], a[N], b[N];
    size_t c;
    fill_inputs(x, N, 11);
    fill_inputs(dy, N, 12);
    CHECK(DIRECT_CASE_COUNT > 0);
    for (c = 0; c < DIRECT_CASE_COUNT; c++) {
        const struct direct_case *dc = &DIRECT_CASES[c];
        actkern_activation *act = parse(dc->spec);
        int failures_before = failures;
        CHECK_STATUS(actkern_forward(act, x, a, N), ACTKERN_OK);
        CHECK_STATUS(dc->forward(x, b, N), ACTKERN_OK);
        CHECK(same_bits(a, b, N));
        memcpy(y, a, sizeof y);
        CHECK_STATUS(actkern_derivative(act, x, a, N), ACTKERN_OK);
        CHECK_STATUS(dc->derivative(x, b, N), ACTKERN_OK);
        CHECK(same_bits(a, b, N));
        CHECK_STATUS(actkern_backward(act, x, dy, a, N), ACTKERN_OK);
        CHECK_STATUS(dc->backward(x, dy, b, N), ACTKERN_OK);
        CHECK(same_bits(a, b, N));
        if (dc->backward_from_output != NULL) {
            int want = actkern_backward_from_output(act, y, dy, a, N);
            CHECK_STATUS(dc->backward_from_output(y, dy, b, N), want);
            CHECK(want == (actkern_has_backward_from_output(act) ? ACTKERN_OK : ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT));
            if (want == ACTKERN_OK) CHECK(same_bits(a, b, N));
        } else {
            CHECK(actkern_has_backward_from_output(act) == 0);
        }
        if (failures != failures_before) fprintf(stderr, "  (in direct case \"%s\")\n", dc->spec);
        actkern_free(act);
    }
}

/* ---- bfloat16 and binary16 -------------------------------------------------------------- */

/* Reference conversions, from the formats' definitions: widening is exact; narrowing rounds to
 * nearest, ties to even, overflowing to infinity, and keeps NaN a NaN. */

static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float bf16_to_f32(uint16_t h) { return bits_float((uint32_t)h << 16); }

static uint16_t f32_to_bf16(float f) {
    uint32_t u = float_bits(f);
    if (isnan(f)) return (uint16_t)((u >> 16) | 0x0040u); /* quiet, sign and top payload kept */
    u += 0x7fffu + ((u >> 16) & 1u);                        /* carries into the exponent: inf */
    return (uint16_t)(u >> 16);
}

static float f16_to_f32(uint16_t h) {
    unsigned exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    float mag = exp == 0    ? ldexpf((float)man, -24) /* zero, subnormal */
                : exp == 31 ? (man != 0 ? NAN : INFINITY)
                            : ldexpf((float)(man | 0x400u), (int)exp - 25);
    return (h & 0x8000u) ? -mag : mag;
}

/* Rounds the 24-bit significand `sig` shifted right by `shift` (1..31) to nearest-even. */
static uint32_t round_shift(uint32_t sig, unsigned shift) {
    uint32_t kept = sig >> shift, rest = sig & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    return kept + (rest > half || (rest == half && (kept & 1u)));
}

static uint16_t f32_to_f16(float f) {
    uint32_t u = float_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    int exp = (int)((u >> 23) & 0xffu) - 127 + 15; /* binary16's biased exponent */
    uint32_t sig = (u & 0x7fffffu) | 0x800000u;    /* with the implicit bit (wrong for 0) */
    if (isnan(f)) return (uint16_t)(sign | 0x7e00u | ((u >> 13) & 0x3ffu));
    if (isinf(f) || exp >= 31) return (uint16_t)(sign | 0x7c00u);
    if ((u & 0x7fffffffu) == 0) return sign;
    if (exp <= 0) { /* subnormal (or rounds to zero, or up to the smallest normal) */
        if (exp < -10) return sign;
        return (uint16_t)(sign | round_shift(sig, (unsigned)(14 - exp)));
    }
    /* A carry out of the significand bumps the exponent, up to infinity: still right. */
    return (uint16_t)(sign | (((uint32_t)exp << 10) + round_shift(sig, 13) - 0x400u));
}

/* One 16-bit format's conversions and entry points. */
typedef int (*unary16)(const actkern_activation *, const uint16_t *, uint16_t *, size_t);
typedef int (*binary16)(const actkern_activation *, const uint16_t *, const uint16_t *, uint16_t *, size_t);
struct format16 {
    const char *name;
    float (*widen)(uint16_t);
    uint16_t (*narrow)(float);
    unary16 forward, derivative;
    binary16 backward, backward_from_output;
};
static const struct format16 FORMATS[2] = {
    {"bf16", bf16_to_f32, f32_to_bf16, actkern_forward_bf16, actkern_derivative_bf16, actkern_backward_bf16,
     actkern_backward_from_output_bf16},
    {"f16", f16_to_f32, f32_to_f16, actkern_forward_f16, actkern_derivative_f16, actkern_backward_f16,
     actkern_backward_from_output_f16},
};
#define BF16 (&FORMATS[0])
#define F16 (&FORMATS[1])

static void test_conversions(void) {
    /* The reference conversions themselves, on values whose encodings are known. */
    CHECK(f32_to_bf16(1.0f) == 0x3f80 && f32_to_bf16(-2.0f) == 0xc000);
    CHECK(f32_to_bf16(1.00390625f) == 0x3f80);  /* 1 + 2^-8: a tie, to even */
    CHECK(f32_to_bf16(1.01171875f) == 0x3f82);  /* 1 + 3 * 2^-8: a tie, to even (up) */
    CHECK(f32_to_bf16(0x1.010002p+0f) == 0x3f81); /* just above the tie */
    CHECK(f32_to_bf16(70000.0f) == 0x4789);     /* 70144 */
    CHECK(f32_to_bf16(3.4028235e38f) == 0x7f80); /* FLT_MAX rounds up to inf */
    CHECK(f32_to_bf16(1e-40f) == 0x0001 && f32_to_bf16(-0.0f) == 0x8000);
    CHECK(isnan(bf16_to_f32(f32_to_bf16(NAN))) && bf16_to_f32(0x4789) == 70144.0f);
    CHECK(f32_to_f16(1.0f) == 0x3c00 && f32_to_f16(-2.0f) == 0xc000 && f32_to_f16(0.5f) == 0x3800);
    CHECK(f32_to_f16(65504.0f) == 0x7bff && f32_to_f16(65519.996f) == 0x7bff);
    CHECK(f32_to_f16(65520.0f) == 0x7c00 && f32_to_f16(-70000.0f) == 0xfc00); /* overflow */
    CHECK(f32_to_f16(1.00048828125f) == 0x3c00); /* 1 + 2^-11: a tie, to even */
    CHECK(f32_to_f16(1.00146484375f) == 0x3c02); /* 1 + 3 * 2^-11: a tie, to even (up) */
    CHECK(f32_to_f16(0x1p-24f) == 0x0001 && f32_to_f16(0x1p-25f) == 0x0000); /* tie to 0 */
    CHECK(f32_to_f16(0x1.8p-25f) == 0x0001 && f32_to_f16(-0x1p-26f) == 0x8000);
    CHECK(f32_to_f16(0x1.ff8p-15f) == 0x03ff); /* the largest subnormal */
    CHECK(f32_to_f16(0x1.ffcp-15f) == 0x0400); /* half an ulp above: a tie, up to the smallest normal */
    CHECK(f32_to_f16(6.1035156e-05f) == 0x0400 && f32_to_f16(-3e-5f) == 0x81f7);
    CHECK(f16_to_f32(0x0001) == 0x1p-24f && f16_to_f32(0x7bff) == 65504.0f && f16_to_f32(0x83ff) == -0x1.ff8p-15f);
    CHECK(isinf(f16_to_f32(0xfc00)) && f16_to_f32(0xfc00) < 0.0f && isnan(f16_to_f32(0x7e00)));
}

/* Inputs in `fmt`: every other element a special value (NaN, infinities, signed zeros, the
 * format's and float's subnormals, values beyond binary16's range), the rest pseudo-random
 * in [-12, 12), or scaled to [-65536, 65536) for every fifth. */
static void fill16(const struct format16 *fmt, uint16_t *x, size_t n, uint32_t seed) {
    static const float specials[] = {
        NAN,     -NAN,     INFINITY, -INFINITY, 0.0f,     -0.0f,   1e-40f,     -3e-39f,  6e-8f,   -3e-5f,
        1e-6f,   70000.0f, -70000.0f, 65504.0f, -65504.0f, 1e5f,   3e38f,      -3e38f,   1.5f,    -1.5f,
        0.5f,    -0.5f,    1.0f,     -1.0f,     20.0f,    -20.0f,  88.75f,     -88.75f,  1e-3f,   -1e-3f};
    const size_t count = sizeof specials / sizeof specials[0];
    size_t i;
    uint32_t s = seed * 2654435761u + 99u;
    for (i = 0; i < n; i++) {
        float v;
        s = s * 1664525u + 1013904223u;
        if (i % 2 == 0)
            v = specials[(i / 2 + seed) % count];
        else
            v = (float)((s >> 8) * (24.0 / 16777216.0) - 12.0) * (i % 5 == 1 ? 5461.0f : 1.0f);
        x[i] = fmt->narrow(v);
    }
}

static uint16_t *alloc16(size_t n) {
    uint16_t *p = (uint16_t *)malloc((n ? n : 1) * sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void widen_all(const struct format16 *fmt, const uint16_t *h, float *f, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) f[i] = fmt->widen(h[i]);
}

static int same16(const uint16_t *a, const uint16_t *b, size_t n) {
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* got[i] is want[i] (float) rounded to `fmt`, any NaN matching any NaN; reports the first
 * difference. */
static int rounds_to(const struct format16 *fmt, const uint16_t *got, const float *want, const float *in, size_t n,
                     const char *what) {
    size_t i;
    for (i = 0; i < n; i++) {
        uint16_t r = fmt->narrow(want[i]);
        if (isnan(fmt->widen(got[i])) && isnan(want[i])) continue;
        if (got[i] != r) {
            fprintf(stderr, "%s %s [%zu] (input %.9g): got 0x%04x (%.9g), want 0x%04x (%.9g, from float %.9g)\n",
                    fmt->name, what, i, (double)in[i], got[i], (double)fmt->widen(got[i]), r,
                    (double)fmt->widen(r), (double)want[i]);
            return 0;
        }
    }
    return 1;
}

/* Every 16-bit entry point of `fmt` gives the float entry point's result on the widened inputs,
 * rounded once; every exact aliasing gives the out-of-place bits; an unsupported backward from
 * the output fails as the float one does, writing nothing. */
static void check_half(const struct format16 *fmt, actkern_activation *act, const char *spec, size_t n) {
    uint16_t *x = alloc16(n), *dy = alloc16(n), *y = alloc16(n), *out = alloc16(n), *buf = alloc16(n);
    float *xf = alloc_floats(n), *dyf = alloc_floats(n), *yf = alloc_floats(n), *want = alloc_floats(n);
    int failures_before = failures, want_status;
    fill16(fmt, x, n, (uint32_t)n);
    fill16(fmt, dy, n, (uint32_t)n + 7);
    widen_all(fmt, x, xf, n);
    widen_all(fmt, dy, dyf, n);

    CHECK_STATUS(fmt->forward(act, x, y, n), ACTKERN_OK);
    CHECK_STATUS(actkern_forward(act, xf, want, n), ACTKERN_OK);
    CHECK(rounds_to(fmt, y, want, xf, n, "forward"));
    memcpy(buf, x, n * sizeof *x);
    CHECK_STATUS(fmt->forward(act, buf, buf, n), ACTKERN_OK);
    CHECK(same16(buf, y, n));

    CHECK_STATUS(fmt->derivative(act, x, out, n), ACTKERN_OK);
    CHECK_STATUS(actkern_derivative(act, xf, want, n), ACTKERN_OK);
    CHECK(rounds_to(fmt, out, want, xf, n, "derivative"));
    memcpy(buf, x, n * sizeof *x);
    CHECK_STATUS(fmt->derivative(act, buf, buf, n), ACTKERN_OK);
    CHECK(same16(buf, out, n));

    CHECK_STATUS(fmt->backward(act, x, dy, out, n), ACTKERN_OK);
    CHECK_STATUS(actkern_backward(act, xf, dyf, want, n), ACTKERN_OK);
    CHECK(rounds_to(fmt, out, want, xf, n, "backward"));
    memcpy(buf, dy, n * sizeof *dy); /* dx == dy */
    CHECK_STATUS(fmt->backward(act, x, buf, buf, n), ACTKERN_OK);
    CHECK(same16(buf, out, n));
    memcpy(buf, x, n * sizeof *x); /* dx == x */
    CHECK_STATUS(fmt->backward(act, buf, dy, buf, n), ACTKERN_OK);
    CHECK(same16(buf, out, n));
    CHECK_STATUS(fmt->backward(act, x, x, out, n), ACTKERN_OK); /* x == dy */
    CHECK_STATUS(actkern_backward(act, xf, xf, want, n), ACTKERN_OK);
    CHECK(rounds_to(fmt, out, want, xf, n, "backward(x, x)"));
    memcpy(buf, x, n * sizeof *x); /* dx == x == dy */
    CHECK_STATUS(fmt->backward(act, buf, buf, buf, n), ACTKERN_OK);
    CHECK(same16(buf, out, n));

    /* From the output: the 16-bit forward's result, as an engine would keep it. */
    widen_all(fmt, y, yf, n);
    want_status = actkern_backward_from_output(act, yf, dyf, want, n);
    CHECK(want_status == (actkern_has_backward_from_output(act) ? ACTKERN_OK : ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT));
    memset(out, 0xab, (n ? n : 1) * sizeof *out);
    memcpy(buf, out, (n ? n : 1) * sizeof *out);
    CHECK_STATUS(fmt->backward_from_output(act, y, dy, out, n), want_status);
    if (want_status == ACTKERN_OK) {
        CHECK(rounds_to(fmt, out, want, yf, n, "backward_from_output"));
        memcpy(buf, y, n * sizeof *y); /* dx == y */
        CHECK_STATUS(fmt->backward_from_output(act, buf, dy, buf, n), ACTKERN_OK);
        CHECK(same16(buf, out, n));
        memcpy(buf, dy, n * sizeof *dy); /* dx == dy */
        CHECK_STATUS(fmt->backward_from_output(act, y, buf, buf, n), ACTKERN_OK);
        CHECK(same16(buf, out, n));
    } else {
        CHECK(same16(buf, out, n)); /* nothing written */
    }

    if (failures != failures_before)
        fprintf(stderr, "  (in %s, \"%s\"%s, n = %zu)\n", fmt->name, spec, actkern_is_fast(act) ? " fast" : "", n);
    free(x);
    free(dy);
    free(y);
    free(out);
    free(buf);
    free(xf);
    free(dyf);
    free(yf);
    free(want);
}

static void test_half(void) {
    static const char *specs[] = {"tanh", "gelu", "silu", "relu", "elu(alpha=0.5)", "sigmoid",
                                  "gelu(approximate=tanh)", "selu", "hardswish", "softplus"};
    static const char *fast_specs[] = {"tanh", "gelu(approximate=tanh)", "silu", "sigmoid"};
    static const size_t lengths[] = {0, 1, 7, 16, 33, 100, 1001};
    size_t s, l, f;
    for (f = 0; f < 2; f++) {
        for (s = 0; s < sizeof specs / sizeof specs[0]; s++) {
            actkern_activation *act = parse(specs[s]);
            for (l = 0; l < sizeof lengths / sizeof lengths[0]; l++) check_half(&FORMATS[f], act, specs[s], lengths[l]);
            actkern_free(act);
        }
        for (s = 0; s < sizeof fast_specs / sizeof fast_specs[0]; s++) {
            actkern_activation *act = actkern_parse_fast(fast_specs[s], NULL, 0);
            CHECK(act != NULL);
            if (act == NULL) continue;
            for (l = 0; l < sizeof lengths / sizeof lengths[0]; l++)
                check_half(&FORMATS[f], act, fast_specs[s], lengths[l]);
            actkern_free(act);
        }
    }
    /* Past the threading threshold and over several copy blocks (in place), parallel and
     * serial. */
    {
        actkern_activation *elu = parse("elu(alpha=0.5)");
        actkern_activation *tanh_ = parse("tanh");
        const size_t n = 600001;
        uint16_t *x = alloc16(n), *a = alloc16(n), *b = alloc16(n);
        check_half(BF16, elu, "elu(alpha=0.5)", n);
        check_half(F16, tanh_, "tanh", n);
        fill16(BF16, x, n, 5);
        CHECK(actkern_set_serial(1) == 0);
        CHECK_STATUS(actkern_derivative_bf16(tanh_, x, a, n), ACTKERN_OK);
        memcpy(b, x, n * sizeof *x);
        CHECK_STATUS(actkern_derivative_bf16(tanh_, b, b, n), ACTKERN_OK);
        CHECK(same16(a, b, n));
        check_half(F16, elu, "elu(alpha=0.5), serial", 200003);
        CHECK(actkern_set_serial(0) == 1);
        CHECK_STATUS(actkern_derivative_bf16(tanh_, x, b, n), ACTKERN_OK);
        CHECK(same16(a, b, n));
        free(x);
        free(a);
        free(b);
        actkern_free(elu);
        actkern_free(tanh_);
    }
}

/* Known values, overflow and underflow at the format's limits. */
static void test_half_known_values(void) {
    actkern_activation *relu = parse("relu");
    actkern_activation *elu = parse("elu(alpha=0.5)");
    actkern_activation *gelu = parse("gelu");
    actkern_activation *selu = parse("selu");
    actkern_activation *sigmoid = parse("sigmoid");
    uint16_t x[4], dy[4], y[4];

    /* bf16 keeps float's range: relu(bf16(70000)) = 70144 exactly; f16(70000) is +inf. */
    x[0] = f32_to_bf16(70000.0f);
    x[1] = f32_to_bf16(-70000.0f);
    x[2] = 0x8000; /* -0 */
    x[3] = 0x0001; /* the smallest subnormal */
    CHECK_STATUS(actkern_forward_bf16(relu, x, y, 4), ACTKERN_OK);
    CHECK(y[0] == 0x4789 && y[1] == 0x0000 && y[2] == 0x8000 && y[3] == 0x0001);
    CHECK_STATUS(actkern_forward_bf16(elu, x, y, 4), ACTKERN_OK);
    CHECK(y[0] == 0x4789 && y[1] == f32_to_bf16(-0.5f) && y[2] == 0x8000);
    x[0] = f32_to_f16(70000.0f);
    CHECK(x[0] == 0x7c00);
    CHECK_STATUS(actkern_forward_f16(relu, x, y, 1), ACTKERN_OK);
    CHECK(y[0] == 0x7c00);

    /* f16 results beyond 65504 round to infinity: selu(65504) = 1.0507 * 65504, and the
     * backward of gelu at 1.5 (slope 1.12747) with dy = 65504. */
    x[0] = 0x7bff; /* 65504 */
    x[1] = 0xfbff; /* -65504 */
    CHECK_STATUS(actkern_forward_f16(selu, x, y, 2), ACTKERN_OK);
    CHECK(y[0] == 0x7c00 && y[1] == f32_to_f16(-1.7580993f));
    x[0] = f32_to_f16(1.5f);
    x[1] = f32_to_f16(-1.5f);
    dy[0] = 0x7bff;
    dy[1] = 0x7bff;
    CHECK_STATUS(actkern_backward_f16(gelu, x, dy, y, 2), ACTKERN_OK);
    CHECK(y[0] == 0x7c00 && fabs(f16_to_f32(y[1]) + 8349.742) <= 4.0); /* slope -0.12747 */
    /* ... while bf16 keeps it finite. */
    x[0] = f32_to_bf16(1.5f);
    dy[0] = f32_to_bf16(65504.0f);
    CHECK_STATUS(actkern_backward_bf16(gelu, x, dy, y, 1), ACTKERN_OK);
    CHECK(fabs(bf16_to_f32(y[0]) - 73853.742) <= 256.0); /* within half a bf16 ulp */

    /* Underflow: sigmoid(-20) = 2.06e-9 is zero in f16 (below 2^-25) and normal in bf16. */
    x[0] = f32_to_f16(-20.0f);
    CHECK_STATUS(actkern_forward_f16(sigmoid, x, y, 1), ACTKERN_OK);
    CHECK(y[0] == 0x0000);
    x[0] = f32_to_bf16(-20.0f);
    CHECK_STATUS(actkern_forward_bf16(sigmoid, x, y, 1), ACTKERN_OK);
    CHECK(y[0] == f32_to_bf16(2.0611537e-09f));
    x[0] = f32_to_f16(-12.0f); /* sigmoid(-12) = 6.1e-6: an f16 subnormal */
    CHECK_STATUS(actkern_forward_f16(sigmoid, x, y, 1), ACTKERN_OK);
    CHECK(y[0] == f32_to_f16(6.1441746e-06f) && y[0] < 0x0400 && y[0] > 0);

    /* NaN in, NaN out. */
    x[0] = 0x7fc0;
    CHECK_STATUS(actkern_forward_bf16(gelu, x, y, 1), ACTKERN_OK);
    CHECK(isnan(bf16_to_f32(y[0])));
    x[0] = 0xfe00;
    CHECK_STATUS(actkern_forward_f16(elu, x, y, 1), ACTKERN_OK);
    CHECK(isnan(f16_to_f32(y[0])));

    actkern_free(relu);
    actkern_free(elu);
    actkern_free(gelu);
    actkern_free(selu);
    actkern_free(sigmoid);
}

static void test_half_status_codes(void) {
    uint16_t buf[16], out[16], sentinel[16];
    actkern_activation *tanh_ = parse("tanh");
    actkern_activation *gelu = parse("gelu");
    uint16_t *misaligned = (uint16_t *)(uintptr_t)((uintptr_t)buf + 1);
    size_t too_long = ((size_t)PTRDIFF_MAX / sizeof(uint16_t)) + 1;
    size_t f;
    memset(sentinel, 0x5a, sizeof sentinel);
    for (f = 0; f < 2; f++) {
        const struct format16 *fmt = &FORMATS[f];
        int failures_before = failures;
        fill16(fmt, buf, 16, 3);
        memcpy(out, sentinel, sizeof out);

        /* NULL handle, n = 0 too; NULL buffers with n > 0; n = 0 with NULL or misaligned. */
        CHECK_STATUS(fmt->forward(NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->forward(NULL, NULL, NULL, 0), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->derivative(NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward(NULL, buf, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward_from_output(NULL, buf, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->forward(tanh_, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->forward(tanh_, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->derivative(tanh_, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->derivative(tanh_, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward(tanh_, NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward(tanh_, buf, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward(tanh_, buf, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward_from_output(tanh_, NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward_from_output(tanh_, buf, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->backward_from_output(tanh_, buf, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(fmt->forward(tanh_, NULL, NULL, 0), ACTKERN_OK);
        CHECK_STATUS(fmt->derivative(tanh_, NULL, NULL, 0), ACTKERN_OK);
        CHECK_STATUS(fmt->backward(tanh_, NULL, NULL, NULL, 0), ACTKERN_OK);
        CHECK_STATUS(fmt->backward_from_output(tanh_, NULL, NULL, NULL, 0), ACTKERN_OK);
        CHECK_STATUS(fmt->forward(tanh_, misaligned, misaligned, 0), ACTKERN_OK);
        CHECK(same16(out, sentinel, 16));

        /* Misaligned for uint16_t, or too long for the address space (in 2-byte elements). */
        CHECK_STATUS(fmt->forward(tanh_, misaligned, out, 4), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(fmt->forward(tanh_, buf, misaligned, 4), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(fmt->derivative(tanh_, buf, misaligned, 4), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(fmt->backward(tanh_, buf, misaligned, out, 4), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(fmt->backward_from_output(tanh_, misaligned, buf, out, 4), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(fmt->forward(tanh_, buf, out, too_long), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(fmt->forward(tanh_, buf, out, SIZE_MAX), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(fmt->backward(tanh_, buf, buf, out, SIZE_MAX / 2), ACTKERN_ERR_BAD_BUFFER);
        /* A length too long for floats but not for 2-byte elements gets as far as the overlap
         * check (64-bit: the buffers' ends still fit in the address space). */
        if (sizeof(void *) == 8) {
            CHECK_STATUS(actkern_forward(tanh_, (const float *)(void *)buf, (float *)(void *)(buf + 2),
                                         (size_t)PTRDIFF_MAX / sizeof(float) + 1),
                         ACTKERN_ERR_BAD_BUFFER);
            CHECK_STATUS(fmt->forward(tanh_, buf, buf + 2, (size_t)PTRDIFF_MAX / sizeof(float) + 1),
                         ACTKERN_ERR_OVERLAP);
        }
        CHECK(same16(out, sentinel, 16));

        /* Partial overlap, judged on 2-byte elements; adjacent buffers are fine. */
        CHECK_STATUS(fmt->forward(tanh_, out, out + 1, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(fmt->forward(tanh_, out + 3, out, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(fmt->derivative(tanh_, out + 1, out, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(fmt->backward(tanh_, buf, out + 2, out, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(fmt->backward(tanh_, out + 2, buf, out, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(fmt->backward(tanh_, out, out + 1, out, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(fmt->backward_from_output(tanh_, out + 1, buf, out, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(fmt->backward_from_output(tanh_, buf, out + 3, out, 4), ACTKERN_ERR_OVERLAP);
        CHECK(same16(out, sentinel, 16));
        CHECK_STATUS(fmt->forward(tanh_, out, out + 4, 4), ACTKERN_OK);  /* adjacent after */
        CHECK_STATUS(fmt->forward(tanh_, out + 8, out + 4, 4), ACTKERN_OK); /* adjacent before */
        CHECK_STATUS(fmt->backward(tanh_, buf, buf + 1, out, 4), ACTKERN_OK); /* inputs may overlap */
        memcpy(out, sentinel, sizeof out);

        /* gelu has no backward from the output: nothing written, whatever n. */
        CHECK_STATUS(fmt->backward_from_output(gelu, buf, buf, out, 4), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
        CHECK_STATUS(fmt->backward_from_output(gelu, out, out, out, 4), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
        CHECK_STATUS(fmt->backward_from_output(gelu, NULL, NULL, NULL, 0), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
        CHECK_STATUS(fmt->backward_from_output(gelu, misaligned, buf, out, 4), ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT);
        CHECK(same16(out, sentinel, 16));
        if (failures != failures_before) fprintf(stderr, "  (in %s status codes)\n", fmt->name);
    }
    actkern_free(tanh_);
    actkern_free(gelu);
}

/* ---- threading and backends -------------------------------------------------------------- */

static void test_serial_and_backends(void) {
    const size_t n = 300000; /* above ACTKERN_PARALLEL_THRESHOLD */
    float *x = alloc_floats(n), *a = alloc_floats(n), *b = alloc_floats(n);
    actkern_activation *act = parse("sigmoid");
    char before[16];
    const char *now;
    CHECK(n >= ACTKERN_PARALLEL_THRESHOLD);
    fill_inputs(x, n, 21);

    CHECK(actkern_set_serial(1) == 0); /* default: parallel */
    CHECK(actkern_set_serial(1) == 1);
    CHECK_STATUS(actkern_forward(act, x, a, n), ACTKERN_OK);
    CHECK(actkern_set_serial(0) == 1);
    CHECK(actkern_set_serial(0) == 0);
    CHECK_STATUS(actkern_forward(act, x, b, n), ACTKERN_OK);
    CHECK(same_bits(a, b, n));

    strncpy(before, actkern_backend(), sizeof before - 1);
    before[sizeof before - 1] = '\0';
    CHECK_STATUS(actkern_set_backend("scalar"), ACTKERN_OK);
    now = actkern_backend();
    CHECK(strcmp(now, "scalar") == 0);
    CHECK_STATUS(actkern_forward(act, x, a, n), ACTKERN_OK);
    /* The fused backends give the same results (portable may differ by rounding). */
    if (strcmp(before, "portable") != 0) CHECK(same_values(a, b, n));
    CHECK_STATUS(actkern_set_backend(" PORTABLE "), ACTKERN_OK);
    CHECK(strcmp(actkern_backend(), "portable") == 0);
    CHECK_STATUS(actkern_set_backend(before), ACTKERN_OK);
    CHECK(strcmp(actkern_backend(), before) == 0);

    free(x);
    free(a);
    free(b);
    actkern_free(act);
}

/* ---- a bad ACTKERN_BACKEND --------------------------------------------------------------- */

static int is_backend_name(const char *b) {
    return b != NULL && (strcmp(b, "scalar") == 0 || strcmp(b, "portable") == 0 || strcmp(b, "avx2") == 0 ||
                         strcmp(b, "avx512") == 0);
}

/* Run with ACTKERN_BACKEND naming an unknown or unsupported backend: the library says so on
 * stderr (tests/c_abi.rs checks the message and that it comes once) and runs on the widest
 * backend the CPU supports, which this prints as "backend: <name>" for tests/c_abi.rs. */
static void test_bad_backend_env(void) {
    const float x[4] = {-1.0f, 0.0f, 0.5f, 2.0f};
    float y[4];
    uint16_t x16[4], y16[4];
    size_t i;
    actkern_activation *act;
    const char *env = getenv("ACTKERN_BACKEND");
    const char *chosen;
    CHECK(env != NULL && env[0] != '\0');
    chosen = actkern_backend();
    CHECK(is_backend_name(chosen));
    CHECK(env == NULL || strcmp(chosen, env) != 0);
    printf("backend: %s\n", chosen);
    act = parse("tanh");
    CHECK_STATUS(actkern_forward(act, x, y, 4), ACTKERN_OK);
    CHECK_CLOSE(y[3], 0.96402758007581690);
    CHECK_STATUS(actkern_relu_forward(x, y, 4), ACTKERN_OK);
    CHECK_EXACT(y[0], 0.0);
    CHECK_EXACT(y[3], 2.0);
    CHECK_STATUS(actkern_backward(act, x, x, y, 4), ACTKERN_OK);
    CHECK_CLOSE(y[3], 2.0 * 0.07065082485316443);
    for (i = 0; i < 4; i++) x16[i] = f32_to_bf16(x[i]);
    CHECK_STATUS(actkern_forward_bf16(act, x16, y16, 4), ACTKERN_OK);
    CHECK(y16[3] == f32_to_bf16(0.96402758f));
    CHECK(strcmp(actkern_backend(), chosen) == 0);
    /* Setting a backend explicitly still works. */
    CHECK_STATUS(actkern_set_backend("scalar"), ACTKERN_OK);
    CHECK(strcmp(actkern_backend(), "scalar") == 0);
    CHECK_STATUS(actkern_forward(act, x, y, 4), ACTKERN_OK);
    CHECK_CLOSE(y[3], 0.96402758007581690);
    actkern_free(act);
}

/* ---- the fast tier ------------------------------------------------------------------------ */

static void test_fast_tier(void) {
    enum { N = 4099 };
    char err[256];
    const char *specs[] = {"sigmoid", "silu", "gelu(approximate=tanh)", "tanh", "relu"};
    float *x = alloc_floats(N), *dy = alloc_floats(N);
    float *accurate = alloc_floats(N), *fast = alloc_floats(N);
    size_t s, i, f;
    fill_inputs(x, N, 7);
    fill_inputs(dy, N, 8);
    for (s = 0; s < sizeof specs / sizeof *specs; s++) {
        actkern_activation *a = parse(specs[s]);
        actkern_activation *q = actkern_parse_fast(specs[s], err, sizeof err);
        CHECK(q != NULL && err[0] == '\0');
        CHECK(actkern_is_fast(q) == 1 && actkern_is_fast(a) == 0);
        for (f = 0; f < 3; f++) {
            /* Forward and derivative within 4 ULP, backward within 5 (ordinary results here;
             * 2^-23 relative is one ULP at most). */
            int (*run)(const actkern_activation *, const float *, float *, size_t) =
                f == 0 ? actkern_forward : actkern_derivative;
            double bound = f == 2 ? 5.0 : 4.0;
            if (f == 2) {
                CHECK_STATUS(actkern_backward(a, x, dy, accurate, N), ACTKERN_OK);
                CHECK_STATUS(actkern_backward(q, x, dy, fast, N), ACTKERN_OK);
            } else {
                CHECK_STATUS(run(a, x, accurate, N), ACTKERN_OK);
                CHECK_STATUS(run(q, x, fast, N), ACTKERN_OK);
            }
            /* Against the accurate tier (itself within 2 ULP, 3 for the backward), with the
             * absolute allowances near a zero of the derivative. */
            for (i = 0; i < N; i++) {
                double want = accurate[i], got = fast[i];
                double slack = 0x1p-22 * (f == 2 ? fabs((double)dy[i]) : 1.0);
                int ok = isfinite(want) ? fabs(got - want) <= (bound + 3.0) * 0x1p-23 * fabs(want) + slack
                                        : (isnan(got) && isnan(want)) || got == want;
                if (!ok) fprintf(stderr, "%s fn %zu x=%.9g: fast %.9g, accurate %.9g\n", specs[s], f, x[i], got, want);
                CHECK(ok);
            }
        }
        /* NaN in, NaN out; the limits are the accurate tier's. */
        {
            const float special[4] = {NAN, INFINITY, -INFINITY, -0.0f};
            float out[4], want[4];
            CHECK_STATUS(actkern_forward(q, special, out, 4), ACTKERN_OK);
            CHECK_STATUS(actkern_forward(a, special, want, 4), ACTKERN_OK);
            CHECK(isnan(out[0]) && out[1] == want[1] && out[2] == want[2]);
            CHECK(out[3] == want[3] && signbit(out[3]) == signbit(want[3])); /* f(-0) exactly */
        }
        actkern_free(a);
        actkern_free(q);
    }
    CHECK(actkern_parse_fast("sigmoidd", err, sizeof err) == NULL && strstr(err, "sigmoidd") != NULL);
    CHECK(actkern_parse_fast(NULL, NULL, 0) == NULL);
    CHECK_STATUS(actkern_is_fast(NULL), ACTKERN_ERR_NULL_POINTER);
    free(x);
    free(dy);
    free(accurate);
    free(fast);
}

/* ---- gated activations, bias + activation, prelu (issue 12) -------------------------------- */

static const char *const GATED_SPECS[] = {"glu", "swiglu", "geglu", "geglu(approximate=tanh)", "reglu"};
#define GATED_KINDS (sizeof GATED_SPECS / sizeof GATED_SPECS[0])

static actkern_gated *parse_gated(const char *spec) {
    char err[512];
    actkern_gated *g = actkern_gated_parse(spec, err, sizeof err);
    if (g == NULL) {
        fprintf(stderr, "actkern_gated_parse(\"%s\"): %s\n", spec, err);
        exit(2);
    }
    return g;
}

/* The gate's activation of GATED_SPECS[k], as a spec for actkern_parse. */
static const char *gate_spec(size_t k) {
    static const char *const gates[] = {"sigmoid", "silu", "gelu", "gelu(approximate=tanh)", "relu"};
    return gates[k];
}

/* The gate in double. */
static double gate_ref(size_t k, double x) {
    const double sig = 1.0 / (1.0 + exp(-x));
    switch (k) {
    case 0: return sig;
    case 1: return x * sig;
    /* Without cancellation for x far below 0: erfc, and 1 + tanh(u) = 2 / (1 + exp(-2u)). */
    case 2: return 0.5 * x * erfc(-x / sqrt(2.0));
    case 3: return x / (1.0 + exp(-2.0 * sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    default: return x > 0.0 ? x : 0.0;
    }
}

/* Inputs without NaN or infinities: uniform in [-8, 8), with signed zeros and tiny values. */
static void fill_finite(float *x, size_t n, uint32_t seed) {
    size_t i;
    uint32_t s = seed * 2654435761u + 777u;
    for (i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) * (16.0 / 16777216.0) - 8.0);
        if (i % 53 == 3) x[i] = (i / 53) % 2 ? -0.0f : 0.0f;
        if (i % 59 == 4) x[i] = (i / 59) % 2 ? 1e-20f : -1e-20f;
    }
}

/* Equal values, NaN matching NaN and infinities compared exactly; otherwise within `ulps`
 * float ULPs of `want` (relative), plus `slack`. */
static int near(float got, double want, double ulps, double slack) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return (double)got == want;
    return fabs((double)got - want) <= ulps * 0x1p-23 * fabs(want) + slack;
}

/* The gated forward and backward as compositions of the library's own activation entry points
 * and one float rounding per product (what the library documents), for bit comparisons. */
static void gated_composed(size_t k, const float *a, const float *b, const float *dout, float *out, float *da,
                           float *db, size_t n) {
    actkern_activation *f = parse(gate_spec(k));
    float *fa = alloc_floats(n), *t = alloc_floats(n);
    size_t i;
    if (k == 0) { /* glu: a * sigmoid(b) */
        CHECK_STATUS(actkern_forward(f, b, fa, n), ACTKERN_OK);
        for (i = 0; i < n; i++) out[i] = a[i] * fa[i];
        for (i = 0; i < n; i++) da[i] = dout[i] * fa[i];
        for (i = 0; i < n; i++) t[i] = dout[i] * a[i];
        CHECK_STATUS(actkern_backward(f, b, t, db, n), ACTKERN_OK);
    } else { /* f(a) * b */
        CHECK_STATUS(actkern_forward(f, a, fa, n), ACTKERN_OK);
        for (i = 0; i < n; i++) out[i] = fa[i] * b[i];
        for (i = 0; i < n; i++) t[i] = dout[i] * b[i];
        CHECK_STATUS(actkern_backward(f, a, t, da, n), ACTKERN_OK);
        for (i = 0; i < n; i++) db[i] = dout[i] * fa[i];
    }
    free(fa);
    free(t);
    actkern_free(f);
}

static void test_gated_parse(void) {
    char err[512], spec[64];
    size_t k;
    for (k = 0; k < GATED_KINDS; k++) {
        actkern_gated *g = actkern_gated_parse(GATED_SPECS[k], err, sizeof err);
        CHECK(g != NULL && err[0] == '\0');
        CHECK(actkern_gated_spec(g, spec, sizeof spec) == strlen(GATED_SPECS[k]));
        CHECK(strcmp(spec, GATED_SPECS[k]) == 0);
        actkern_gated_free(g);
    }
    {
        actkern_gated *g = actkern_gated_parse(" SwiGLU ", err, sizeof err);
        CHECK(g != NULL && actkern_gated_spec(g, spec, sizeof spec) == 6 && strcmp(spec, "swiglu") == 0);
        CHECK(actkern_gated_spec(g, spec, 3) == 6 && strcmp(spec, "sw") == 0); /* cut */
        actkern_gated_free(g);
    }
    CHECK(actkern_gated_parse("relu", err, sizeof err) == NULL);
    CHECK(strstr(err, "relu") != NULL && strstr(err, "swiglu") != NULL); /* names what is allowed */
    CHECK(actkern_gated_parse("geglu(approximate=erf)", err, sizeof err) == NULL && strstr(err, "erf") != NULL);
    CHECK(actkern_gated_parse("swiglu(beta=1)", err, sizeof err) == NULL && strstr(err, "beta") != NULL);
    CHECK(actkern_gated_parse("", err, sizeof err) == NULL && err[0] != '\0');
    CHECK(actkern_gated_parse("\xff", err, sizeof err) == NULL && strstr(err, "UTF-8") != NULL);
    CHECK(actkern_gated_parse(NULL, err, sizeof err) == NULL && strstr(err, "NULL") != NULL);
    CHECK(actkern_gated_parse(NULL, NULL, 0) == NULL);
    CHECK(actkern_gated_spec(NULL, spec, sizeof spec) == 0 && spec[0] == '\0');
    actkern_gated_free(NULL);
}

/* One gated kind over n elements: forward and backward equal the composition bit for bit
 * (special values included), stay within 3 ULP (forward) of the double reference on finite
 * inputs, and the in-place forms give the out-of-place bits. */
static void check_gated(size_t k, size_t n, uint32_t seed, int with_specials) {
    actkern_gated *g = parse_gated(GATED_SPECS[k]);
    float *a = alloc_floats(n), *b = alloc_floats(n), *dout = alloc_floats(n);
    float *out = alloc_floats(n), *da = alloc_floats(n), *db = alloc_floats(n);
    float *want = alloc_floats(n), *wda = alloc_floats(n), *wdb = alloc_floats(n);
    float *ia = alloc_floats(n), *ib = alloc_floats(n);
    size_t i;
    int failures_before = failures;
    if (with_specials) {
        fill_inputs(a, n, seed);
        fill_inputs(b, n, seed + 1);
        fill_inputs(dout, n, seed + 2);
    } else {
        fill_finite(a, n, seed);
        fill_finite(b, n, seed + 1);
        fill_finite(dout, n, seed + 2);
    }
    gated_composed(k, a, b, dout, want, wda, wdb, n);
    CHECK_STATUS(actkern_gated_forward(g, a, b, out, n), ACTKERN_OK);
    CHECK(same_values(out, want, n));
    CHECK_STATUS(actkern_gated_backward(g, a, b, dout, da, db, n), ACTKERN_OK);
    CHECK(same_values(da, wda, n));
    CHECK(same_values(db, wdb, n));
    if (!with_specials) {
        for (i = 0; i < n; i++) {
            const double fa = gate_ref(k, k == 0 ? b[i] : a[i]);
            const double ref = k == 0 ? a[i] * fa : fa * b[i];
            if (fabs(fa) < 1e-30) continue; /* the gate's bound holds for normal results */
            /* 3 ULP of a normal result; a subnormal product is rounded once, absolutely. */
            if (!near(out[i], ref, 3.0, 0x1p-149)) {
                fprintf(stderr, "%s(%.9g, %.9g) = %.9g, want %.17g\n", GATED_SPECS[k], (double)a[i], (double)b[i],
                        (double)out[i], ref);
                CHECK(0);
                break;
            }
        }
    }
    /* In place: out over a; da over a and db over b. */
    memcpy(ia, a, n * sizeof *a);
    CHECK_STATUS(actkern_gated_forward(g, ia, b, ia, n), ACTKERN_OK);
    CHECK(same_bits(ia, out, n));
    memcpy(ia, a, n * sizeof *a);
    memcpy(ib, b, n * sizeof *b);
    CHECK_STATUS(actkern_gated_backward(g, ia, ib, dout, ia, ib, n), ACTKERN_OK);
    CHECK(same_bits(ia, da, n) && same_bits(ib, db, n));
    if (failures != failures_before)
        fprintf(stderr, "  (in check_gated %s, n = %zu, specials %d)\n", GATED_SPECS[k], n, with_specials);
    free(a); free(b); free(dout); free(out); free(da); free(db);
    free(want); free(wda); free(wdb); free(ia); free(ib);
    actkern_gated_free(g);
}

/* The halves layout over rows x cols: each row of the output (and of dx) is the two-buffer
 * function of that row's halves, bit for bit; in place gives the same bits. */
static void check_gated_halves(size_t k, size_t rows, size_t cols, uint32_t seed) {
    actkern_gated *g = parse_gated(GATED_SPECS[k]);
    const size_t nx = rows * 2 * cols, nout = rows * cols;
    float *x = alloc_floats(nx), *dout = alloc_floats(nout), *out = alloc_floats(nout);
    float *dx = alloc_floats(nx), *want = alloc_floats(nout), *wdx = alloc_floats(nx), *ix = alloc_floats(nx);
    size_t r;
    int failures_before = failures;
    fill_inputs(x, nx, seed);
    fill_inputs(dout, nout, seed + 5);
    CHECK_STATUS(actkern_gated_forward_halves(g, x, out, rows, cols), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward_halves(g, x, dout, dx, rows, cols), ACTKERN_OK);
    for (r = 0; r < rows; r++) {
        const float *a = x + r * 2 * cols, *b = a + cols;
        CHECK_STATUS(actkern_gated_forward(g, a, b, want + r * cols, cols), ACTKERN_OK);
        CHECK_STATUS(actkern_gated_backward(g, a, b, dout + r * cols, wdx + r * 2 * cols, wdx + r * 2 * cols + cols, cols),
                     ACTKERN_OK);
    }
    CHECK(same_bits(out, want, nout));
    CHECK(same_bits(dx, wdx, nx));
    if (nx > 0) memcpy(ix, x, nx * sizeof *x);
    CHECK_STATUS(actkern_gated_backward_halves(g, ix, dout, ix, rows, cols), ACTKERN_OK);
    CHECK(same_bits(ix, dx, nx));
    if (failures != failures_before)
        fprintf(stderr, "  (in check_gated_halves %s, rows %zu, cols %zu)\n", GATED_SPECS[k], rows, cols);
    free(x); free(dout); free(out); free(dx); free(want); free(wdx); free(ix);
    actkern_gated_free(g);
}

/* The _bf16 and _f16 gated forwards: the float function on the widened inputs, rounded once. */
static void check_gated_half(size_t k, size_t rows, size_t cols) {
    actkern_gated *g = parse_gated(GATED_SPECS[k]);
    const size_t n = rows * cols;
    uint16_t *x16 = alloc16(2 * n), *out16 = alloc16(n);
    float *x = alloc_floats(2 * n), *want = alloc_floats(n);
    size_t f;
    for (f = 0; f < 2; f++) {
        const struct format16 *fmt = &FORMATS[f];
        int (*forward)(const actkern_gated *, const uint16_t *, const uint16_t *, uint16_t *, size_t) =
            f == 0 ? actkern_gated_forward_bf16 : actkern_gated_forward_f16;
        int (*halves)(const actkern_gated *, const uint16_t *, uint16_t *, size_t, size_t) =
            f == 0 ? actkern_gated_forward_halves_bf16 : actkern_gated_forward_halves_f16;
        fill16(fmt, x16, 2 * n, (uint32_t)(k + 3 * f));
        widen_all(fmt, x16, x, 2 * n);
        /* Two buffers: a is the first n elements, b the next n. */
        CHECK_STATUS(actkern_gated_forward(g, x, x + n, want, n), ACTKERN_OK);
        CHECK_STATUS(forward(g, x16, x16 + n, out16, n), ACTKERN_OK);
        CHECK(rounds_to(fmt, out16, want, x, n, GATED_SPECS[k]));
        /* Halves. */
        CHECK_STATUS(actkern_gated_forward_halves(g, x, want, rows, cols), ACTKERN_OK);
        CHECK_STATUS(halves(g, x16, out16, rows, cols), ACTKERN_OK);
        CHECK(rounds_to(fmt, out16, want, x, n, GATED_SPECS[k]));
        /* In place over a. */
        CHECK_STATUS(actkern_gated_forward(g, x, x + n, want, n), ACTKERN_OK);
        CHECK_STATUS(forward(g, x16, x16 + n, x16, n), ACTKERN_OK);
        CHECK(rounds_to(fmt, x16, want, x, n, GATED_SPECS[k]));
        /* Status codes: NULL, misaligned, overlap, overflow. */
        CHECK_STATUS(forward(NULL, x16, x16 + n, out16, n), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(forward(g, x16, NULL, out16, 1), ACTKERN_ERR_NULL_POINTER);
        CHECK_STATUS(forward(g, x16, x16 + 1, x16 + 2, 4), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(forward(g, (const uint16_t *)(uintptr_t)((uintptr_t)x16 + 1), x16, out16, 1),
                     ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(halves(g, x16, x16 + 1, 1, 2), ACTKERN_ERR_OVERLAP);
        CHECK_STATUS(halves(g, x16, out16, SIZE_MAX / 2, 2), ACTKERN_ERR_BAD_BUFFER);
        CHECK_STATUS(halves(g, NULL, NULL, 0, 7), ACTKERN_OK);
    }
    free(x16); free(out16); free(x); free(want);
    actkern_gated_free(g);
}

static void test_gated_values(void) {
    static const size_t lengths[] = {0, 1, 3, 16, 17, 100, 1001};
    static const size_t shapes[][2] = {{0, 5}, {3, 0}, {1, 1}, {5, 7}, {4, 33}, {2, 1000}};
    size_t k, l;
    for (k = 0; k < GATED_KINDS; k++) {
        for (l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            check_gated(k, lengths[l], (uint32_t)(10 * k + l), 1);
            check_gated(k, lengths[l], (uint32_t)(10 * k + l), 0);
        }
        for (l = 0; l < sizeof shapes / sizeof shapes[0]; l++)
            check_gated_halves(k, shapes[l][0], shapes[l][1], (uint32_t)(7 * k + l));
        check_gated_half(k, 3, 37);
    }
    /* Known values: swiglu(1, 3) = 3 silu(1); reglu and glu exactly. */
    {
        actkern_gated *swiglu = parse_gated("swiglu"), *reglu = parse_gated("reglu"), *glu = parse_gated("glu");
        const float a[3] = {1.0f, -2.0f, 0.0f}, b[3] = {3.0f, 5.0f, 7.0f};
        float out[3];
        CHECK_STATUS(actkern_gated_forward(swiglu, a, b, out, 3), ACTKERN_OK);
        CHECK_CLOSE(out[0], 3.0 / (1.0 + exp(-1.0)));
        CHECK_CLOSE(out[1], -2.0 * 5.0 / (1.0 + exp(2.0)));
        CHECK_STATUS(actkern_gated_forward(reglu, a, b, out, 3), ACTKERN_OK);
        CHECK(out[0] == 3.0f && out[1] == 0.0f && out[2] == 0.0f);
        CHECK_STATUS(actkern_gated_forward(glu, a, b + 2, out, 1), ACTKERN_OK); /* 1 * sigmoid(7) */
        CHECK_CLOSE(out[0], 1.0 / (1.0 + exp(-7.0)));
        actkern_gated_free(swiglu);
        actkern_gated_free(reglu);
        actkern_gated_free(glu);
    }
}

static void test_gated_status_codes(void) {
    float buf[32], out[32], sentinel[32];
    actkern_gated *g = parse_gated("swiglu");
    float *misaligned = (float *)(uintptr_t)((uintptr_t)buf + 1);
    fill_inputs(buf, 32, 4);
    fill(sentinel, 32, 42.0f);
    memcpy(out, sentinel, sizeof out);

    /* NULL handle, whatever n; NULL buffers while n > 0; n = 0 with NULL or misaligned. */
    CHECK_STATUS(actkern_gated_forward(NULL, buf, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward(NULL, NULL, NULL, NULL, 0), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_backward(NULL, buf, buf, buf, out, out + 8, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward_halves(NULL, buf, out, 1, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_backward_halves(NULL, buf, buf, out, 1, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward(g, NULL, buf, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward(g, buf, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward(g, buf, buf, NULL, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, buf, NULL, out, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, buf, out, NULL, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, NULL, out, out + 8, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward_halves(g, NULL, out, 1, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward_halves(g, buf, NULL, 1, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_backward_halves(g, buf, NULL, out, 1, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_backward_halves(g, NULL, NULL, NULL, SIZE_MAX, SIZE_MAX), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_gated_forward(g, NULL, NULL, NULL, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_forward(g, misaligned, misaligned, misaligned, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward(g, NULL, NULL, NULL, NULL, NULL, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_forward_halves(g, NULL, NULL, 0, 4), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_forward_halves(g, NULL, NULL, 4, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward_halves(g, NULL, NULL, NULL, 0, 4), ACTKERN_OK);
    CHECK(same_bits(out, sentinel, 32));

    /* Buffers that cannot exist; rows * 2 * cols beyond size_t. */
    CHECK_STATUS(actkern_gated_forward(g, misaligned, buf, out, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_gated_forward(g, buf, buf, misaligned, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_gated_forward(g, buf, buf, out, SIZE_MAX), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, buf, out, misaligned, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_gated_forward_halves(g, buf, out, SIZE_MAX / 2, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_gated_forward_halves(g, buf, out, 2, SIZE_MAX / 2 + 1), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_gated_backward_halves(g, buf, buf, out, SIZE_MAX / 4 + 1, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_gated_forward_halves(g, misaligned, out, 1, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK(same_bits(out, sentinel, 32));

    /* Overlap. Forward: out may be a, nothing else. */
    CHECK_STATUS(actkern_gated_forward(g, out, buf, out + 1, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_gated_forward(g, buf, out, out, 4), ACTKERN_ERR_OVERLAP);     /* out == b */
    CHECK_STATUS(actkern_gated_forward(g, out, out, out, 4), ACTKERN_ERR_OVERLAP);     /* a == b == out */
    CHECK_STATUS(actkern_gated_forward(g, out, out + 2, out, 4), ACTKERN_ERR_OVERLAP); /* b in out */
    /* Backward: da == a and db == b together, nothing else. */
    CHECK_STATUS(actkern_gated_backward(g, out, buf, buf, out, out + 8, 4), ACTKERN_ERR_OVERLAP); /* da == a only */
    CHECK_STATUS(actkern_gated_backward(g, buf, out + 8, buf, out, out + 8, 4), ACTKERN_ERR_OVERLAP); /* db == b only */
    CHECK_STATUS(actkern_gated_backward(g, out + 8, out, buf, out, out + 8, 4), ACTKERN_ERR_OVERLAP); /* swapped */
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, buf, out, out + 2, 4), ACTKERN_ERR_OVERLAP);  /* da, db */
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, buf, out, out, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, out, out, out + 8, 4), ACTKERN_ERR_OVERLAP); /* dout == da */
    CHECK_STATUS(actkern_gated_backward(g, buf, buf, out + 9, out, out + 8, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_gated_backward(g, out, out + 2, buf, out, out + 2, 4), ACTKERN_ERR_OVERLAP); /* a, b overlap */
    CHECK_STATUS(actkern_gated_backward(g, out + 1, buf, buf, out, out + 8, 4), ACTKERN_ERR_OVERLAP);
    /* Halves: out overlapping x at all; dx == x only, never dout. */
    CHECK_STATUS(actkern_gated_forward_halves(g, out, out, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_gated_forward_halves(g, out, out + 7, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_gated_backward_halves(g, out, buf, out + 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_gated_backward_halves(g, buf, out, out, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_gated_backward_halves(g, buf, out + 7, out, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK(same_bits(out, sentinel, 32));
    /* Adjacent buffers and overlapping inputs are fine. */
    CHECK_STATUS(actkern_gated_forward(g, buf, buf + 1, out, 4), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_forward_halves(g, out + 2, out, 1, 1), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward(g, buf, buf + 2, buf, out, out + 4, 4), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward_halves(g, out, out + 8, out, 2, 2), ACTKERN_OK);
    actkern_gated_free(g);
}

/* Bias + activation against the add-then-activate composition, bit for bit, for several
 * handles; in place; dbias against double column sums of dx. */
static void check_bias(actkern_activation *act, const char *name, size_t rows, size_t cols, uint32_t seed) {
    const size_t n = rows * cols;
    float *x = alloc_floats(n), *bias = alloc_floats(cols), *dy = alloc_floats(n), *s = alloc_floats(n);
    float *y = alloc_floats(n), *want = alloc_floats(n), *dx = alloc_floats(n), *wdx = alloc_floats(n);
    float *dbias = alloc_floats(cols), *ib = alloc_floats(cols), *i1 = alloc_floats(n);
    size_t r, j;
    int failures_before = failures;
    fill_inputs(x, n, seed);
    fill_inputs(bias, cols, seed + 1);
    fill_inputs(dy, n, seed + 2);
    for (r = 0; r < rows; r++)
        for (j = 0; j < cols; j++) s[r * cols + j] = x[r * cols + j] + bias[j];
    CHECK_STATUS(actkern_forward(act, s, want, n), ACTKERN_OK);
    CHECK_STATUS(actkern_backward(act, s, dy, wdx, n), ACTKERN_OK);
    CHECK_STATUS(actkern_forward_bias(act, x, bias, y, rows, cols), ACTKERN_OK);
    CHECK(same_values(y, want, n));
    fill(dbias, cols, 42.0f);
    CHECK_STATUS(actkern_backward_bias(act, x, bias, dy, dx, dbias, rows, cols), ACTKERN_OK);
    CHECK(same_values(dx, wdx, n));
    for (j = 0; j < cols; j++) {
        double sum = 0.0;
        for (r = 0; r < rows; r++) sum += dx[r * cols + j];
        if (!near(dbias[j], sum, 1.0, 1e-37)) {
            fprintf(stderr, "%s dbias[%zu] = %.9g, want %.17g\n", name, j, (double)dbias[j], sum);
            CHECK(0);
        }
    }
    /* In place: y over x; dx over dy. */
    if (n) memcpy(i1, x, n * sizeof *x);
    CHECK_STATUS(actkern_forward_bias(act, i1, bias, i1, rows, cols), ACTKERN_OK);
    CHECK(same_bits(i1, y, n));
    if (n) memcpy(i1, dy, n * sizeof *dy);
    CHECK_STATUS(actkern_backward_bias(act, x, bias, i1, i1, ib, rows, cols), ACTKERN_OK);
    CHECK(same_bits(i1, dx, n) && same_bits(ib, dbias, cols));
    if (failures != failures_before) fprintf(stderr, "  (in check_bias %s, %zu x %zu)\n", name, rows, cols);
    free(x); free(bias); free(dy); free(s); free(y); free(want); free(dx); free(wdx);
    free(dbias); free(ib); free(i1);
}

static void test_bias(void) {
    static const char *specs[] = {"relu", "gelu", "tanh", "elu(alpha=0.5)", "hardtanh(min_val=-2, max_val=2)"};
    static const size_t shapes[][2] = {{1, 1}, {3, 5}, {7, 16}, {2, 33}, {50, 1000}, {1000, 3}};
    size_t s, l;
    for (s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        actkern_activation *act = parse(specs[s]);
        for (l = 0; l < sizeof shapes / sizeof shapes[0]; l++)
            check_bias(act, specs[s], shapes[l][0], shapes[l][1], (uint32_t)(s * 11 + l));
        actkern_free(act);
    }
    /* The fast tier of the handle applies. */
    {
        actkern_activation *fast = actkern_parse_fast("silu", NULL, 0);
        CHECK(fast != NULL);
        if (fast) check_bias(fast, "silu, fast", 9, 40, 3);
        actkern_free(fast);
    }
    /* relu + bias from a plain C formula, bit for bit. */
    {
        actkern_activation *relu = parse("relu");
        const float x[6] = {1.0f, -2.0f, 0.25f, -1.0f, 3.0f, -0.5f}, bias[3] = {0.5f, 1.5f, -0.25f};
        const float dy[6] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
        float y[6], dx[6], dbias[3];
        size_t i;
        CHECK_STATUS(actkern_forward_bias(relu, x, bias, y, 2, 3), ACTKERN_OK);
        for (i = 0; i < 6; i++) {
            const float sum = x[i] + bias[i % 3], want = sum > 0.0f ? sum : 0.0f;
            CHECK(same_bits(&y[i], &want, 1));
        }
        CHECK_STATUS(actkern_backward_bias(relu, x, bias, dy, dx, dbias, 2, 3), ACTKERN_OK);
        for (i = 0; i < 6; i++) {
            const float want = x[i] + bias[i % 3] > 0.0f ? dy[i] : 0.0f;
            CHECK(same_bits(&dx[i], &want, 1));
        }
        CHECK(dbias[0] == 1.0f && dbias[1] == 5.0f && dbias[2] == 0.0f); /* sums 1.5 -0.5 0; -0.5 4.5 -0.75 */
        /* rows = 0: nothing to read, dbias = 0. */
        fill(dbias, 3, 42.0f);
        CHECK_STATUS(actkern_backward_bias(relu, NULL, bias, NULL, NULL, dbias, 0, 3), ACTKERN_OK);
        CHECK(dbias[0] == 0.0f && dbias[1] == 0.0f && dbias[2] == 0.0f);
        actkern_free(relu);
    }
}

static void test_bias_status_codes(void) {
    float buf[32], out[32], sentinel[32];
    actkern_activation *tanh_ = parse("tanh");
    float *misaligned = (float *)(uintptr_t)((uintptr_t)buf + 1);
    fill_inputs(buf, 32, 5);
    fill(sentinel, 32, 42.0f);
    memcpy(out, sentinel, sizeof out);
    CHECK_STATUS(actkern_forward_bias(NULL, buf, buf, out, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward_bias(NULL, NULL, NULL, NULL, NULL, NULL, 0, 0), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_forward_bias(tanh_, NULL, buf, out, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_forward_bias(tanh_, buf, NULL, out, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_forward_bias(tanh_, NULL, NULL, NULL, 0, 2), ACTKERN_ERR_NULL_POINTER); /* bias has 2 */
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, buf, buf, out, NULL, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, buf, NULL, out, out + 8, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_forward_bias(tanh_, NULL, NULL, NULL, 5, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_forward_bias(tanh_, NULL, buf, NULL, 0, 2), ACTKERN_OK);
    CHECK_STATUS(actkern_backward_bias(tanh_, NULL, NULL, NULL, NULL, NULL, 3, 0), ACTKERN_OK);
    CHECK(same_bits(out, sentinel, 32));
    CHECK_STATUS(actkern_forward_bias(tanh_, buf, buf, out, SIZE_MAX / 2, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_forward_bias(tanh_, buf, buf, out, SIZE_MAX / 4 + 1, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_forward_bias(tanh_, buf, misaligned, out, 2, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, buf, buf, out, misaligned, 2, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK(same_bits(out, sentinel, 32));
    /* y may be x, nothing else; dx may be dy, nothing else; dbias overlaps nothing. */
    CHECK_STATUS(actkern_forward_bias(tanh_, out + 1, buf, out, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_forward_bias(tanh_, buf, out + 3, out, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_forward_bias(tanh_, out, out, out, 2, 2), ACTKERN_ERR_OVERLAP); /* bias in y */
    CHECK_STATUS(actkern_backward_bias(tanh_, out, buf, buf, out, out + 8, 2, 2), ACTKERN_ERR_OVERLAP); /* dx == x */
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, out + 2, buf, out, out + 8, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, buf, out + 1, out, out + 8, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, buf, buf, out, out + 3, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, out + 8, buf, out, out + 8, 2, 2), ACTKERN_ERR_OVERLAP); /* dbias == bias */
    CHECK_STATUS(actkern_backward_bias(tanh_, out + 8, buf, buf, out, out + 8, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, buf, out + 8, out, out + 9, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK(same_bits(out, sentinel, 32));
    CHECK_STATUS(actkern_backward_bias(tanh_, buf, buf, out, out, out + 4, 2, 2), ACTKERN_OK); /* dx == dy */
    actkern_free(tanh_);
}

/* prelu from the C formulas: y and dx bit for bit, dweight within 1 ULP of a double sum. */
static void check_prelu(size_t outer, size_t channels, size_t inner, uint32_t seed) {
    const size_t n = outer * channels * inner;
    float *x = alloc_floats(n), *w = alloc_floats(channels), *dy = alloc_floats(n), *y = alloc_floats(n);
    float *dx = alloc_floats(n), *want = alloc_floats(n), *wdx = alloc_floats(n), *i1 = alloc_floats(n);
    float *dw = alloc_floats(channels), *dw2 = alloc_floats(channels);
    double *sums = (double *)calloc(channels ? channels : 1, sizeof(double));
    size_t i, c;
    int failures_before = failures;
    fill_inputs(x, n, seed);
    fill_finite(w, channels, seed + 1);
    for (c = 0; c < channels; c++)
        if (w[c] == 0.0f) w[c] = 0.25f; /* exactly 0 is the contract's own case, not this formula's */
    fill_inputs(dy, n, seed + 2);
    for (i = 0; i < n; i++) {
        const size_t ch = channels == 1 ? 0 : (i / inner) % channels;
        want[i] = x[i] > 0.0f ? x[i] : w[ch] * x[i];
        wdx[i] = isnan(x[i]) ? NAN : x[i] > 0.0f ? dy[i] : w[ch] * dy[i];
        if (!(x[i] > 0.0f)) sums[ch] += (double)x[i] * (double)dy[i];
    }
    CHECK_STATUS(actkern_prelu(x, w, y, outer, channels, inner), ACTKERN_OK);
    CHECK(same_values(y, want, n));
    fill(dw, channels, 42.0f);
    CHECK_STATUS(actkern_prelu_backward(x, w, dy, dx, dw, outer, channels, inner), ACTKERN_OK);
    CHECK(same_values(dx, wdx, n));
    for (c = 0; c < channels; c++) CHECK(near(dw[c], sums[c], 1.0, 1e-37));
    /* In place: y over x; dx over dy. */
    if (n) memcpy(i1, x, n * sizeof *x);
    CHECK_STATUS(actkern_prelu(i1, w, i1, outer, channels, inner), ACTKERN_OK);
    CHECK(same_bits(i1, y, n));
    if (n) memcpy(i1, dy, n * sizeof *dy);
    CHECK_STATUS(actkern_prelu_backward(x, w, i1, i1, dw2, outer, channels, inner), ACTKERN_OK);
    CHECK(same_bits(i1, dx, n) && same_bits(dw2, dw, channels));
    if (failures != failures_before)
        fprintf(stderr, "  (in check_prelu outer %zu, channels %zu, inner %zu)\n", outer, channels, inner);
    free(x); free(w); free(dy); free(y); free(dx); free(want); free(wdx); free(i1);
    free(dw); free(dw2); free(sums);
}

static void test_prelu(void) {
    static const size_t shapes[][3] = {{2, 3, 5}, {7, 4, 1}, {1, 1, 1}, {3, 1, 17}, {5, 16, 3}, {2, 64, 33}, {1, 1000, 1}};
    size_t l;
    for (l = 0; l < sizeof shapes / sizeof shapes[0]; l++) check_prelu(shapes[l][0], shapes[l][1], shapes[l][2], (uint32_t)l);
    /* Known values (PyTorch's example layout): NCHW and channels last. */
    {
        const float x[4] = {-1.0f, 2.0f, -1.0f, 2.0f}, w[2] = {0.25f, 0.5f}, dy[4] = {1.0f, 1.0f, 1.0f, 1.0f};
        const float x_nhwc[4] = {-1.0f, -1.0f, 2.0f, 2.0f};
        float y[4], dx[4], dw[2];
        CHECK_STATUS(actkern_prelu(x, w, y, 1, 2, 2), ACTKERN_OK);
        CHECK(y[0] == -0.25f && y[1] == 2.0f && y[2] == -0.5f && y[3] == 2.0f);
        CHECK_STATUS(actkern_prelu(x_nhwc, w, y, 2, 2, 1), ACTKERN_OK);
        CHECK(y[0] == -0.25f && y[1] == -0.5f && y[2] == 2.0f && y[3] == 2.0f);
        CHECK_STATUS(actkern_prelu_backward(x, w, dy, dx, dw, 1, 2, 2), ACTKERN_OK);
        CHECK(dx[0] == 0.25f && dx[1] == 1.0f && dx[2] == 0.5f && dx[3] == 1.0f);
        CHECK(dw[0] == -1.0f && dw[1] == -1.0f);
        /* No elements: dweight is written 0, whatever inner; no channels: a no-op. */
        dw[0] = dw[1] = 42.0f;
        CHECK_STATUS(actkern_prelu_backward(NULL, w, NULL, NULL, dw, 3, 2, 0), ACTKERN_OK);
        CHECK(dw[0] == 0.0f && dw[1] == 0.0f);
        dw[0] = dw[1] = 42.0f;
        CHECK_STATUS(actkern_prelu_backward(NULL, w, NULL, NULL, dw, 0, 2, 5), ACTKERN_OK);
        CHECK(dw[0] == 0.0f && dw[1] == 0.0f);
        CHECK_STATUS(actkern_prelu(NULL, NULL, NULL, 4, 0, 4), ACTKERN_OK);
        CHECK_STATUS(actkern_prelu_backward(NULL, NULL, NULL, NULL, NULL, 4, 0, 4), ACTKERN_OK);
    }
}

static void test_prelu_status_codes(void) {
    float buf[32], out[32], sentinel[32];
    float *misaligned = (float *)(uintptr_t)((uintptr_t)buf + 1);
    fill_inputs(buf, 32, 6);
    fill(sentinel, 32, 42.0f);
    memcpy(out, sentinel, sizeof out);
    CHECK_STATUS(actkern_prelu(NULL, buf, out, 1, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_prelu(buf, NULL, out, 1, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_prelu(buf, buf, NULL, 1, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_prelu(NULL, NULL, NULL, 0, 2, 2), ACTKERN_ERR_NULL_POINTER); /* weight has 2 */
    CHECK_STATUS(actkern_prelu_backward(buf, buf, buf, out, NULL, 1, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_prelu_backward(buf, buf, NULL, out, out + 8, 1, 2, 2), ACTKERN_ERR_NULL_POINTER);
    CHECK(same_bits(out, sentinel, 32));
    CHECK_STATUS(actkern_prelu(buf, buf, out, SIZE_MAX / 2, 2, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_prelu(buf, buf, out, 2, SIZE_MAX / 4 + 1, 1), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_prelu(misaligned, buf, out, 1, 2, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_prelu_backward(buf, buf, buf, out, misaligned, 1, 2, 2), ACTKERN_ERR_BAD_BUFFER);
    CHECK(same_bits(out, sentinel, 32));
    CHECK_STATUS(actkern_prelu(out + 1, buf, out, 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_prelu(buf, out + 3, out, 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_prelu_backward(out, buf, buf, out, out + 8, 1, 2, 2), ACTKERN_ERR_OVERLAP); /* dx == x */
    CHECK_STATUS(actkern_prelu_backward(buf, out + 3, buf, out, out + 8, 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_prelu_backward(buf, buf, out + 2, out, out + 8, 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_prelu_backward(buf, buf, buf, out, out + 3, 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_prelu_backward(buf, out + 8, buf, out, out + 8, 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_prelu_backward(buf, buf, out + 8, out, out + 9, 1, 2, 2), ACTKERN_ERR_OVERLAP);
    CHECK(same_bits(out, sentinel, 32));
    CHECK_STATUS(actkern_prelu_backward(buf, buf, out, out, out + 4, 1, 2, 2), ACTKERN_OK); /* dx == dy */
    CHECK_STATUS(actkern_prelu(out, buf, out, 1, 2, 2), ACTKERN_OK);                        /* y == x */
}

/* Past the threading threshold: serial and threaded calls give the same bits, and each backend
 * the composition's bits (checked again on every backend this CPU has). */
static void test_shaped_threads_and_backends(void) {
    static const char *backends[] = {"scalar", "portable", "avx2", "avx512"};
    const size_t rows = 300, cols = 700; /* rows * 2 * cols and rows * cols above the threshold */
    const size_t nx = rows * 2 * cols, n = rows * cols;
    float *x = alloc_floats(nx), *dout = alloc_floats(n), *w = alloc_floats(7);
    float *o1 = alloc_floats(nx), *o2 = alloc_floats(nx), *d1 = alloc_floats(nx), *d2 = alloc_floats(nx);
    float *db1 = alloc_floats(cols), *db2 = alloc_floats(cols);
    actkern_gated *g = parse_gated("geglu");
    actkern_activation *gelu = parse("gelu");
    char before[16];
    size_t b, k;
    CHECK(n >= ACTKERN_PARALLEL_THRESHOLD);
    fill_inputs(x, nx, 31);
    fill_inputs(dout, n, 32);
    fill_finite(w, 7, 33);

    CHECK(actkern_set_serial(1) == 0);
    CHECK_STATUS(actkern_gated_forward_halves(g, x, o1, rows, cols), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward_halves(g, x, dout, d1, rows, cols), ACTKERN_OK);
    CHECK(actkern_set_serial(0) == 1);
    CHECK_STATUS(actkern_gated_forward_halves(g, x, o2, rows, cols), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward_halves(g, x, dout, d2, rows, cols), ACTKERN_OK);
    CHECK(same_bits(o1, o2, n) && same_bits(d1, d2, nx));

    CHECK(actkern_set_serial(1) == 0);
    CHECK_STATUS(actkern_gated_forward(g, x, x + n, o1, n), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward(g, x, x + n, dout, d1, d1 + n, n), ACTKERN_OK);
    CHECK(actkern_set_serial(0) == 1);
    CHECK_STATUS(actkern_gated_forward(g, x, x + n, o2, n), ACTKERN_OK);
    CHECK_STATUS(actkern_gated_backward(g, x, x + n, dout, d2, d2 + n, n), ACTKERN_OK);
    CHECK(same_bits(o1, o2, n) && same_bits(d1, d2, nx));

    CHECK(actkern_set_serial(1) == 0);
    CHECK_STATUS(actkern_forward_bias(gelu, x, x + n, o1, rows, cols), ACTKERN_OK);
    CHECK_STATUS(actkern_backward_bias(gelu, x, x + n, dout, d1, db1, rows, cols), ACTKERN_OK);
    CHECK(actkern_set_serial(0) == 1);
    CHECK_STATUS(actkern_forward_bias(gelu, x, x + n, o2, rows, cols), ACTKERN_OK);
    CHECK_STATUS(actkern_backward_bias(gelu, x, x + n, dout, d2, db2, rows, cols), ACTKERN_OK);
    CHECK(same_bits(o1, o2, n) && same_bits(d1, d2, n) && same_bits(db1, db2, cols));

    /* prelu runs threaded either way (the library has no serial prelu): this checks that two
     * threaded runs agree, dweight's sums included. */
    CHECK(actkern_set_serial(1) == 0);
    CHECK_STATUS(actkern_prelu_backward(x, w, dout, d1, db1, rows, 7, cols / 7), ACTKERN_OK);
    CHECK(actkern_set_serial(0) == 1);
    CHECK_STATUS(actkern_prelu_backward(x, w, dout, d2, db2, rows, 7, cols / 7), ACTKERN_OK);
    CHECK(same_bits(d1, d2, n) && same_bits(db1, db2, 7));

    /* Every backend: the value checks again, short and past the threshold. */
    strncpy(before, actkern_backend(), sizeof before - 1);
    before[sizeof before - 1] = '\0';
    for (b = 0; b < sizeof backends / sizeof backends[0]; b++) {
        int failures_before = failures;
        if (actkern_set_backend(backends[b]) != ACTKERN_OK) continue;
        for (k = 0; k < GATED_KINDS; k++) {
            check_gated(k, 1001, (uint32_t)(b * 5 + k), 1);
            check_gated(k, 1001, (uint32_t)(b * 5 + k), 0);
            check_gated_halves(k, 4, 33, (uint32_t)k);
        }
        check_gated(1, 200003, 9, 1);
        check_gated_halves(1, 2, 70001, 9); /* one row longer than the threshold */
        check_bias(gelu, "gelu", 400, 333, 7);
        check_prelu(3, 5, 9000, 8);
        check_prelu(9000, 5, 1, 8);
        if (failures != failures_before) fprintf(stderr, "  (on backend %s)\n", backends[b]);
    }
    CHECK_STATUS(actkern_set_backend(before), ACTKERN_OK);
    free(x); free(dout); free(w); free(o1); free(o2); free(d1); free(d2); free(db1); free(db2);
    actkern_gated_free(g);
    actkern_free(gelu);
}

/* ---- softmax, log_softmax, softmin over rows -------------------------------------------- */

typedef int (*rows_forward)(const float *, float *, size_t, size_t);
typedef int (*rows_backward)(const float *, const float *, float *, size_t, size_t);

/* exp and log in double without libm (the shared-library links of these tests pass no -lm):
   Taylor's series after reduction by ln 2, and Newton's iteration on it (for x >= 1). */
static double ref_exp(double x) {
    const double ln2 = 0.69314718055994530942;
    int k = (int)(x / ln2 + (x < 0 ? -0.5 : 0.5)), i;
    double r = x - k * ln2, term = 1.0, sum = 1.0;
    for (i = 1; i < 30; i++) {
        term *= r / i;
        sum += term;
    }
    for (; k > 0; k--) sum *= 2.0;
    for (; k < 0; k++) sum *= 0.5;
    return sum;
}

static double ref_log(double x) {
    double y = 0.0;
    int i;
    for (i = 0; i < 200; i++) y = y - 1.0 + x / ref_exp(y);
    return y;
}

/* The exact row functions in double: 0 softmax, 1 log_softmax, 2 softmin (finite rows). */
static void rows_reference(int fn, const float *x, double *y, size_t rows, size_t cols) {
    size_t r, i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double m = -INFINITY, sum = 0.0, sign = fn == 2 ? -1.0 : 1.0;
        for (i = 0; i < cols; i++)
            if (sign * xr[i] > m) m = sign * xr[i];
        for (i = 0; i < cols; i++) sum += ref_exp(sign * xr[i] - m);
        for (i = 0; i < cols; i++)
            y[r * cols + i] = fn == 1 ? (xr[i] - m) - ref_log(sum) : ref_exp(sign * xr[i] - m) / sum;
    }
}

static void test_row_functions(void) {
    enum { ROWS = 6, COLS = 37, N = ROWS * COLS };
    static const rows_forward forwards[3] = {actkern_softmax, actkern_log_softmax, actkern_softmin};
    static const rows_backward backwards[3] = {actkern_softmax_backward, actkern_log_softmax_backward,
                                               actkern_softmin_backward};
    float x[N], y[N], y2[N], dy[N], dx[N], dx2[N];
    double want[N];
    uint16_t xh[N], yh[N];
    size_t i, r;
    int fn;
    uint32_t s = 99u;
    for (i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) * (40.0 / 16777216.0) - 20.0);
        dy[i] = (float)((s >> 16) * (2.0 / 65536.0) - 1.0);
    }
    for (fn = 0; fn < 3; fn++) {
        CHECK_STATUS(forwards[fn](x, y, ROWS, COLS), ACTKERN_OK);
        rows_reference(fn, x, want, ROWS, COLS);
        for (i = 0; i < N; i++) CHECK_CLOSE(y[i], want[i]);
        /* In place gives the same bits. */
        memcpy(y2, x, sizeof x);
        CHECK_STATUS(forwards[fn](y2, y2, ROWS, COLS), ACTKERN_OK);
        CHECK(same_bits(y, y2, N));
        /* Backward from the output against double, with an absolute floor for cancellation. */
        CHECK_STATUS(backwards[fn](y, dy, dx, ROWS, COLS), ACTKERN_OK);
        for (r = 0; r < ROWS; r++) {
            double sum = 0.0, scale = 0.0;
            for (i = r * COLS; i < (r + 1) * COLS; i++) {
                sum += fn == 1 ? (double)dy[i] : (double)dy[i] * y[i];
                scale += fabs(dy[i]);
            }
            for (i = r * COLS; i < (r + 1) * COLS; i++) {
                double w = fn == 1 ? dy[i] - ref_exp((double)y[i]) * sum : (fn == 2 ? -1.0 : 1.0) * y[i] * (dy[i] - sum);
                CHECK(fabs((double)dx[i] - w) <= 5e-7 * fabs(w) + 1e-7 * scale * (fn == 1 ? ref_exp((double)y[i]) : fabs(y[i])));
            }
        }
        /* dx over dy, and over y. */
        memcpy(dx2, dy, sizeof dy);
        CHECK_STATUS(backwards[fn](y, dx2, dx2, ROWS, COLS), ACTKERN_OK);
        CHECK(same_bits(dx, dx2, N));
        memcpy(dx2, y, sizeof y);
        CHECK_STATUS(backwards[fn](dx2, dy, dx2, ROWS, COLS), ACTKERN_OK);
        CHECK(same_bits(dx, dx2, N));
    }
    /* Special rows (PyTorch): all -inf gives NaN, or zeros when masked; -inf elements give 0. */
    fill(y2, 4, -INFINITY);
    CHECK_STATUS(actkern_softmax(y2, y, 2, 2), ACTKERN_OK);
    CHECK(isnan(y[0]) && isnan(y[3]));
    CHECK_STATUS(actkern_softmax_masked_rows_zero(y2, y, 2, 2), ACTKERN_OK);
    CHECK(y[0] == 0.0f && y[1] == 0.0f && y[2] == 0.0f && y[3] == 0.0f);
    y2[3] = 1.0f;
    CHECK_STATUS(actkern_softmax(y2, y, 2, 2), ACTKERN_OK);
    CHECK(isnan(y[0]) && y[2] == 0.0f && y[3] == 1.0f);
    /* Status codes. */
    CHECK_STATUS(actkern_softmax(NULL, NULL, 0, 5), ACTKERN_OK);
    CHECK_STATUS(actkern_softmax(NULL, NULL, 5, 0), ACTKERN_OK);
    CHECK_STATUS(actkern_softmax(NULL, y, 1, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_softmax_backward(y, NULL, dx, 1, 4), ACTKERN_ERR_NULL_POINTER);
    CHECK_STATUS(actkern_softmax(x, x + 1, 2, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_log_softmax_backward(y, dy, dy + 2, 1, 4), ACTKERN_ERR_OVERLAP);
    CHECK_STATUS(actkern_softmin((const float *)((const char *)x + 2), y, 1, 4), ACTKERN_ERR_BAD_BUFFER);
    CHECK_STATUS(actkern_softmax(x, y, (size_t)-1, 2), ACTKERN_ERR_BAD_BUFFER);
    /* bfloat16 and binary16: the float result on the widened row, rounded once. */
    for (i = 0; i < N; i++) xh[i] = f32_to_bf16(x[i]);
    for (i = 0; i < N; i++) y2[i] = bf16_to_f32(xh[i]);
    CHECK_STATUS(actkern_softmax_bf16(xh, yh, ROWS, COLS), ACTKERN_OK);
    CHECK_STATUS(actkern_softmax(y2, y, ROWS, COLS), ACTKERN_OK);
    for (i = 0; i < N; i++) CHECK(yh[i] == f32_to_bf16(y[i]));
    for (i = 0; i < N; i++) xh[i] = f32_to_f16(x[i]);
    for (i = 0; i < N; i++) y2[i] = f16_to_f32(xh[i]);
    CHECK_STATUS(actkern_log_softmax_f16(xh, yh, ROWS, COLS), ACTKERN_OK);
    CHECK_STATUS(actkern_log_softmax(y2, y, ROWS, COLS), ACTKERN_OK);
    for (i = 0; i < N; i++) CHECK(yh[i] == f32_to_f16(y[i]));
    CHECK_STATUS(actkern_softmin_backward_bf16(NULL, yh, yh, 1, 1), ACTKERN_ERR_NULL_POINTER);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--bad-backend-env") == 0) {
        test_bad_backend_env();
    } else {
        test_version_and_backend();
        test_strerror();
        test_parse();
        test_known_values();
        test_in_place();
        test_status_codes();
        test_direct_entry_points();
        test_serial_and_backends();
        test_fast_tier();
        test_conversions();
        test_half_known_values();
        test_half_status_codes();
        test_half();
        test_gated_parse();
        test_gated_values();
        test_gated_status_codes();
        test_bias();
        test_bias_status_codes();
        test_prelu();
        test_prelu_status_codes();
        test_shaped_threads_and_backends();
        test_row_functions();
    }
    printf("test_actkern.c: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
