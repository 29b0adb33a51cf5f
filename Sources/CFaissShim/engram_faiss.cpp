// engram_faiss.cpp -- implementation of the thin extern "C" API in
// include/engram_faiss.h over FAISS 1.7.x (static C++ libfaiss.a).
//
// Exception handling follows faiss/c_api/macros_impl.h: every entry point
// that can fail wraps its body in ENGRAM_TRY / ENGRAM_CATCH, which translates
// faiss::FaissException, std::bad_alloc, std::exception and anything else into
// a negative code plus a thread-local message. No exception leaves this file.

#include "engram_faiss.h"

#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/Clustering.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/ProductQuantizer.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <exception>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// The Swift toolchain ships no omp.h; libgomp provides these.
extern "C" void omp_set_num_threads(int);

struct engram_faiss_index {
    std::unique_ptr<faiss::IndexIDMap2> idx; // owns its flat sub-index (own_fields)
};

struct engram_faiss_pq {
    faiss::ProductQuantizer pq;
    bool trained = false;
};

struct engram_faiss_hnsw {
    std::unique_ptr<faiss::IndexHNSWFlat> idx;
};

namespace {

// ---------------------------------------------------------------- errors

thread_local char t_error[2048];
std::atomic<int64_t> g_live_handles{0};
// The same count, per thread (creations minus frees made on it): a leak test reads this one, so that stores in
// other tests of the same process creating and freeing handles meanwhile do not move its figures.
thread_local int64_t t_live_handles = 0;

int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_error, sizeof t_error, fmt, ap);
    va_end(ap);
    return code;
}

#define ENGRAM_TRY          \
    t_error[0] = '\0';      \
    try {
#define ENGRAM_CATCH                                                              \
    }                                                                             \
    catch (const faiss::FaissException &e) {                                      \
        return fail(ENGRAM_FAISS_E_FAISS, "faiss: %s", e.what());                 \
    }                                                                             \
    catch (const std::bad_alloc &e) {                                             \
        return fail(ENGRAM_FAISS_E_OUT_OF_MEMORY, "out of memory (%s)", e.what()); \
    }                                                                             \
    catch (const std::exception &e) {                                             \
        return fail(ENGRAM_FAISS_E_STD, "C++ exception: %s", e.what());           \
    }                                                                             \
    catch (...) {                                                                 \
        return fail(ENGRAM_FAISS_E_UNKNOWN, "unknown C++ exception");             \
    }                                                                             \
    return ENGRAM_FAISS_OK;

#define REQUIRE_ARG(cond, ...)                                  \
    do {                                                        \
        if (!(cond)) return fail(ENGRAM_FAISS_E_BAD_ARGUMENT, __VA_ARGS__); \
    } while (0)

// ---------------------------------------------------------------- threads

std::atomic<int> g_threads{1};
std::once_flag g_blas_once;
using openblas_set_fn = void (*)(int);
openblas_set_fn g_openblas_set = nullptr;

