/* Device memory for the arena, callable from C. common/cs_cuda.cuh (where
 * cs_gpu_malloc lives) is C++ only, so arena.c calls these three instead:
 * gpu_backend.cu defines them on top of cs_gpu_malloc/cs_gpu_free, and
 * gpu_backend_none.c (builds without CUDA) defines them as a runtime
 * failure, since nothing should ask for device memory there. */
#ifndef RN_DEVICE_MEM_H
#define RN_DEVICE_MEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* bytes of device memory (exit 3 with a message naming `what` on failure). */
void *rn_device_alloc(size_t bytes, const char *what);
/* Frees what rn_device_alloc gave (NULL is fine). */
void rn_device_free(void *p);
/* Sets bytes of device memory to zero (and waits for it). */
void rn_device_zero(void *p, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
