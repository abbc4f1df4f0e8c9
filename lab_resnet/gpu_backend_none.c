/* Builds without CUDA: there is no GPU backend (see backend.h), and no
 * device memory: the arena never asks for it unless created on_device,
 * which the model does only with a GPU backend. */
#include "backend.h"
#include "device_mem.h"

#include <stdio.h>
#include <stdlib.h>

#include "cs_console.h"

const rn_backend *rn_gpu_backend(void)
{
    return NULL;
}

static _Noreturn void no_device(const char *what)
{
    fprintf(stderr, "%s: device memory asked for (%s) in a build without CUDA\n", cs_prog(), what);
    exit(3);
}

void *rn_device_alloc(size_t bytes, const char *what)
{
    (void)bytes;
    no_device(what ? what : "(unnamed)");
}

void rn_device_free(void *p)
{
    if (p != NULL) no_device("rn_device_free");
}

void rn_device_zero(void *p, size_t bytes)
{
    (void)p;
    (void)bytes;
    no_device("rn_device_zero");
}