// OpenBLAS (Debian's default libblas) runs its own thread pool for the sgemm
// FAISS uses on batches of >= 20 queries; keep it at the same count. Looked
// up dynamically because the reference BLAS has no such function.
void set_blas_threads(int n) {
    std::call_once(g_blas_once, [] {
        g_openblas_set = reinterpret_cast<openblas_set_fn>(
                dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
        if (g_openblas_set) g_openblas_set(g_threads.load());
    });
    if (g_openblas_set && n > 0) g_openblas_set(n);
}

// OpenMP's nthreads is a per-thread setting and callers come from arbitrary
// threads, so apply the process-wide value on every call that may compute.
void apply_threads() {
    set_blas_threads(0);
    omp_set_num_threads(g_threads.load(std::memory_order_relaxed));
}

// ---------------------------------------------------------------- I/O adapters

// Reads from caller memory without copying it (faiss::VectorIOReader would
// need the bytes copied into its own std::vector).
struct SpanReader : faiss::IOReader {
    const uint8_t *p;
    size_t size;
    size_t pos = 0;
    SpanReader(const uint8_t *p_, size_t size_, const char *name_) : p(p_), size(size_) {
        name = name_;
    }
    size_t operator()(void *ptr, size_t sz, size_t n) override {
        if (sz == 0 || n == 0) return 0;
        size_t k = std::min(n, (size - pos) / sz);
        if (k > 0) {
            std::memcpy(ptr, p + pos, k * sz);
            pos += k * sz;
        }
        return k;
    }
};

// Writes into one malloc'd buffer handed to the caller as is (a
// faiss::VectorIOWriter would need one more full copy into malloc'd memory).
struct MallocWriter : faiss::IOWriter {
    uint8_t *data = nullptr;
    size_t size = 0, cap = 0;
    MallocWriter() { name = "memory buffer"; }
    ~MallocWriter() override { std::free(data); }
    size_t operator()(const void *ptr, size_t sz, size_t n) override {
        size_t bytes;
        if (__builtin_mul_overflow(sz, n, &bytes)) throw std::bad_alloc();
        if (bytes == 0) return n;
        if (cap - size < bytes) {
            if (bytes > SIZE_MAX - size) throw std::bad_alloc();
            size_t want = std::max(size + bytes, std::max<size_t>(4096, cap + cap / 2));
            void *q = std::realloc(data, want);
            if (!q) throw std::bad_alloc();
            data = static_cast<uint8_t *>(q);
            cap = want;
        }
        std::memcpy(data + size, ptr, bytes);
        size += bytes;
        return n;
    }
};

// Writes straight to a file descriptor, checking every write (faiss's
// FileIOWriter only reports fclose errors on stderr).
struct FdWriter : faiss::IOWriter {
    int fd;
    int err = 0;
    explicit FdWriter(int fd_, const char *path) : fd(fd_) { name = path; }
    size_t operator()(const void *ptr, size_t sz, size_t n) override {
        size_t bytes;
        if (__builtin_mul_overflow(sz, n, &bytes)) {
            err = EOVERFLOW;
            return 0;
        }
        const uint8_t *b = static_cast<const uint8_t *>(ptr);
        while (bytes > 0) {
            ssize_t w = ::write(fd, b, std::min<size_t>(bytes, 1 << 30));
            if (w < 0) {
                if (errno == EINTR) continue;
                err = errno;
                return 0;
            }
            b += w;
            bytes -= size_t(w);
        }
        return n;
    }
};

// ---------------------------------------------------------------- validation

// The only layouts accepted (faiss/impl/index_write.cpp, little-endian):
//   tag "IxM2" | "IxMp"  (4)   IndexIDMap2 | IndexIDMap
//   header               (33)  d:i32 ntotal:i64 dummy:i64 dummy:i64
//                               is_trained:u8 metric:i32   (no metric_arg for L2/IP)
//   tag "IxF2"|"IxFI"|"IxFl" (4) IndexFlat
//   header               (33)
//   codes: count:u64 (= ntotal*d floats) then count*4 bytes
//   id_map: count:u64 (= ntotal) then count*8 bytes
// FAISS itself does not bound-check these lengths against the input before
// allocating, and leaks partially read objects when it throws, so the framing
// is checked here first.

struct Cursor {
    const uint8_t *p;
    size_t size;
    size_t pos = 0;
    bool take(void *out, size_t n) {
        if (size - pos < n) return false;
        std::memcpy(out, p + pos, n);
        pos += n;
        return true;
    }
};

struct Header {
    int32_t d;
    int64_t ntotal;
    uint8_t is_trained;
    int32_t metric;
};

void describe_tag(const uint8_t tag[4], char out[24]) {
    bool printable = true;
    for (int i = 0; i < 4; i++) printable = printable && tag[i] >= 0x20 && tag[i] < 0x7f;
    if (printable)
        snprintf(out, 24, "'%c%c%c%c'", tag[0], tag[1], tag[2], tag[3]);
    else
        snprintf(out, 24, "0x%02x%02x%02x%02x", tag[0], tag[1], tag[2], tag[3]);
}

int read_header(Cursor &c, const char *what, Header &h) {
    int64_t dummy;
    size_t at = c.pos;
    if (!c.take(&h.d, 4) || !c.take(&h.ntotal, 8) || !c.take(&dummy, 8) ||
        !c.take(&dummy, 8) || !c.take(&h.is_trained, 1) || !c.take(&h.metric, 4))
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "truncated data: %s header at byte %zu needs 33 bytes, only %zu left",
                    what, at, c.size - at);
    if (h.d <= 0)
        return fail(ENGRAM_FAISS_E_FORMAT, "%s header at byte %zu: invalid dimension %d",
                    what, at, h.d);
    if (h.ntotal < 0)
        return fail(ENGRAM_FAISS_E_FORMAT, "%s header at byte %zu: invalid ntotal %lld",
                    what, at, (long long)h.ntotal);
    if (h.is_trained > 1)
        return fail(ENGRAM_FAISS_E_FORMAT, "%s header at byte %zu: invalid is_trained byte %u",
                    what, at, unsigned(h.is_trained));
    if (h.metric != faiss::METRIC_L2 && h.metric != faiss::METRIC_INNER_PRODUCT)
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "%s header at byte %zu: unsupported metric type %d (only L2=1 and "
                    "inner product=0 are supported)",
                    what, at, h.metric);
    return 0;
}

