// engram_kernels.c -- see include/engram_kernels.h.
//
// Why function pointers rather than ifunc: SwiftPM builds this without
// special flags on any platform, and tests need to switch to the scalar path
// at run time. The pointers are resolved once (first call), then each call is
// one indirect jump -- negligible next to a 384-d distance.

#include "engram_kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define ENGRAM_X86 1
#include <immintrin.h>
#endif

// ---------------------------------------------------------------- scalar

float engram_l2sq_scalar(const float *a, const float *b, size_t d) {
    // Four accumulators: same order of summation as a 4-wide vector loop, and
    // lets the compiler keep independent dependency chains.
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        float t0 = a[i] - b[i], t1 = a[i + 1] - b[i + 1], t2 = a[i + 2] - b[i + 2], t3 = a[i + 3] - b[i + 3];
        s0 += t0 * t0; s1 += t1 * t1; s2 += t2 * t2; s3 += t3 * t3;
    }
    for (; i < d; i++) { float t = a[i] - b[i]; s0 += t * t; }
    return (s0 + s1) + (s2 + s3);
}

float engram_ip_scalar(const float *a, const float *b, size_t d) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < d; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

float engram_pq_distance_scalar(const float *table, const uint8_t *code, size_t M) {
    float s0 = 0, s1 = 0;
    size_t m = 0;
    for (; m + 2 <= M; m += 2) {
        s0 += table[m * 256 + code[m]];
        s1 += table[(m + 1) * 256 + code[m + 1]];
    }
    for (; m < M; m++) s0 += table[m * 256 + code[m]];
    return s0 + s1;
}

static void l2sq_many_scalar(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = engram_l2sq_scalar(q, rows + i * stride, d);
}
static void ip_many_scalar(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = engram_ip_scalar(q, rows + i * stride, d);
}
static void l2sq_ids_scalar(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = engram_l2sq_scalar(q, base + (size_t)ids[i] * d, d);
}
static void ip_ids_scalar(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = engram_ip_scalar(q, base + (size_t)ids[i] * d, d);
}
static void pq_batch_scalar(const float *table, const uint8_t *codes, size_t n, size_t M, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = engram_pq_distance_scalar(table, codes + i * M, M);
}
static void pq_ids_scalar(const float *table, const uint8_t *codes, size_t M, const int32_t *ids, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = engram_pq_distance_scalar(table, codes + (size_t)ids[i] * M, M);
}

// ---------------------------------------------------------------- AVX2 + FMA

#ifdef ENGRAM_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 sh = _mm_movehdup_ps(lo);
    __m128 s = _mm_add_ps(lo, sh);
    sh = _mm_movehl_ps(sh, s);
    s = _mm_add_ss(s, sh);
    return _mm_cvtss_f32(s);
}

// Mask for the last d % 8 lanes, so tails need no scalar loop (and never read past the end).
AVX2 static inline __m256i tail_mask(size_t r) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - r));
}

AVX2 static float l2sq_avx2(const float *a, const float *b, size_t d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        __m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        s0 = _mm256_fmadd_ps(t0, t0, s0);
        s1 = _mm256_fmadd_ps(t1, t1, s1);
    }
    if (i + 8 <= d) {
        __m256 t = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(t, t, s0);
        i += 8;
    }
    if (i < d) {
        __m256i m = tail_mask(d - i);
        __m256 t = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        s1 = _mm256_fmadd_ps(t, t, s1);
    }
    return hsum256(_mm256_add_ps(s0, s1));
}

AVX2 static float ip_avx2(const float *a, const float *b, size_t d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    if (i + 8 <= d) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        i += 8;
    }
    if (i < d) {
        __m256i m = tail_mask(d - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum256(_mm256_add_ps(s0, s1));
}

AVX2 static void l2sq_many_avx2(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out) {
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n) _mm_prefetch((const char *)(rows + (i + 1) * stride), _MM_HINT_T0);
        out[i] = l2sq_avx2(q, rows + i * stride, d);
    }
}
AVX2 static void ip_many_avx2(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out) {
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n) _mm_prefetch((const char *)(rows + (i + 1) * stride), _MM_HINT_T0);
        out[i] = ip_avx2(q, rows + i * stride, d);
    }
}

// Rows picked by id are scattered in memory: prefetch two rows ahead, every
// cache line of each (a 384-d row is 24 lines).
AVX2 static inline void prefetch_row(const float *row, size_t d) {
    const char *p = (const char *)row;
    for (size_t off = 0; off < d * sizeof(float); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}
AVX2 static void l2sq_ids_avx2(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out) {
    if (n > 0) prefetch_row(base + (size_t)ids[0] * d, d);
    if (n > 1) prefetch_row(base + (size_t)ids[1] * d, d);
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n) prefetch_row(base + (size_t)ids[i + 2] * d, d);
        out[i] = l2sq_avx2(q, base + (size_t)ids[i] * d, d);
    }
}
AVX2 static void ip_ids_avx2(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out) {
    if (n > 0) prefetch_row(base + (size_t)ids[0] * d, d);
    if (n > 1) prefetch_row(base + (size_t)ids[1] * d, d);
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n) prefetch_row(base + (size_t)ids[i + 2] * d, d);
        out[i] = ip_avx2(q, base + (size_t)ids[i] * d, d);
    }
}

