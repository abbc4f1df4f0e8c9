/* The thread buffers and the thread grid of the cache-blocked GEMMs. */
#include "cs_gemm_grid.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Each thread's packing buffer, kept from one call to the next and grown
 * when a call needs more. Why not malloc and free it in every call: a
 * freed buffer of tens of KiB lets glibc trim its heap, giving the pages
 * back to the kernel, and the next call faults them in again; with 16
 * threads doing that at once the page-table updates serialize and each
 * one interrupts every core (a TLB shootdown). Measured on a 16-vCPU
 * virtual machine: ~6 ms per call at n = 128 and 256 instead of
 * microseconds. The buffer lives as long as the thread; the float and
 * the bf16 GEMM share it, one call at a time. */
static _Thread_local void *tl_pack;
static _Thread_local size_t tl_pack_bytes;
/* OpenMP does end pool threads: libgomp lets the ones a smaller team does
 * not need exit (case02's thread sweep, after the CPU GEMM's probe ran on
 * the full team). The key's destructor frees an exiting thread's buffer. */
static pthread_key_t pack_key;
static pthread_once_t pack_key_once = PTHREAD_ONCE_INIT;

static void make_pack_key(void)
{
    if (pthread_key_create(&pack_key, free) != 0) {
        fprintf(stderr, "out of thread-specific keys for the GEMM's packing buffers\n");
        exit(3);
    }
}

void *cs_gemm_thread_buffer(size_t bytes)
{
    if (bytes <= tl_pack_bytes) return tl_pack;
    bytes = (bytes + CS_GEMM_ALIGN - 1) / CS_GEMM_ALIGN * CS_GEMM_ALIGN; /* aligned_alloc wants a multiple */
    void *p = aligned_alloc(CS_GEMM_ALIGN, bytes);
    if (!p) {
        fprintf(stderr, "out of memory: asked for %zu bytes for a packed GEMM block\n", bytes);
        exit(3);
    }
    free(tl_pack);
    tl_pack = p;
    tl_pack_bytes = bytes;
    pthread_once(&pack_key_once, make_pack_key);
    pthread_setspecific(pack_key, p);
    return p;
}

/* Each thread packs the rows of A and the columns of B its rectangle
 * needs, so the packing work in total is K * (M * cols + N * rows): the
 * grid that minimises it is the one whose rectangles are closest to
 * square. */
void cs_gemm_choose_grid(int M, int N, int nthreads, int *rows, int *cols)
{
    *rows = nthreads;
    *cols = 1;
    double best = -1.0;
    for (int c = 1; c <= nthreads; c++) {
        if (nthreads % c) continue;
        int r = nthreads / c;
        double work = (double)M * c + (double)N * r;
        if (best < 0 || work < best) {
            best = work;
            *rows = r;
            *cols = c;
        }
    }
}