int validate_framing(const uint8_t *data, size_t size) {
    if (size == 0) return fail(ENGRAM_FAISS_E_FORMAT, "empty input (0 bytes): not a FAISS index");
    Cursor c{data, size};
    uint8_t tag[4];
    char tagname[24];
    if (!c.take(tag, 4))
        return fail(ENGRAM_FAISS_E_FORMAT, "truncated data: %zu bytes is too short for a FAISS index", size);
    if (std::memcmp(tag, "IxM2", 4) != 0 && std::memcmp(tag, "IxMp", 4) != 0) {
        describe_tag(tag, tagname);
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "not an IndexIDMap2/IndexIDMap: type tag %s at byte 0 (expected 'IxM2' or "
                    "'IxMp'); garbage or another FAISS index type",
                    tagname);
    }
    Header outer, inner;
    if (int r = read_header(c, "IndexIDMap", outer)) return r;
    size_t at = c.pos;
    if (!c.take(tag, 4))
        return fail(ENGRAM_FAISS_E_FORMAT, "truncated data: sub-index type tag missing at byte %zu", at);
    if (std::memcmp(tag, "IxF2", 4) != 0 && std::memcmp(tag, "IxFI", 4) != 0 &&
        std::memcmp(tag, "IxFl", 4) != 0) {
        describe_tag(tag, tagname);
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "unsupported sub-index: type tag %s at byte %zu (expected a flat index "
                    "'IxF2', 'IxFI' or 'IxFl')",
                    tagname, at);
    }
    if (int r = read_header(c, "IndexFlat", inner)) return r;
    if (inner.d != outer.d || inner.ntotal != outer.ntotal || inner.metric != outer.metric)
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "inconsistent headers: id map (d=%d, ntotal=%lld, metric=%d) vs flat "
                    "index (d=%d, ntotal=%lld, metric=%d)",
                    outer.d, (long long)outer.ntotal, outer.metric, inner.d,
                    (long long)inner.ntotal, inner.metric);
    uint64_t nfloats, nids, expect_floats;
    at = c.pos;
    if (!c.take(&nfloats, 8))
        return fail(ENGRAM_FAISS_E_FORMAT, "truncated data: vector-count field missing at byte %zu", at);
    if (__builtin_mul_overflow(uint64_t(inner.ntotal), uint64_t(inner.d), &expect_floats) ||
        nfloats != expect_floats)
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "corrupt data: flat index stores %llu floats at byte %zu, expected "
                    "ntotal*d = %lld*%d",
                    (unsigned long long)nfloats, at, (long long)inner.ntotal, inner.d);
    if (nfloats > (size - c.pos) / 4)
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "truncated data: %llu vectors of dimension %d need %llu bytes at byte "
                    "%zu, only %zu left",
                    (unsigned long long)inner.ntotal, inner.d,
                    (unsigned long long)(nfloats * 4), c.pos, size - c.pos);
    c.pos += nfloats * 4;
    at = c.pos;
    if (!c.take(&nids, 8))
        return fail(ENGRAM_FAISS_E_FORMAT, "truncated data: id-count field missing at byte %zu", at);
    if (nids != uint64_t(outer.ntotal))
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "corrupt data: id map holds %llu ids at byte %zu but the index has %lld "
                    "vectors",
                    (unsigned long long)nids, at, (long long)outer.ntotal);
    if (nids > (size - c.pos) / 8)
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "truncated data: %llu ids need %llu bytes at byte %zu, only %zu left",
                    (unsigned long long)nids, (unsigned long long)(nids * 8), c.pos,
                    size - c.pos);
    c.pos += nids * 8;
    if (c.pos != size)
        return fail(ENGRAM_FAISS_E_FORMAT,
                    "corrupt data: %zu unexpected trailing bytes after the index (%zu bytes "
                    "expected, %zu given)",
                    size - c.pos, c.pos, size);
    return 0;
}

