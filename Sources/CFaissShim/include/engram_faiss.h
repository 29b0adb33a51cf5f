/*
 * engram_faiss.h -- a thin extern "C" API over FAISS (libfaiss.a, C++).
 *
 * Debian ships FAISS only as a static C++ library without the c_api symbols,
 * so Engram carries this small shim. It exposes exactly one index type:
 *
 *     faiss::IndexIDMap2 over faiss::IndexFlat (IndexFlatL2 or IndexFlatIP)
 *
 * i.e. exact (brute-force) search with caller-chosen int64 ids and
 * reconstruction by id.
 *
 * Conventions
 * -----------
 * - Every function that can fail returns an int: 0 (ENGRAM_FAISS_OK) on
 *   success, a negative ENGRAM_FAISS_E_* code on failure. On failure a
 *   human-readable message is kept in a thread-local buffer, readable with
 *   engram_faiss_last_error() on the same thread. Every C++ exception is
 *   caught inside the shim; none crosses this API.
 * - Out-parameters are written only on success.
 * - A handle is NOT internally synchronised. Concurrent calls on the same
 *   handle must be serialised by the caller (the Swift wrapper holds a lock);
 *   different handles may be used from different threads concurrently.
 * - Ids: any int64 except -1, which FAISS uses for "no result". The shim does
 *   not check for duplicate ids on add (IndexIDMap2 would silently keep both
 *   vectors); use engram_faiss_contains() to check first. The Swift wrapper
 *   does.
 * - Vectors are row-major float32, n * dimension values.
 */
#ifndef ENGRAM_FAISS_H
#define ENGRAM_FAISS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- result codes ------------------------------------------------------ */
#define ENGRAM_FAISS_OK 0
/** A faiss::FaissException was thrown (FAISS rejected the call). */
#define ENGRAM_FAISS_E_FAISS (-1)
/** Some other std::exception was thrown. */
#define ENGRAM_FAISS_E_STD (-2)
/** An exception of unknown type was thrown. */
#define ENGRAM_FAISS_E_UNKNOWN (-3)
/** An argument was invalid (NULL pointer, negative count, bad metric...). */
#define ENGRAM_FAISS_E_BAD_ARGUMENT (-4)
/** std::bad_alloc: an allocation failed. */
#define ENGRAM_FAISS_E_OUT_OF_MEMORY (-5)
/** An operating-system I/O error (open/read/write/close of a path). */
#define ENGRAM_FAISS_E_IO (-6)
/** The bytes are not a well-formed IndexIDMap2/IndexIDMap over a flat index
 *  (garbage, truncated, trailing bytes, unsupported index type,
 *  inconsistent sizes, duplicate ids). */
#define ENGRAM_FAISS_E_FORMAT (-7)

/* ---- metrics (same values as faiss::MetricType) ------------------------ */
#define ENGRAM_FAISS_METRIC_INNER_PRODUCT 0
#define ENGRAM_FAISS_METRIC_L2 1

/** Opaque handle: owns one faiss::IndexIDMap2 (and its flat sub-index). */
typedef struct engram_faiss_index engram_faiss_index;

/** Message describing the last failure on the calling thread. Never NULL.
 *  Every function returning an int code clears it ("") on entry; the getters
 *  (count, dimension, metric, contains, live_handles, get_num_threads) leave
 *  it alone. The buffer is thread-local and overwritten by the next failing
 *  call on the same thread. */
const char *engram_faiss_last_error(void);

/** Number of handles created and not yet freed (all threads). For leak tests. */
int64_t engram_faiss_live_handles(void);

/** Handles created minus handles freed on the calling thread: a leak test immune to other threads' indexes. */
int64_t engram_faiss_live_handles_this_thread(void);

/** Number of OpenMP (and OpenBLAS, when present) threads FAISS may use.
 *  Process-wide; default 1. The shim applies it on the calling thread at the
 *  start of every add/remove/search call (OpenMP's setting is per thread, and
 *  callers run on arbitrary threads). n must be >= 1. */
int engram_faiss_set_num_threads(int n);
int engram_faiss_get_num_threads(void);

