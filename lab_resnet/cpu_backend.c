/* The CPU backend: the table of backend.h filled with the operations of
 * cpu_conv.c and cpu_layers.c (through cpu_round.c where an output is
 * rounded under round_outputs). Host memory is the backend's memory, so the
 * copies are memcpy and there is nothing to wait for; regions are timed on
 * the host clock by the phase profiler. */
#include "cpu_ops.h"

#include <string.h>

#include "cs_clock.h"
#include "cs_memory.h"
#include "cs_profiler.h"

static void cpu_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes) memcpy(dst, src, bytes);
}

static void cpu_sync(void) {}

/* The CPU's work is done when the call returns, so the host clock times it
 * exactly; the profiler nests regions as the calls nest. */
static int cpu_region_begin(const char *name)
{
    cs_prof_begin(name);
    return 0;
}

static void cpu_region_end(int handle)
{
    (void)handle;
    cs_prof_end();
}

static void cpu_regions_flush(void) {}

/* The CPU's marks are host clock readings: its work is done on return. */
static double cpu_marks[RN_MAX_MARKS];

static void cpu_mark(int i)
{
    if (i >= 0 && i < RN_MAX_MARKS) cpu_marks[i] = cs_now();
}

static void cpu_marks_read(double *t, int n)
{
    for (int i = 0; i < n && i < RN_MAX_MARKS; i++) t[i] = cpu_marks[i] - cpu_marks[0];
}

/* No device, so nothing to pin: staging is ordinary tracked memory. */
static void *cpu_host_alloc(size_t bytes, int pinned, const char *what)
{
    (void)pinned;
    return cs_alloc(bytes, what);
}

static void cpu_host_free(void *p, int pinned)
{
    (void)pinned;
    cs_free(p);
}

/* The asynchronous input's protocol, synchronously: the copy is a memcpy
 * and there is nothing to wait for. The dataloader never pins on the CPU
 * (nothing to overlap), but the tests run the GPU's order of calls here. */
static void cpu_input_copy(int slot, void *dst, const void *src, size_t bytes)
{
    (void)slot;
    cpu_copy(dst, src, bytes);
}

static void cpu_input_nothing(int slot)
{
    (void)slot;
}

static const rn_backend cpu_backend = {
    .name = "cpu",
    .on_device = 0,
    .conv_work_floats = rn_cpu_conv_work_floats,
    .conv_algo = rn_cpu_conv_algo,
    .conv_forward = rn_cpu_conv_forward_r,
    .conv_backward = rn_cpu_conv_backward_r,
    .bn_forward_train = rn_cpu_bn_forward_train_r,
    .bn_forward_eval = rn_cpu_bn_forward_eval_r,
    .bn_backward = rn_cpu_bn_backward_r,
    .bn_backward_bits = rn_cpu_bn_backward_bits_r,
    .relu_forward = rn_cpu_relu_forward,
    .relu_backward = rn_cpu_relu_backward,
    .add = rn_cpu_add_r,
    .maxpool_forward = rn_cpu_maxpool_forward,
    .maxpool_backward = rn_cpu_maxpool_backward_r,
    .avgpool_forward = rn_cpu_avgpool_forward,
    .avgpool_backward = rn_cpu_avgpool_backward,
    .linear_forward = rn_cpu_linear_forward,
    .linear_backward = rn_cpu_linear_backward,
    .xent = rn_cpu_xent,
    .adam = rn_cpu_adam,
    .round_to = rn_cpu_round_to,
    .conv_math = rn_cpu_conv_math,
    .grad_accumulate = rn_cpu_grad_accumulate,
    .pack = rn_cpu_pack,
    .unpack = rn_cpu_unpack,
    .round_outputs = rn_cpu_round_outputs,
    .scale = rn_cpu_scale,
    .unscale_check = rn_cpu_unscale_check,
    .scale_by = rn_cpu_scale_by,
    .unscale_check_by = rn_cpu_unscale_check_by,
    .adam_skip = rn_cpu_adam_skip,
    .scaler_update = rn_cpu_scaler_update,
    .bn_add_relu_forward_train = rn_cpu_bn_add_relu_forward_train_r,
    .relu_bn_backward = rn_cpu_relu_bn_backward_r,
    .bn_relu_maxpool_forward_train = rn_cpu_bn_relu_maxpool_forward_train,
    .relu_maxpool_backward = rn_cpu_relu_maxpool_backward_r,
    .adam_multi = rn_cpu_adam_multi,
    .conv_keep_floats = rn_cpu_conv_keep_floats,
    .conv_forward_keep = rn_cpu_conv_forward_keep_r,
    .conv_backward_kept = rn_cpu_conv_backward_kept_r,
    .conv_live_floats = rn_cpu_conv_live_floats,
    .conv_live_copy = rn_cpu_conv_live_copy,
    .conv_live_dead_zero = rn_cpu_conv_live_dead_zero,
    .conv_backward_kept_live = rn_cpu_conv_backward_kept_live_r,
    .conv_adam_live = rn_cpu_conv_adam_live,
    .to_backend = cpu_copy,
    .to_host = cpu_copy,
    .sync = cpu_sync,
    .region_begin = cpu_region_begin,
    .region_end = cpu_region_end,
    .regions_flush = cpu_regions_flush,
    .mark = cpu_mark,
    .marks_read = cpu_marks_read,
    .host_alloc = cpu_host_alloc,
    .host_free = cpu_host_free,
    .input_copy = cpu_input_copy,
    .input_acquire = cpu_input_nothing,
    .input_release = cpu_input_nothing,
    .input_copied = cpu_input_nothing,
};

const rn_backend *rn_cpu_backend(void)
{
    return &cpu_backend;
}