int duplicate_check(const faiss::IndexIDMap2 &m) {
    if (m.rev_map.size() == m.id_map.size()) return 0;
    for (size_t i = 0; i < m.id_map.size(); i++) {
        auto it = m.rev_map.find(m.id_map[i]);
        if (it != m.rev_map.end() && size_t(it->second) != i)
            return fail(ENGRAM_FAISS_E_FORMAT, "corrupt data: id %lld is stored more than once",
                        (long long)m.id_map[i]);
    }
    return fail(ENGRAM_FAISS_E_FORMAT, "corrupt data: id map and reverse map disagree");
}

// Validates, parses with faiss::read_index, checks the result and wraps it.
int load(const uint8_t *data, size_t size, const char *name, engram_faiss_index **out) {
    if (int r = validate_framing(data, size)) return r;
    SpanReader reader(data, size, name);
    std::unique_ptr<faiss::Index> loaded(faiss::read_index(&reader, 0));
    auto *map = dynamic_cast<faiss::IndexIDMap *>(loaded.get());
    if (!map)
        return fail(ENGRAM_FAISS_E_FORMAT, "loaded index is not an IndexIDMap2/IndexIDMap");
    auto *flat = dynamic_cast<faiss::IndexFlat *>(map->index);
    if (!flat)
        return fail(ENGRAM_FAISS_E_FORMAT, "loaded IndexIDMap does not wrap an IndexFlat");
    if (flat->d != map->d || flat->ntotal != map->ntotal ||
        size_t(map->ntotal) != map->id_map.size() || flat->metric_type != map->metric_type ||
        flat->codes.size() != size_t(flat->ntotal) * flat->code_size)
        return fail(ENGRAM_FAISS_E_FORMAT, "loaded index is internally inconsistent");

    std::unique_ptr<faiss::IndexIDMap2> result;
    if (auto *map2 = dynamic_cast<faiss::IndexIDMap2 *>(map)) {
        loaded.release();
        result.reset(map2);
    } else {
        // IndexIDMap -> IndexIDMap2: move the sub-index and ids over, build
        // the reverse map. (The IndexIDMap2(Index*) constructor refuses
        // non-empty sub-indexes.) Ownership moves before anything can throw.
        result.reset(new faiss::IndexIDMap2());
        result->index = map->index;
        result->own_fields = true;
        map->own_fields = false;
        result->id_map = std::move(map->id_map);
        result->d = map->d;
        result->ntotal = map->ntotal;
        result->metric_type = map->metric_type;
        result->metric_arg = map->metric_arg;
        result->is_trained = map->is_trained;
        result->verbose = false;
        result->construct_rev_map();
    }
    if (int r = duplicate_check(*result)) return r;
    auto *h = new engram_faiss_index{std::move(result)};
    g_live_handles.fetch_add(1);
    t_live_handles += 1;
    *out = h;
    return 0;
}

} // namespace

// ==================================================================== API