/** Creates an empty IndexIDMap2 over IndexFlatL2 (metric = ENGRAM_FAISS_METRIC_L2)
 *  or IndexFlatIP (metric = ENGRAM_FAISS_METRIC_INNER_PRODUCT).
 *  dimension must be in 1...INT32_MAX. */
int engram_faiss_new(int64_t dimension, int metric, engram_faiss_index **out);

/** Frees the handle and the index. NULL is accepted. */
void engram_faiss_free(engram_faiss_index *index);

/** Number of vectors (faiss ntotal); -1 if index is NULL. */
int64_t engram_faiss_count(const engram_faiss_index *index);
/** Vector dimension; -1 if index is NULL. */
/* Read-only views of an index's vectors (row-major, count × dimension) and its FAISS ids, for an exact scan
 * with Engram's own SIMD kernels. Valid until the index is changed. 0, or ENGRAM_FAISS_E_BAD_ARGUMENT. */
int engram_faiss_flat_view(const engram_faiss_index *index, const float **vectors, const int64_t **ids, int64_t *count);
int64_t engram_faiss_dimension(const engram_faiss_index *index);
/** ENGRAM_FAISS_METRIC_*; -1 if index is NULL. */
int engram_faiss_metric(const engram_faiss_index *index);
/** 1 if id is in the index, 0 if not, -1 if index is NULL. O(1). */
int engram_faiss_contains(const engram_faiss_index *index, int64_t id);

/** Adds n vectors (x: n * dimension floats) with ids (n int64). n >= 0. */
int engram_faiss_add(engram_faiss_index *index, int64_t n, const float *x,
                     const int64_t *ids);

/** Removes every vector whose id is in ids[0..n); *n_removed (may be NULL)
 *  receives how many vectors were removed. Unknown ids are ignored.
 *  Cost: O(count) (the flat storage is compacted). */
int engram_faiss_remove(engram_faiss_index *index, int64_t n, const int64_t *ids,
                        int64_t *n_removed);

/** k-nearest-neighbour search for nq queries (x: nq * dimension floats).
 *  distances and labels must each have room for nq * k values; row i holds
 *  the k results of query i, best first. L2 distances are SQUARED L2 (lower
 *  is better); inner-product "distances" are similarities (higher is better).
 *  Missing results (k > count) have label -1. nq >= 0, k >= 1. */
int engram_faiss_search(const engram_faiss_index *index, int64_t nq, const float *x,
                        int64_t k, float *distances, int64_t *labels);

/** Copies the vector stored under id into out (dimension floats) and sets
 *  *found = 1; if id is absent sets *found = 0 and leaves out untouched. */
int engram_faiss_reconstruct(const engram_faiss_index *index, int64_t id, float *out,
                             int *found);

/** Serialises the index (faiss::write_index format, readable by
 *  faiss.read_index / faiss.deserialize_index) into a malloc'd buffer.
 *  On success *out_data must be released with engram_faiss_buffer_free (or
 *  free). An empty index still serialises to a non-empty buffer. */
int engram_faiss_serialize(const engram_faiss_index *index, uint8_t **out_data,
                           size_t *out_size);
/** Releases a buffer from engram_faiss_serialize. NULL is accepted. */
void engram_faiss_buffer_free(void *data);

/** Reads an index from size bytes at data (not copied, not retained).
 *  Accepted: "IxM2" (IndexIDMap2) or "IxMp" (IndexIDMap) over "IxF2"/"IxFI"/
 *  "IxFl" (IndexFlat with metric L2 or inner product). An IndexIDMap is
 *  converted into an IndexIDMap2 (its reverse map is built); duplicate ids
 *  are rejected. The framing (type tags, header, vector lengths, total size,
 *  no trailing bytes) is validated BEFORE faiss parses the bytes, so that
 *  truncated, corrupt or garbage input yields ENGRAM_FAISS_E_FORMAT rather
 *  than a crash or a huge allocation. Anything else -> ENGRAM_FAISS_E_FORMAT. */
int engram_faiss_deserialize(const uint8_t *data, size_t size,
                             engram_faiss_index **out);

/** Writes the serialised index to path (created or truncated, mode 0644
 *  before umask). Every write and the close are checked. NOT atomic and NOT
 *  fsync'ed: for durability, use engram_faiss_serialize and your own
 *  write-temp/fsync/rename protocol. */
