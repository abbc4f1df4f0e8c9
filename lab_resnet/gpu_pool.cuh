/* Max pooling's window scan and its backward's gather, shared by the
 * separate kernels (gpu_layers.cu) and Part 5's fused ones (gpu_fused.cu),
 * which pool values computed on the fly and pass gradients through a ReLU.
 *
 * Forward: the window is scanned in row-major order and the FIRST maximum
 * kept (strict >), positions in the padding skipped, so padding never wins;
 * the winner is given as its index in the input plane (iy * w + ix).
 *
 * Backward as a GATHER, one thread per input element: it visits the
 * outputs whose windows contain it and sums the gradients of those whose
 * argmax points at it. The scatter form (one thread per output adding dy
 * to dx[argmax]) needs atomics where windows overlap (k 3, stride 2: up to
 * 4 windows share an input), and atomics add in whatever order threads
 * arrive: not deterministic. The gather writes each dx exactly once (so it
 * also overwrites, as the contract asks), with no zeroing pass.
 * Output oy's window covers input rows oy*stride - pad ... + k - 1, so the
 * input row iy lies in the windows of oy from ceil((iy + pad - k + 1) /
 * stride) to floor((iy + pad) / stride), clipped to the output.
 *
 * C++ only (the .cu files include it). */
#ifndef RN_GPU_POOL_CUH
#define RN_GPU_POOL_CUH

#include <stddef.h>
#include <stdint.h>

namespace
{

/* Output element o (flat over n x c x oh x ow): its plane and its window's
 * top-left corner in the input (may lie in the padding). */
struct pool_out {
    size_t plane;
    int y0, x0;
};

__device__ __forceinline__ pool_out pool_out_of(size_t o, int oh, int ow, int stride, int pad)
{
    const int ox = (int)(o % ow);
    const size_t t = o / ow;
    const int oy = (int)(t % oh);
    return pool_out{t / oh, oy * stride - pad, ox * stride - pad};
}

/* The window's maximum of value(at) over the input positions it covers in
 * an h x w plane (at = iy * w + ix), into *best and *best_at (-1 when the
 * window holds no input position). */
template <class Value>
__device__ __forceinline__ void pool_window(int h, int w, int k, int y0, int x0, Value value, float *best, int *best_at)
{
    *best = 0.0f;
    *best_at = -1;
    for (int ky = 0; ky < k; ++ky) {
        const int iy = y0 + ky;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < k; ++kx) {
            const int ix = x0 + kx;
            if (ix < 0 || ix >= w) continue;
            const float v = value(iy * w + ix);
            if (*best_at < 0 || v > *best) {
                *best = v;
                *best_at = iy * w + ix;
            }
        }
    }
}

/* The gather at input position (iy, ix) of an h x w plane: the sum of
 * grad(o) over the outputs o = out(oy, ox) whose window covers it, whose
 * argmax points at it and which pass(o) lets through, in ascending output
 * order. */
template <class Out, class Pass, class Grad>
__device__ __forceinline__ float pool_gather_at(int iy, int ix, int w, int oh, int ow, int k, int stride, int pad,
                                                const int32_t *__restrict__ argmax, Out out, Pass pass, Grad grad)
{
    const int lo_y = iy + pad - k + 1, lo_x = ix + pad - k + 1;
    const int oy0 = lo_y <= 0 ? 0 : (lo_y + stride - 1) / stride;
    const int ox0 = lo_x <= 0 ? 0 : (lo_x + stride - 1) / stride;
    const int oy1 = min((iy + pad) / stride, oh - 1);
    const int ox1 = min((ix + pad) / stride, ow - 1);
    const int32_t me = iy * w + ix;
    float g = 0.0f;
    for (int oy = oy0; oy <= oy1; ++oy)
        for (int ox = ox0; ox <= ox1; ++ox) {
            const size_t o = out(oy, ox);
            if (argmax[o] == me && pass(o)) g += grad(o);
        }
    return g;
}

/* Input element i's gradient (flat over n x c x h x w): the sum of dy over
 * the outputs whose argmax is i and which pass(o) lets through, in
 * ascending output order (the order a serial scatter adds in, so the sums
 * agree with the CPU's bit for bit). */
template <class Pass>
__device__ __forceinline__ float pool_gather(size_t i, int h, int w, int oh, int ow, int k, int stride, int pad,
                                             const int32_t *__restrict__ argmax, const float *__restrict__ dy,
                                             Pass pass)
{
    const int ix = (int)(i % w);
    const size_t t = i / w;
    const int iy = (int)(t % h);
    const size_t out0 = (t / h) * oh * ow;
    return pool_gather_at(
        iy, ix, w, oh, ow, k, stride, pad, argmax, [=](int oy, int ox) { return out0 + (size_t)oy * ow + ox; }, pass,
        [=](size_t o) { return dy[o]; });
}

} /* namespace */

#endif