extern "C" {

const char *engram_faiss_last_error(void) { return t_error; }

int64_t engram_faiss_live_handles(void) { return g_live_handles.load(); }

int64_t engram_faiss_live_handles_this_thread(void) { return t_live_handles; }

int engram_faiss_set_num_threads(int n) {
    ENGRAM_TRY
    REQUIRE_ARG(n >= 1, "thread count must be >= 1, got %d", n);
    g_threads.store(n);
    set_blas_threads(n);
    omp_set_num_threads(n);
    ENGRAM_CATCH
}

int engram_faiss_get_num_threads(void) { return g_threads.load(); }

int engram_faiss_new(int64_t dimension, int metric, engram_faiss_index **out) {
    ENGRAM_TRY
    REQUIRE_ARG(out != nullptr, "out is NULL");
    REQUIRE_ARG(dimension >= 1 && dimension <= INT32_MAX,
                "dimension must be in 1...%d, got %lld", INT32_MAX, (long long)dimension);
    REQUIRE_ARG(metric == ENGRAM_FAISS_METRIC_L2 || metric == ENGRAM_FAISS_METRIC_INNER_PRODUCT,
                "unknown metric %d (L2 = %d, inner product = %d)", metric,
                ENGRAM_FAISS_METRIC_L2, ENGRAM_FAISS_METRIC_INNER_PRODUCT);
    std::unique_ptr<faiss::IndexFlat> flat;
    if (metric == ENGRAM_FAISS_METRIC_L2)
        flat.reset(new faiss::IndexFlatL2(dimension));
    else
        flat.reset(new faiss::IndexFlatIP(dimension));
    std::unique_ptr<faiss::IndexIDMap2> map(new faiss::IndexIDMap2(flat.get()));
    map->own_fields = true;
    flat.release();
    auto *h = new engram_faiss_index{std::move(map)};
    g_live_handles.fetch_add(1);
    t_live_handles += 1;
    *out = h;
    ENGRAM_CATCH
}

void engram_faiss_free(engram_faiss_index *index) {
    if (!index) return;
    try {
        delete index;
    } catch (...) {
        // FAISS destructors do not throw; swallow anything to keep the C contract.
    }
    g_live_handles.fetch_sub(1);
    t_live_handles -= 1;
}

int64_t engram_faiss_count(const engram_faiss_index *index) {
    return index ? index->idx->ntotal : -1;
}

int engram_faiss_flat_view(const engram_faiss_index *index, const float **vectors, const int64_t **ids, int64_t *count) {
    // Read-only views of the flat sub-index's vectors and the id map, for an exact scan with Engram's own AVX2
    // kernels (this libfaiss.a is built without AVX2). Valid until the index is next changed; the caller holds
    // the index's lock. No allocation, nothing that can throw.
    if (!index || !vectors || !ids || !count) return ENGRAM_FAISS_E_BAD_ARGUMENT;
    auto *flat = dynamic_cast<const faiss::IndexFlatCodes *>(index->idx->index);
    if (!flat || flat->code_size != sizeof(float) * (size_t)index->idx->d) return ENGRAM_FAISS_E_BAD_ARGUMENT;
    *vectors = reinterpret_cast<const float *>(flat->codes.data());
    *ids = index->idx->id_map.data();
    *count = index->idx->ntotal;
    return 0;
}

int64_t engram_faiss_dimension(const engram_faiss_index *index) {
    return index ? index->idx->d : -1;
}

int engram_faiss_metric(const engram_faiss_index *index) {
    return index ? int(index->idx->metric_type) : -1;
}

int engram_faiss_contains(const engram_faiss_index *index, int64_t id) {
    if (!index) return -1;
    return index->idx->rev_map.count(id) ? 1 : 0;
}

int engram_faiss_add(engram_faiss_index *index, int64_t n, const float *x, const int64_t *ids) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr, "index is NULL");
    REQUIRE_ARG(n >= 0, "vector count must be >= 0, got %lld", (long long)n);
    if (n == 0) return 0;
    REQUIRE_ARG(x != nullptr && ids != nullptr, "vectors or ids pointer is NULL");
    apply_threads();
    faiss::IndexIDMap2 &m = *index->idx;
    // Reserve first so the id bookkeeping cannot fail after the vectors went in.
    m.id_map.reserve(m.id_map.size() + size_t(n));
    m.rev_map.reserve(m.rev_map.size() + size_t(n));
    m.add_with_ids(n, x, ids);
    ENGRAM_CATCH
}

int engram_faiss_remove(engram_faiss_index *index, int64_t n, const int64_t *ids,
                        int64_t *n_removed) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr, "index is NULL");
    REQUIRE_ARG(n >= 0, "id count must be >= 0, got %lld", (long long)n);
    int64_t removed = 0;
    if (n > 0) {
        REQUIRE_ARG(ids != nullptr, "ids pointer is NULL");
        apply_threads();
        faiss::IDSelectorBatch sel(size_t(n), ids);
        removed = int64_t(index->idx->remove_ids(sel));
    }
    if (n_removed) *n_removed = removed;
    ENGRAM_CATCH
}

int engram_faiss_search(const engram_faiss_index *index, int64_t nq, const float *x, int64_t k,
                        float *distances, int64_t *labels) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr, "index is NULL");
    REQUIRE_ARG(nq >= 0, "query count must be >= 0, got %lld", (long long)nq);
    REQUIRE_ARG(k >= 1, "k must be >= 1, got %lld", (long long)k);
    int64_t total;
    REQUIRE_ARG(!__builtin_mul_overflow(nq, k, &total), "nq * k overflows");
    if (nq == 0) return 0;
    REQUIRE_ARG(x != nullptr && distances != nullptr && labels != nullptr,
                "queries, distances or labels pointer is NULL");
    apply_threads();
    index->idx->search(nq, x, k, distances, labels);
    ENGRAM_CATCH
}

int engram_faiss_reconstruct(const engram_faiss_index *index, int64_t id, float *out, int *found) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr && out != nullptr && found != nullptr,
                "index, out or found pointer is NULL");
    const faiss::IndexIDMap2 &m = *index->idx;
    auto it = m.rev_map.find(id);
    if (it == m.rev_map.end()) {
        *found = 0;
        return 0;
    }
    m.index->reconstruct(it->second, out);
    *found = 1;
    ENGRAM_CATCH
}