int engram_faiss_write_file(const engram_faiss_index *index, const char *path);

/** Reads the whole file at path and deserialises it exactly like
 *  engram_faiss_deserialize. Missing/unreadable path -> ENGRAM_FAISS_E_IO. */
int engram_faiss_read_file(const char *path, engram_faiss_index **out);

/* ---- product quantizer (faiss::ProductQuantizer) ----------------------- */

/** Opaque handle: owns one faiss::ProductQuantizer with 8-bit codes. Used by
 *  the graph tier to train and encode; it keeps its own copy of the centroids
 *  so that search needs no FAISS. Not internally synchronised. */
typedef struct engram_faiss_pq engram_faiss_pq;

/** Creates an untrained quantizer: dimension d split into M sub-vectors of
 *  d/M components (d % M == 0), each quantized to one of 2^nbits centroids.
 *  nbits must be 8 (one byte per sub-quantizer, what the kernels read). */
int engram_faiss_pq_new(int64_t d, int64_t M, int nbits, engram_faiss_pq **out);
void engram_faiss_pq_free(engram_faiss_pq *pq);
/** Trains on n vectors (n >= 1) with k-means of `iterations` rounds per
 *  sub-space (0: FAISS's default 25), seeded with `seed`. Fewer training
 *  vectors than centroids is allowed (FAISS warns otherwise: the warning is
 *  silenced, the caller chooses the sample). The sub-spaces are trained on
 *  `threads` threads, each running FAISS's k-means single-threaded (OpenBLAS
 *  is held at one thread meanwhile). Neither this nor compute_codes changes
 *  engram_faiss_set_num_threads's process-wide count. PQ and HNSW handles are
 *  not counted by engram_faiss_live_handles (that counts index handles). */
int engram_faiss_pq_train(engram_faiss_pq *pq, int64_t n, const float *x, int iterations, int64_t seed,
                          int threads);
/** Encodes n vectors into n * M bytes at codes with `threads` OpenMP
 *  threads (set on the calling thread only). Requires a trained pq. */
int engram_faiss_pq_compute_codes(const engram_faiss_pq *pq, int64_t n, const float *x, uint8_t *codes,
                                  int threads);
/** Decodes n codes into n * d floats. */
int engram_faiss_pq_decode(const engram_faiss_pq *pq, int64_t n, const uint8_t *codes, float *x);
/** Copies the centroids, M * 2^nbits * (d/M) floats laid out
 *  [m][centroid][component], into out. */
int engram_faiss_pq_get_centroids(const engram_faiss_pq *pq, float *out, int64_t capacity);
/** Number of bytes per code (M for nbits = 8); -1 if pq is NULL. */
int64_t engram_faiss_pq_code_size(const engram_faiss_pq *pq);

/* ---- HNSW (faiss::IndexHNSWFlat), for benchmark baselines -------------- */

/** Opaque handle: owns one faiss::IndexHNSWFlat. Labels are insertion
 *  positions 0..<count. Not internally synchronised. */
typedef struct engram_faiss_hnsw engram_faiss_hnsw;

/** Creates an empty IndexHNSWFlat with M links per node (M >= 2),
 *  efConstruction and efSearch (>= 1) and metric ENGRAM_FAISS_METRIC_*. */
int engram_faiss_hnsw_new(int64_t d, int M, int efConstruction, int efSearch, int metric,
                          engram_faiss_hnsw **out);
void engram_faiss_hnsw_free(engram_faiss_hnsw *index);
/** Sets efSearch (>= 1) for later searches. */
int engram_faiss_hnsw_set_ef_search(engram_faiss_hnsw *index, int efSearch);
/** Adds n vectors (uses engram_faiss_set_num_threads threads). */
int engram_faiss_hnsw_add(engram_faiss_hnsw *index, int64_t n, const float *x);
/** k-NN search for nq queries, same output convention as engram_faiss_search. */
int engram_faiss_hnsw_search(const engram_faiss_hnsw *index, int64_t nq, const float *x, int64_t k,
                             float *distances, int64_t *labels);
/** Number of vectors; -1 if index is NULL. */
int64_t engram_faiss_hnsw_count(const engram_faiss_hnsw *index);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ENGRAM_FAISS_H */
