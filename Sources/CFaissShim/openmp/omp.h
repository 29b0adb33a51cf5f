/*
 * omp.h -- the few OpenMP declarations FAISS's public headers need
 * (faiss/impl/HNSW.h includes <omp.h> for omp_lock_t).
 *
 * Why this file: the Swift toolchain's clang ships no omp.h, and the shim
 * must build without unsafeFlags (no -fopenmp, no -I to GCC's private
 * include directory). The declarations match libgomp's (GCC 12 omp.h) so
 * the layout agrees with what libfaiss.a was compiled against; the shim
 * itself never takes an OpenMP lock.
 */
#ifndef _OMP_H
#define _OMP_H 1

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned char _x[4] __attribute__((__aligned__(4)));
} omp_lock_t;

void omp_set_num_threads(int);
int omp_get_max_threads(void);
void omp_init_lock(omp_lock_t *);
void omp_destroy_lock(omp_lock_t *);
void omp_set_lock(omp_lock_t *);
void omp_unset_lock(omp_lock_t *);

#ifdef __cplusplus
}
#endif

#endif /* _OMP_H */