int engram_faiss_serialize(const engram_faiss_index *index, uint8_t **out_data, size_t *out_size) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr && out_data != nullptr && out_size != nullptr,
                "index, out_data or out_size pointer is NULL");
    MallocWriter w;
    faiss::write_index(index->idx.get(), &w);
    if (w.size < w.cap) {
        if (void *q = std::realloc(w.data, w.size)) w.data = static_cast<uint8_t *>(q);
    }
    *out_size = w.size;
    *out_data = w.data;
    w.data = nullptr;
    ENGRAM_CATCH
}

void engram_faiss_buffer_free(void *data) { std::free(data); }

int engram_faiss_deserialize(const uint8_t *data, size_t size, engram_faiss_index **out) {
    ENGRAM_TRY
    REQUIRE_ARG(out != nullptr, "out is NULL");
    REQUIRE_ARG(data != nullptr || size == 0, "data is NULL");
    return load(data, size, "memory buffer", out);
    ENGRAM_CATCH
}

int engram_faiss_write_file(const engram_faiss_index *index, const char *path) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr && path != nullptr, "index or path is NULL");
    int fd;
    do fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return fail(ENGRAM_FAISS_E_IO, "cannot open '%s' for writing: %s", path, strerror(errno));
    FdWriter w(fd, path);
    try {
        faiss::write_index(index->idx.get(), &w);
    } catch (...) {
        ::close(fd);
        if (w.err)
            return fail(ENGRAM_FAISS_E_IO, "cannot write '%s': %s", path, strerror(w.err));
        throw;
    }
    if (::close(fd) != 0)
        return fail(ENGRAM_FAISS_E_IO, "cannot write '%s' (close failed): %s", path,
                    strerror(errno));
    ENGRAM_CATCH
}

int engram_faiss_read_file(const char *path, engram_faiss_index **out) {
    ENGRAM_TRY
    REQUIRE_ARG(path != nullptr && out != nullptr, "path or out is NULL");
    int fd;
    do fd = ::open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return fail(ENGRAM_FAISS_E_IO, "cannot open '%s' for reading: %s", path, strerror(errno));
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0)
        return fail(ENGRAM_FAISS_E_IO, "cannot stat '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(ENGRAM_FAISS_E_IO, "cannot read '%s': not a regular file", path);
    size_t size = size_t(st.st_size);
    std::unique_ptr<uint8_t, void (*)(void *)> buf(
            static_cast<uint8_t *>(std::malloc(size ? size : 1)), std::free);
    if (!buf) throw std::bad_alloc();
    size_t got = 0;
    while (got < size) {
        ssize_t r = ::read(fd, buf.get() + got, std::min<size_t>(size - got, 1 << 30));
        if (r < 0) {
            if (errno == EINTR) continue;
            return fail(ENGRAM_FAISS_E_IO, "cannot read '%s': %s", path, strerror(errno));
        }
        if (r == 0) break; // file shrank: validation reports the truncation
        got += size_t(r);
    }
    int rc = load(buf.get(), got, path, out);
    if (rc == ENGRAM_FAISS_E_FORMAT) {
        // Prefix the path so the message says which file is bad.
        char msg[sizeof t_error];
        std::memcpy(msg, t_error, sizeof msg);
        return fail(rc, "'%s': %s", path, msg);
    }
    return rc;
    ENGRAM_CATCH
}

// ---------------------------------------------------------------- product quantizer

int engram_faiss_pq_new(int64_t d, int64_t M, int nbits, engram_faiss_pq **out) {
    ENGRAM_TRY
    REQUIRE_ARG(out != nullptr, "out is NULL");
    REQUIRE_ARG(d >= 1 && d <= INT32_MAX, "dimension must be in 1...%d, got %lld", INT32_MAX, (long long)d);
    REQUIRE_ARG(M >= 1 && M <= d && d % M == 0,
                "sub-quantizer count M must divide the dimension %lld, got %lld", (long long)d, (long long)M);
    REQUIRE_ARG(nbits == 8, "only 8-bit codes are supported, got nbits = %d", nbits);
    std::unique_ptr<engram_faiss_pq> h(new engram_faiss_pq{faiss::ProductQuantizer(size_t(d), size_t(M), 8)});
    h->pq.verbose = false;
    *out = h.release();
    ENGRAM_CATCH
}

void engram_faiss_pq_free(engram_faiss_pq *pq) {
    if (!pq) return;
    try {
        delete pq;
    } catch (...) {
    }
}

