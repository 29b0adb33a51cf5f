/*
 * engram_kernels.h -- float32 distance kernels and the product-quantizer
 * asymmetric-distance lookup used by the L2 graph tier (EngramGraph).
 *
 * Each kernel has an AVX2/FMA implementation and a portable scalar one; the
 * choice is made once, at first use, from __builtin_cpu_supports (or forced
 * with ENGRAM_KERNELS=scalar in the environment, or engram_kernels_force_scalar
 * for tests and benchmarks). The compiled package needs no -mavx2 flag: the
 * vector code carries __attribute__((target("avx2,fma"))), so the library
 * still runs on any x86-64 (and builds elsewhere, scalar only).
 *
 * Conventions: rows are row-major float32; "many" variants compute one
 * query against n rows whose starts are `stride` floats apart (stride >= d),
 * so node records with trailing neighbour lists can be scanned in place.
 * No function allocates, fails or keeps state besides the dispatch choice.
 */
#ifndef ENGRAM_KERNELS_H
#define ENGRAM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Squared Euclidean distance between a[0..d) and b[0..d). */
float engram_l2sq(const float *a, const float *b, size_t d);
/** Inner product of a[0..d) and b[0..d). */
float engram_ip(const float *a, const float *b, size_t d);
/** out[i] = l2sq(q, rows + i*stride) for i in 0..<n. */
void engram_l2sq_many(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out);
/** out[i] = ip(q, rows + i*stride) for i in 0..<n. */
void engram_ip_many(const float *q, const float *rows, size_t n, size_t d, size_t stride, float *out);
/** out[i] = l2sq(q, base + ids[i]*d): rows picked by node id (a node's
 *  neighbours during the build), prefetching ahead. */
void engram_l2sq_ids(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out);
/** out[i] = ip(q, base + ids[i]*d). */
void engram_ip_ids(const float *q, const float *base, size_t d, const int32_t *ids, size_t n, float *out);

/** PQ asymmetric distance of one code: sum over m < M of table[m*256 + code[m]]
 *  (8-bit codes; the table holds M*256 floats). */
float engram_pq_distance(const float *table, const uint8_t *code, size_t M);
/** out[i] = pq_distance(table, codes + i*M, M) for n codes stored back to back. */
void engram_pq_distance_batch(const float *table, const uint8_t *codes, size_t n, size_t M, float *out);
/** out[i] = pq_distance(table, codes + ids[i]*M, M): codes picked by node id
 *  (a graph node's neighbours). */
void engram_pq_distance_ids(const float *table, const uint8_t *codes, size_t M, const int32_t *ids,
                            size_t n, float *out);

/** Scalar reference implementations, always portable (tests compare against them). */
float engram_l2sq_scalar(const float *a, const float *b, size_t d);
float engram_ip_scalar(const float *a, const float *b, size_t d);
float engram_pq_distance_scalar(const float *table, const uint8_t *code, size_t M);

/** 1 forces the scalar kernels from now on, 0 returns to the CPU's best
 *  (process-wide; for tests and the benchmark). */
void engram_kernels_force_scalar(int on);
/** The kernels in use: "avx2+fma" or "scalar". */
const char *engram_kernels_isa(void);

#ifdef __cplusplus
}
#endif

#endif /* ENGRAM_KERNELS_H */