// Eight sub-quantizers per gather: lane j reads table[(m+j)*256 + code[m+j]].
AVX2 static float pq_avx2(const float *table, const uint8_t *code, size_t M) {
    const __m256i lane_base = _mm256_setr_epi32(0, 256, 512, 768, 1024, 1280, 1536, 1792);
    __m256 s = _mm256_setzero_ps();
    size_t m = 0;
    for (; m + 8 <= M; m += 8) {
        __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(code + m)));
        __m256i idx = _mm256_add_epi32(c, lane_base);
        s = _mm256_add_ps(s, _mm256_i32gather_ps(table + m * 256, idx, 4));
    }
    float r = hsum256(s);
    for (; m < M; m++) r += table[m * 256 + code[m]];
    return r;
}
AVX2 static void pq_batch_avx2(const float *table, const uint8_t *codes, size_t n, size_t M, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = pq_avx2(table, codes + i * M, M);
}
AVX2 static void pq_ids_avx2(const float *table, const uint8_t *codes, size_t M, const int32_t *ids, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n) _mm_prefetch((const char *)(codes + (size_t)ids[i + 2] * M), _MM_HINT_T0);
        out[i] = pq_avx2(table, codes + (size_t)ids[i] * M, M);
    }
}
#endif

// ---------------------------------------------------------------- dispatch

typedef float (*pair_fn)(const float *, const float *, size_t);
typedef void (*many_fn)(const float *, const float *, size_t, size_t, size_t, float *);
typedef void (*ids_fn)(const float *, const float *, size_t, const int32_t *, size_t, float *);
typedef float (*pq_fn)(const float *, const uint8_t *, size_t);
typedef void (*pq_batch_fn)(const float *, const uint8_t *, size_t, size_t, float *);
typedef void (*pq_ids_fn)(const float *, const uint8_t *, size_t, const int32_t *, size_t, float *);

typedef struct {
    pair_fn l2, ip;
    many_fn l2_many, ip_many;
    ids_fn l2_ids, ip_ids;
    pq_fn pq;
    pq_batch_fn pq_batch;
    pq_ids_fn pq_ids;
    const char *name;
} kernel_table;

static const kernel_table k_scalar = {engram_l2sq_scalar, engram_ip_scalar, l2sq_many_scalar, ip_many_scalar,
                                      l2sq_ids_scalar, ip_ids_scalar,
                                      engram_pq_distance_scalar, pq_batch_scalar, pq_ids_scalar, "scalar"};
#ifdef ENGRAM_X86
static const kernel_table k_avx2 = {l2sq_avx2, ip_avx2, l2sq_many_avx2, ip_many_avx2, l2sq_ids_avx2, ip_ids_avx2,
                                    pq_avx2, pq_batch_avx2, pq_ids_avx2, "avx2+fma"};
#endif

// The table in use; NULL until the first call resolves it. Every resolution
// computes the same answer, so a race between two first calls is harmless;
// atomics keep it defined behaviour.
static const kernel_table *g_table = NULL;

static const kernel_table *best_table(void) {
    const char *env = getenv("ENGRAM_KERNELS");
    if (env && strcmp(env, "scalar") == 0) return &k_scalar;
#ifdef ENGRAM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &k_avx2;
#endif
    return &k_scalar;
}

static inline const kernel_table *table(void) {
    const kernel_table *t = __atomic_load_n(&g_table, __ATOMIC_ACQUIRE);
    if (__builtin_expect(t == NULL, 0)) {
        t = best_table();
        __atomic_store_n(&g_table, t, __ATOMIC_RELEASE);
    }
    return t;
}

void engram_kernels_force_scalar(int on) {
    __atomic_store_n(&g_table, on ? &k_scalar : best_table(), __ATOMIC_RELEASE);
}

const char *engram_kernels_isa(void) { return table()->name; }

float engram_l2sq(const float *a, const float *b, size_t d) { return table()->l2(a, b, d); }
float engram_ip(const float *a, const float *b, size_t d) { return table()->ip(a, b, d); }
void engram_l2sq_many(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out) {
    table()->l2_many(q, rows, n, d, stride, out);
}
void engram_ip_many(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out) {
    table()->ip_many(q, rows, n, d, stride, out);
}
float engram_pq_distance(const float *table_, const uint8_t *code, size_t M) { return table()->pq(table_, code, M); }
void engram_pq_distance_batch(const float *table_, const uint8_t *codes, size_t n, size_t M, float *out) {
    table()->pq_batch(table_, codes, n, M, out);
}
void engram_pq_distance_ids(const float *table_, const uint8_t *codes, size_t M, const int32_t *ids, size_t n,
                            float *out) {
    table()->pq_ids(table_, codes, M, ids, n, out);
}
void engram_l2sq_ids(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out) {
    table()->l2_ids(q, base, d, ids, n, out);
}
void engram_ip_ids(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out) {
    table()->ip_ids(q, base, d, ids, n, out);
}