int engram_faiss_pq_train(engram_faiss_pq *h, int64_t n, const float *x, int iterations, int64_t seed,
                          int threads) {
    ENGRAM_TRY
    REQUIRE_ARG(h != nullptr && x != nullptr, "pq or vectors pointer is NULL");
    REQUIRE_ARG(n >= 1, "training needs at least one vector, got %lld", (long long)n);
    REQUIRE_ARG(iterations >= 0, "iterations must be >= 0, got %d", iterations);
    REQUIRE_ARG(threads >= 1, "threads must be >= 1, got %d", threads);
    faiss::ProductQuantizer &pq = h->pq;
    // The caller picks the sample size; these keep FAISS from printing its
    // "please provide at least N training points" warning to stderr, and
    // from subsampling behind the caller's back.
    pq.cp.min_points_per_centroid = 1;
    pq.cp.max_points_per_centroid = 1 << 30;
    pq.cp.verbose = false;
    pq.cp.seed = int(seed & 0x7fffffff);
    if (iterations > 0) pq.cp.niter = iterations;
    const size_t d = pq.d, dsub = pq.dsub, ksub = pq.ksub, M = pq.M;
    // k-means refuses fewer points than centroids: repeat the sample
    // (a tiny graph gets exact codes for its points anyway).
    std::vector<float> rep;
    size_t nt = size_t(n);
    if (nt < ksub) {
        rep.resize(ksub * d);
        for (size_t i = 0; i < ksub; i++) std::memcpy(&rep[i * d], x + (i % nt) * d, d * sizeof(float));
        x = rep.data();
        nt = ksub;
    }
    // One k-means per sub-space (what ProductQuantizer::train does), but the
    // sub-spaces run on separate threads, each with ONE OpenMP/BLAS thread:
    // a d/M-dimensional k-means is too small to split, and OpenMP's and
    // OpenBLAS's spinning pools fighting over the cores made training 4x
    // slower than single-threaded on a 2-core machine.
    const int workers = std::max(1, std::min<int>(threads, int(M)));
    set_blas_threads(0);
    if (g_openblas_set) g_openblas_set(1);
    struct BlasRestore {
        ~BlasRestore() {
            if (g_openblas_set) g_openblas_set(g_threads.load());
        }
    } restore;
    std::atomic<size_t> next{0};
    std::vector<std::exception_ptr> errors(static_cast<size_t>(workers), nullptr);
    auto work = [&](int w) {
        try {
            omp_set_num_threads(1);
            std::vector<float> xs(nt * dsub);
            for (size_t m; (m = next.fetch_add(1)) < M;) {
                for (size_t i = 0; i < nt; i++) std::memcpy(&xs[i * dsub], x + i * d + m * dsub, dsub * sizeof(float));
                faiss::ClusteringParameters cp = pq.cp;
                cp.seed = int((uint64_t(pq.cp.seed) + 7919 * m) & 0x7fffffff);
                faiss::Clustering clus(int(dsub), int(ksub), cp);
                faiss::IndexFlatL2 index(dsub);
                clus.train(nt, xs.data(), index);
                pq.set_params(clus.centroids.data(), int(m));
            }
        } catch (...) {
            errors[size_t(w)] = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; w++) pool.emplace_back(work, w);
    work(0);
    for (auto &t : pool) t.join();
    for (auto &e : errors)
        if (e) std::rethrow_exception(e);
    h->trained = true;
    ENGRAM_CATCH
}

int engram_faiss_pq_compute_codes(const engram_faiss_pq *h, int64_t n, const float *x, uint8_t *codes,
                                  int threads) {
    ENGRAM_TRY
    REQUIRE_ARG(h != nullptr, "pq is NULL");
    REQUIRE_ARG(h->trained, "the product quantizer is not trained");
    REQUIRE_ARG(n >= 0, "vector count must be >= 0, got %lld", (long long)n);
    if (n == 0) return 0;
    REQUIRE_ARG(x != nullptr && codes != nullptr, "vectors or codes pointer is NULL");
    REQUIRE_ARG(threads >= 1, "threads must be >= 1, got %d", threads);
    // Per-thread OpenMP setting only: the process-wide count belongs to the L1 index.
    omp_set_num_threads(threads);
    h->pq.compute_codes(x, codes, size_t(n));
    ENGRAM_CATCH
}

int engram_faiss_pq_decode(const engram_faiss_pq *h, int64_t n, const uint8_t *codes, float *x) {
    ENGRAM_TRY
    REQUIRE_ARG(h != nullptr, "pq is NULL");
    REQUIRE_ARG(h->trained, "the product quantizer is not trained");
    REQUIRE_ARG(n >= 0, "code count must be >= 0, got %lld", (long long)n);
    if (n == 0) return 0;
    REQUIRE_ARG(x != nullptr && codes != nullptr, "vectors or codes pointer is NULL");
    h->pq.decode(codes, x, size_t(n));
    ENGRAM_CATCH
}

int engram_faiss_pq_get_centroids(const engram_faiss_pq *h, float *out, int64_t capacity) {
    ENGRAM_TRY
    REQUIRE_ARG(h != nullptr && out != nullptr, "pq or out pointer is NULL");
    REQUIRE_ARG(h->trained, "the product quantizer is not trained");
    const std::vector<float> &c = h->pq.centroids;
    REQUIRE_ARG(capacity >= 0 && size_t(capacity) >= c.size(), "out holds %lld floats, %zu needed",
                (long long)capacity, c.size());
    std::memcpy(out, c.data(), c.size() * sizeof(float));
    ENGRAM_CATCH
}

int64_t engram_faiss_pq_code_size(const engram_faiss_pq *h) { return h ? int64_t(h->pq.code_size) : -1; }

// ---------------------------------------------------------------- HNSW

int engram_faiss_hnsw_new(int64_t d, int M, int efConstruction, int efSearch, int metric,
                          engram_faiss_hnsw **out) {
    ENGRAM_TRY
    REQUIRE_ARG(out != nullptr, "out is NULL");
    REQUIRE_ARG(d >= 1 && d <= INT32_MAX, "dimension must be in 1...%d, got %lld", INT32_MAX, (long long)d);
    REQUIRE_ARG(M >= 2, "M must be >= 2, got %d", M);
    REQUIRE_ARG(efConstruction >= 1 && efSearch >= 1, "efConstruction and efSearch must be >= 1");
    REQUIRE_ARG(metric == ENGRAM_FAISS_METRIC_L2 || metric == ENGRAM_FAISS_METRIC_INNER_PRODUCT,
                "unknown metric %d", metric);
    std::unique_ptr<engram_faiss_hnsw> h(new engram_faiss_hnsw{std::unique_ptr<faiss::IndexHNSWFlat>(
            new faiss::IndexHNSWFlat(int(d), M, faiss::MetricType(metric)))});
    h->idx->hnsw.efConstruction = efConstruction;
    h->idx->hnsw.efSearch = efSearch;
    h->idx->verbose = false;
    *out = h.release();
    ENGRAM_CATCH
}

void engram_faiss_hnsw_free(engram_faiss_hnsw *index) {
    if (!index) return;
    try {
        delete index;
    } catch (...) {
    }
}

int engram_faiss_hnsw_set_ef_search(engram_faiss_hnsw *index, int efSearch) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr, "index is NULL");
    REQUIRE_ARG(efSearch >= 1, "efSearch must be >= 1, got %d", efSearch);
    index->idx->hnsw.efSearch = efSearch;
    ENGRAM_CATCH
}

