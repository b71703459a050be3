/* The C ABI from C99: known values, in-place calls, every status code, NULL handling, the
 * direct entry points against the generic ones, serial mode and backends.
 *
 * Built and run by tests/c_abi.rs (cc -std=c99 -Wall -Wextra -Werror -pedantic), against
 * libactkern.a and libactkern.so. Prints "<checks> checks, <failures> failed" and exits non-zero
 * when a check fails. With --bad-backend-env (and ACTKERN_BACKEND set to a bad name) it checks
 * instead that the library's panic reaches C as ACTKERN_ERR_INTERNAL. */
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

static void test_version_and_backend(void) {
    const char *b = actkern_backend();
    CHECK(strcmp(actkern_version(), ACTKERN_VERSION) == 0);
    CHECK(b != NULL);
    CHECK(strcmp(b, "scalar") == 0 || strcmp(b, "portable") == 0 || strcmp(b, "avx2") == 0 ||
          strcmp(b, "avx512") == 0);
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

/* ---- a panic inside the library --------------------------------------------------------- */

static void test_bad_backend_env(void) {
    const float x[4] = {-1.0f, 0.0f, 0.5f, 2.0f};
    float y[4];
    actkern_activation *act;
    const char *env = getenv("ACTKERN_BACKEND");
    CHECK(env != NULL && strcmp(env, "scalar") != 0);
    /* Choosing the backend panics on the bad variable; the panic stops at the boundary. */
    CHECK(strcmp(actkern_backend(), "invalid") == 0);
    act = parse("tanh");
    CHECK_STATUS(actkern_forward(act, x, y, 4), ACTKERN_ERR_INTERNAL);
    CHECK_STATUS(actkern_relu_forward(x, y, 4), ACTKERN_ERR_INTERNAL);
    CHECK_STATUS(actkern_backward(act, x, x, y, 4), ACTKERN_ERR_INTERNAL);
    /* Setting a backend explicitly recovers. */
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
    }
    printf("test_actkern.c: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