int engram_faiss_hnsw_add(engram_faiss_hnsw *index, int64_t n, const float *x) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr, "index is NULL");
    REQUIRE_ARG(n >= 0, "vector count must be >= 0, got %lld", (long long)n);
    if (n == 0) return 0;
    REQUIRE_ARG(x != nullptr, "vectors pointer is NULL");
    apply_threads();
    index->idx->add(n, x);
    ENGRAM_CATCH
}

int engram_faiss_hnsw_search(const engram_faiss_hnsw *index, int64_t nq, const float *x, int64_t k,
                             float *distances, int64_t *labels) {
    ENGRAM_TRY
    REQUIRE_ARG(index != nullptr, "index is NULL");
    REQUIRE_ARG(nq >= 0, "query count must be >= 0, got %lld", (long long)nq);
    REQUIRE_ARG(k >= 1, "k must be >= 1, got %lld", (long long)k);
    if (nq == 0) return 0;
    REQUIRE_ARG(x != nullptr && distances != nullptr && labels != nullptr,
                "queries, distances or labels pointer is NULL");
    apply_threads();
    index->idx->search(nq, x, k, distances, labels);
    ENGRAM_CATCH
}

int64_t engram_faiss_hnsw_count(const engram_faiss_hnsw *index) { return index ? index->idx->ntotal : -1; }

} // extern "C"
