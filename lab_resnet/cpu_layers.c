/* The CPU backend's layers other than convolution: batch norm, ReLU, the
 * residual add, max and average pooling, the classifier (linear), the loss
 * (cross-entropy) and the optimizer (Adam). Conventions: backend.h.
 *
 * Threads: batch norm runs one channel per thread (its statistics are per
 * channel); the elementwise ops split the elements; pooling splits the
 * (image, channel) planes. Small inputs stay on one thread (the `if`
 * clauses): starting the team would cost more than the work. */
#include "cpu_ops.h"
#include "precision.h"
#include "scale_update.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#else
static int omp_get_thread_num(void)
{
    return 0;
}
static int omp_get_num_threads(void)
{
    return 1;
}
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_gemm.h"

#define RN_PAR_MIN 16384 /* elements below which a loop runs on one thread */

/* ---- batch norm ------------------------------------------------------ */

/* Sums over one (image, channel) row of hw values, in double. The simd
 * reductions let the compiler keep several partial sums in a vector (one
 * running sum waits on each add's latency: 4x slower at 16x16), but each
 * ends with a horizontal sum of its vector, which costs more than it saves
 * on the short rows deep in ResNet (2x2, 1x1): those take the plain loop. */
static double row_sum(const float *p, int hw)
{
    double s = 0.0;
    if (hw < RN_SIMD_MIN_ROW) {
        for (int j = 0; j < hw; j++) s += p[j];
        return s;
    }
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < hw; j++) s += p[j];
    return s;
}

/* sum (p - mu)^2 */
static double row_sq_dev(const float *p, int hw, double mu)
{
    double s = 0.0;
    if (hw < RN_SIMD_MIN_ROW) {
        for (int j = 0; j < hw; j++) s += (p[j] - mu) * (p[j] - mu);
        return s;
    }
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < hw; j++) s += (p[j] - mu) * (p[j] - mu);
    return s;
}

/* sum dy and sum dy * (x - mean), added to *s_dy and *s_dyx */
static void row_dy_sums(const float *dy, const float *x, int hw, double mean, double *s_dy, double *s_dyx)
{
    double a = 0.0, b = 0.0;
    if (hw < RN_SIMD_MIN_ROW) {
        for (int j = 0; j < hw; j++) {
            a += dy[j];
            b += dy[j] * (x[j] - mean);
        }
    } else {
#pragma omp simd reduction(+ : a, b)
        for (int j = 0; j < hw; j++) {
            a += dy[j];
            b += dy[j] * (x[j] - mean);
        }
    }
    *s_dy += a;
    *s_dyx += b;
}

/* Channel ch's statistics over n x hw values, in double: a channel can hold
 * 8 K values (batch 32 at 16x16) to 400 K (at 112x112), and the variance (a
 * difference of nearby sums) would lose digits in float. Two passes (the mean, then the
 * squared deviations) rather than E[x^2] - E[x]^2, which cancels. */
static void channel_stats(int n, int c, int hw, const float *x, int ch, double *mean, double *var)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += row_sum(x + ((size_t)i * c + ch) * hw, hw);
    const double count = (double)n * hw;
    const double mu = sum / count;
    double sq = 0.0;
    for (int i = 0; i < n; i++) sq += row_sq_dev(x + ((size_t)i * c + ch) * hw, hw, mu);
    *mean = mu;
    *var = sq / count; /* biased: what the normalisation uses */
}

void rn_cpu_bn_train_finish(int n, int hw, int ch, double mean, double var, const float *gamma, float *save_mean,
                            float *save_invstd, float *running_mean, float *running_var, float momentum, float eps,
                            float *mu, float *scale)
{
    const double count = (double)n * hw;
    const double invstd = 1.0 / sqrt(var + eps);
    save_mean[ch] = (float)mean;
    save_invstd[ch] = (float)invstd;
    /* The running variance is the UNBIASED one (PyTorch); with a single
     * value per channel there is none, and the biased one (0) is kept. */
    const double unbiased = count > 1 ? var * count / (count - 1) : var;
    running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean);
    running_var[ch] = (float)((1.0 - momentum) * running_var[ch] + momentum * unbiased);
    /* y = (x - mean) * (invstd * gamma) + beta. The mean is taken off
     * first: folded into one shift, x * scale + shift would cancel
     * digits whenever |mean| is large next to the spread. */
    *mu = (float)mean;
    *scale = (float)(invstd * gamma[ch]);
}

void rn_cpu_bn_train_channel(int n, int c, int hw, const float *x, int ch, const float *gamma, float *save_mean,
                             float *save_invstd, float *running_mean, float *running_var, float momentum, float eps,
                             float *mu, float *scale)
{
    double mean, var;
    channel_stats(n, c, hw, x, ch, &mean, &var);
    rn_cpu_bn_train_finish(n, hw, ch, mean, var, gamma, save_mean, save_invstd, running_mean, running_var, momentum,
                           eps, mu, scale);
}

void rn_cpu_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                             float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                             float momentum, float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)n * c * hw > RN_PAR_MIN)
    for (int ch = 0; ch < c; ch++) {
        float mu, scale;
        rn_cpu_bn_train_channel(n, c, hw, x, ch, gamma, save_mean, save_invstd, running_mean, running_var, momentum,
                                eps, &mu, &scale);
        const float b = beta[ch];
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float *yp = y + ((size_t)i * c + ch) * hw;
            for (int j = 0; j < hw; j++) yp[j] = (xp[j] - mu) * scale + b;
        }
    }
}

void rn_cpu_bn_forward_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, float eps, float *y)
{
#pragma omp parallel for schedule(static) if ((size_t)n * c * hw > RN_PAR_MIN)
    for (int ch = 0; ch < c; ch++) {
        const double invstd = 1.0 / sqrt((double)running_var[ch] + eps);
        const float mu = running_mean[ch], scale = (float)(invstd * gamma[ch]), b = beta[ch];
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float *yp = y + ((size_t)i * c + ch) * hw;
            for (int j = 0; j < hw; j++) yp[j] = (xp[j] - mu) * scale + b;
        }
    }
}

/* With xhat = (x - mean) * invstd and M = n * hw values per channel:
 *   dbeta  = sum dy,   dgamma = sum dy * xhat,
 *   dx     = gamma * invstd / M * (M * dy - dbeta - xhat * dgamma)
 * (the last two terms are the paths through the batch mean and variance). */
int rn_cpu_accumulate;

void rn_cpu_grad_accumulate(int on)
{
    rn_cpu_accumulate = on != 0;
}

/* A parameter gradient: overwritten, or added to while accumulating. */
static inline void put_grad(float *g, float v)
{
    *g = rn_cpu_accumulate ? *g + v : v;
}

void rn_cpu_bn_backward_coeffs(int n, int hw, int ch, const float *gamma, const float *save_mean,
                               const float *save_invstd, double sum_dy, double sum_dy_xc, float *dgamma, float *dbeta,
                               rn_bn_dx *k)
{
    const double count = (double)n * hw, invstd = save_invstd[ch];
    const double sum_dy_xhat = sum_dy_xc * invstd;
    put_grad(&dbeta[ch], (float)sum_dy);
    put_grad(&dgamma[ch], (float)sum_dy_xhat);
    /* dx = a * dy + b * (x - mean) + d, constants per channel. */
    const double g = gamma[ch] * invstd;
    const double mdy = sum_dy / count, mdyx = sum_dy_xhat / count;
    k->a = (float)g;
    k->b = (float)(-g * mdyx * invstd);
    k->d = (float)(-g * mdy);
    k->mu = save_mean[ch];
}

/* One row's dx from the channel's constants (both backwards below). */
static void row_dx(const rn_bn_dx *k, const float *dy, const float *x, float *dx, int hw)
{
    for (int j = 0; j < hw; j++) dx[j] = k->a * dy[j] + k->b * (x[j] - k->mu) + k->d;
}

/* Row i of channel ch as floats: x's own row, or, with 16-bit x (`bits`),
 * that row widened into `scratch`. */
static const float *row_of(const float *x, const uint16_t *bits, int precision, float *scratch, size_t at, int hw)
{
    if (!bits) return x + at;
    rn_unpack((size_t)hw, bits + at, scratch, (rn_precision)precision);
    return scratch;
}

/* Channel ch's backward, x as floats or as 16-bit bits (then widened a row
 * at a time into `scratch`, hw floats, twice: once for the sums, once for
 * dx). Either way the same rows reach the same arithmetic. */
static void bn_backward_channel(int n, int c, int hw, int ch, const float *x, const uint16_t *bits, int precision,
                                float *scratch, const float *gamma, const float *save_mean, const float *save_invstd,
                                const float *dy, float *dx, float *dgamma, float *dbeta)
{
    const double mean = save_mean[ch];
    double sum_dy = 0.0, sum_dy_xc = 0.0; /* sum dy, sum dy * (x - mean) */
    for (int i = 0; i < n; i++) {
        const size_t at = ((size_t)i * c + ch) * hw;
        row_dy_sums(dy + at, row_of(x, bits, precision, scratch, at, hw), hw, mean, &sum_dy, &sum_dy_xc);
    }
    rn_bn_dx k;
    rn_cpu_bn_backward_coeffs(n, hw, ch, gamma, save_mean, save_invstd, sum_dy, sum_dy_xc, dgamma, dbeta, &k);
    if (dx == NULL) return;
    for (int i = 0; i < n; i++) {
        const size_t at = ((size_t)i * c + ch) * hw;
        row_dx(&k, dy + at, row_of(x, bits, precision, scratch, at, hw), dx + at, hw);
    }
}

void rn_cpu_bn_backward_channel(int n, int c, int hw, int ch, const float *x, const float *gamma,
                                const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta)
{
    bn_backward_channel(n, c, hw, ch, x, NULL, 0, NULL, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
}

void rn_cpu_bn_backward(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                        const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta)
{
#pragma omp parallel for schedule(static) if ((size_t)n * c * hw > RN_PAR_MIN)
    for (int ch = 0; ch < c; ch++)
        rn_cpu_bn_backward_channel(n, c, hw, ch, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
}

void rn_cpu_bn_backward_bits(int n, int c, int hw, const uint16_t *x, int precision, const float *gamma,
                             const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                             float *dgamma, float *dbeta)
{
#pragma omp parallel if ((size_t)n * c * hw > RN_PAR_MIN)
    {
        float *scratch = cs_alloc((size_t)(hw > 0 ? hw : 1) * sizeof(float), "batch norm's widened row");
#pragma omp for schedule(static)
        for (int ch = 0; ch < c; ch++)
            bn_backward_channel(n, c, hw, ch, NULL, x, precision, scratch, gamma, save_mean, save_invstd, dy, dx,
                                dgamma, dbeta);
        cs_free(scratch);
    }
}

/* ---- elementwise ----------------------------------------------------- */

void rn_cpu_relu_forward(size_t count, const float *x, float *y)
{
#pragma omp parallel for simd schedule(static) if (count > RN_PAR_MIN)
    for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void rn_cpu_relu_backward(size_t count, const float *y, const float *dy, float *dx)
{
#pragma omp parallel for simd schedule(static) if (count > RN_PAR_MIN)
    for (size_t i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* The 16-bit conversions run over the threads in chunks of 2^15 values:
 * whole chunks per thread, so F16C's 8 lanes stay aligned. */
#define RN_CONV_CHUNK ((size_t)1 << 15)

static size_t chunks_in(size_t count)
{
    return (count + RN_CONV_CHUNK - 1) / RN_CONV_CHUNK;
}

static size_t chunk_len(size_t count, size_t c)
{
    size_t at = c * RN_CONV_CHUNK;
    return count - at < RN_CONV_CHUNK ? count - at : RN_CONV_CHUNK;
}

void rn_cpu_round_to(size_t count, const float *src, float *dst, int precision)
{
    const size_t chunks = chunks_in(count);
#pragma omp parallel for schedule(static) if (count > RN_PAR_MIN)
    for (size_t c = 0; c < chunks; c++)
        rn_round_to(chunk_len(count, c), src + c * RN_CONV_CHUNK, dst + c * RN_CONV_CHUNK, (rn_precision)precision);
}

void rn_cpu_pack(size_t count, const float *src, uint16_t *dst, int precision)
{
    const size_t chunks = chunks_in(count);
#pragma omp parallel for schedule(static) if (count > RN_PAR_MIN)
    for (size_t c = 0; c < chunks; c++)
        rn_pack(chunk_len(count, c), src + c * RN_CONV_CHUNK, dst + c * RN_CONV_CHUNK, (rn_precision)precision);
}

void rn_cpu_unpack(size_t count, const uint16_t *src, float *dst, int precision)
{
    const size_t chunks = chunks_in(count);
#pragma omp parallel for schedule(static) if (count > RN_PAR_MIN)
    for (size_t c = 0; c < chunks; c++)
        rn_unpack(chunk_len(count, c), src + c * RN_CONV_CHUNK, dst + c * RN_CONV_CHUNK, (rn_precision)precision);
}

void rn_cpu_scale(size_t count, float *x, float alpha)
{
#pragma omp parallel for schedule(static) if (count > RN_PAR_MIN)
    for (size_t i = 0; i < count; i++) x[i] *= alpha;
}

/* As PyTorch's kernel: every element multiplied (float32), a flag for any
 * element that was not finite before. */
void rn_cpu_unscale_check(size_t count, float *x, float inv_scale, int32_t *found_inf)
{
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad) if (count > RN_PAR_MIN)
    for (size_t i = 0; i < count; i++) {
        bad |= !isfinite(x[i]);
        x[i] *= inv_scale;
    }
    if (bad) *found_inf = 1;
}

/* The device-side scaler's operations (backend.h), in host memory here:
 * the same protocol as the GPU's, so the tests can set it against the
 * host-read one. */
void rn_cpu_scale_by(size_t count, float *x, const float *scale)
{
    rn_cpu_scale(count, x, *scale);
}

void rn_cpu_unscale_check_by(size_t count, float *x, const float *scale, int32_t *state)
{
    rn_cpu_unscale_check(count, x, (float)(1.0 / (double)*scale), &state[RN_SCALER_FOUND_INF]);
}

void rn_cpu_adam_skip(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                      float eps, const int32_t *state)
{
    if (state[RN_SCALER_FOUND_INF]) return;
    rn_cpu_adam(count, param, grad, m, v, lr, b1, b2, eps, state[RN_SCALER_STEP] + 1);
}

void rn_cpu_scaler_update(float *scale, int32_t *state, double growth, double backoff, int interval)
{
    rn_scale_update_state(scale, state, growth, backoff, interval);
}

void rn_cpu_add(size_t count, const float *a, const float *b, float *y)
{
#pragma omp parallel for simd schedule(static) if (count > RN_PAR_MIN)
    for (size_t i = 0; i < count; i++) y[i] = a[i] + b[i];
}

/* ---- pooling ----------------------------------------------------------- */

void rn_cpu_maxpool_plane(int h, int w, int k, int stride, int pad, const float *xp, float *yp, int32_t *ap)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            /* Only pixels inside the image compete (padding never wins):
             * the window is clipped to the image first. Its first pixel
             * starts as the best and a later one must be strictly
             * greater: ties go to the first in row-major order. Written
             * as selects, not branches: on real data "is this one
             * larger?" is a coin flip the branch predictor loses. */
            const int y0 = oy * stride - pad, x0 = ox * stride - pad;
            const int ky0 = y0 < 0 ? -y0 : 0, ky1 = y0 + k > h ? h - y0 : k;
            const int kx0 = x0 < 0 ? -x0 : 0, kx1 = x0 + k > w ? w - x0 : k;
            if (ky0 >= ky1 || kx0 >= kx1) {
                /* only with pad >= k: nothing to pool, no gradient */
                yp[oy * ow + ox] = 0.0f;
                ap[oy * ow + ox] = -1;
                continue;
            }
            int best = (y0 + ky0) * w + x0 + kx0;
            float bv = xp[best];
            for (int ky = ky0; ky < ky1; ky++)
                for (int kx = kx0; kx < kx1; kx++) {
                    const int at = (y0 + ky) * w + x0 + kx;
                    const float v = xp[at];
                    const int larger = v > bv;
                    best = larger ? at : best;
                    bv = larger ? v : bv;
                }
            yp[oy * ow + ox] = bv;
            ap[oy * ow + ox] = best;
        }
    }
}

void rn_cpu_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, const float *x, float *y,
                            int32_t *argmax)
{
    const size_t out_plane = (size_t)rn_out_size(h, k, stride, pad) * rn_out_size(w, k, stride, pad);
    const int planes = n * c;
#pragma omp parallel for schedule(static) if ((size_t)planes * h * w > RN_PAR_MIN)
    for (int pl = 0; pl < planes; pl++)
        rn_cpu_maxpool_plane(h, w, k, stride, pad, x + (size_t)pl * h * w, y + pl * out_plane, argmax + pl * out_plane);
}

void rn_cpu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                             const float *dy, float *dx)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const int planes = n * c;
#pragma omp parallel for schedule(static) if ((size_t)planes * h * w > RN_PAR_MIN)
    for (int pl = 0; pl < planes; pl++) {
        float *dxp = dx + (size_t)pl * h * w;
        const float *dyp = dy + (size_t)pl * oh * ow;
        const int32_t *ap = argmax + (size_t)pl * oh * ow;
        memset(dxp, 0, (size_t)h * w * sizeof *dxp);
        /* Overlapping windows (stride < k) can pick the same pixel: add. */
        for (int o = 0; o < oh * ow; o++)
            if (ap[o] >= 0) dxp[ap[o]] += dyp[o];
    }
}

void rn_cpu_avgpool_forward(int n, int c, int hw, const float *x, float *y)
{
    const int planes = n * c;
#pragma omp parallel for schedule(static) if ((size_t)planes * hw > RN_PAR_MIN)
    for (int pl = 0; pl < planes; pl++) {
        const float *xp = x + (size_t)pl * hw;
        double sum = 0.0;
        for (int j = 0; j < hw; j++) sum += xp[j];
        y[pl] = (float)(sum / hw);
    }
}

void rn_cpu_avgpool_backward(int n, int c, int hw, const float *dy, float *dx)
{
    const int planes = n * c;
    const float inv = 1.0f / (float)hw;
#pragma omp parallel for schedule(static) if ((size_t)planes * hw > RN_PAR_MIN)
    for (int pl = 0; pl < planes; pl++) {
        const float g = dy[pl] * inv;
        float *dxp = dx + (size_t)pl * hw;
        for (int j = 0; j < hw; j++) dxp[j] = g;
    }
}

/* ---- classifier -------------------------------------------------------- */

void rn_cpu_linear_forward(int n, int in, int out, const float *x, const float *weight, const float *bias, float *y)
{
    /* y := bias in every row, then y += x (n x in) * W^T (in x out). */
    for (int i = 0; i < n; i++) memcpy(y + (size_t)i * out, bias, (size_t)out * sizeof *y);
    cs_gemm(cs_gemm_best_cpu(), 0, 1, n, out, in, 1.0f, x, in, weight, in, 1.0f, y, out);
}

void rn_cpu_linear_backward(int n, int in, int out, const float *x, const float *weight, const float *dy, float *dx,
                            float *dweight, float *dbias)
{
    const cs_gemm_backend be = cs_gemm_best_cpu();
    /* dW (out x in) = dy^T (out x n) * x (n x in) */
    cs_gemm(be, 1, 0, out, in, n, 1.0f, dy, out, x, in, rn_cpu_accumulate ? 1.0f : 0.0f, dweight, in);
    /* dx (n x in) = dy (n x out) * W (out x in) */
    if (dx != NULL) cs_gemm(be, 0, 0, n, in, out, 1.0f, dy, out, weight, in, 0.0f, dx, in);
    for (int o = 0; o < out; o++) {
        double s = 0.0;
        for (int i = 0; i < n; i++) s += dy[(size_t)i * out + o];
        put_grad(&dbias[o], (float)s);
    }
}

/* ---- loss -------------------------------------------------------------- */

void rn_cpu_xent(int n, int classes, const float *logits, const int32_t *labels, float *dlogits, float *loss,
                 int32_t *correct)
{
    double total = 0.0;
    int32_t right = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * classes;
        float *dz = dlogits + (size_t)i * classes;
        const int32_t label = labels[i];
        if (label < 0 || label >= classes) {
            fprintf(stderr, "%s: cross-entropy: label %d of sample %d is not in [0, %d)\n", cs_prog(), (int)label, i,
                    classes);
            exit(2);
        }
        /* log-sum-exp shifted by the largest logit, so exp never overflows;
         * the first largest is also the prediction. */
        int arg = 0;
        for (int j = 1; j < classes; j++)
            if (z[j] > z[arg]) arg = j;
        const double zmax = z[arg];
        double sum = 0.0;
        for (int j = 0; j < classes; j++) sum += exp((double)z[j] - zmax);
        total += zmax + log(sum) - z[label];
        right += arg == label;
        for (int j = 0; j < classes; j++) {
            double p = exp((double)z[j] - zmax) / sum;
            dz[j] = (float)((p - (j == label)) / n);
        }
    }
    *loss = n > 0 ? (float)(total / n) : 0.0f;
    *correct = right;
}

/* ---- optimizer --------------------------------------------------------- */

/* Four arrays read and three written per element: memory-bound once
 * vectorized. But sqrtf must set errno for a negative argument, so unless
 * this file is compiled with -fno-math-errno GCC keeps a scalar path with a
 * library call in the loop and does not vectorize it (11.7 M parameters
 * on 2 cores: 20.7 ms as is, 7.4 ms with the flag). GCC 12
 * ignores that flag given as a function attribute or a pragma: it belongs
 * on the command line (CMake: set_source_files_properties). */
typedef struct {
    float lr, b1, b2, eps, inv_bc1, inv_bc2;
} adam_consts;

static adam_consts adam_consts_of(float lr, float b1, float b2, float eps, int t)
{
    /* The bias corrections are the same for every element: once, in double. */
    adam_consts k = {lr, b1, b2, eps, (float)(1.0 / (1.0 - pow(b1, t))), (float)(1.0 / (1.0 - pow(b2, t)))};
    return k;
}

/* Adam on one element: every Adam here goes through it, so all give the
 * same bits. */
static inline void adam_element(const adam_consts *k, float *param, float g, float *m, float *v)
{
    const float mi = k->b1 * *m + (1.0f - k->b1) * g;
    const float vi = k->b2 * *v + (1.0f - k->b2) * g * g;
    *m = mi;
    *v = vi;
    *param -= k->lr * (mi * k->inv_bc1) / (sqrtf(vi * k->inv_bc2) + k->eps);
}

/* Adam on elements [lo, hi) of one tensor. */
static void adam_span(const adam_consts *k, size_t lo, size_t hi, float *param, const float *grad, float *m, float *v)
{
    const adam_consts c = *k; /* a local copy: the loop keeps it in registers */
    for (size_t i = lo; i < hi; i++) adam_element(&c, &param[i], grad[i], &m[i], &v[i]);
}

/* Part 5: Adam on a k x k weight's taps [ky0, ky1) x [kx0, kx1) alone, its
 * gradient and moments compact (planes x taps), the weight in place. */
void rn_cpu_adam_taps(size_t planes, int k, int ky0, int ky1, int kx0, int kx1, float *param, const float *grad,
                      float *m, float *v, float lr, float b1, float b2, float eps, int t)
{
    const adam_consts c = adam_consts_of(lr, b1, b2, eps, t);
    const int kw = kx1 - kx0, ntaps = (ky1 - ky0) * kw;
#pragma omp parallel for schedule(static) if (planes * (size_t)ntaps > RN_PAR_MIN)
    for (size_t pl = 0; pl < planes; pl++) {
        float *pp = param + pl * (size_t)k * k;
        const size_t j0 = pl * (size_t)ntaps;
        for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++) {
                const size_t j = j0 + (size_t)(ky - ky0) * kw + (size_t)(kx - kx0);
                adam_element(&c, &pp[ky * k + kx], grad[j], &m[j], &v[j]);
            }
    }
}

/* Thread `id` of `nth`'s share [*lo, *hi) of `count` elements. */
static void share_of(size_t count, int id, int nth, size_t *lo, size_t *hi)
{
    *lo = count * (size_t)id / (size_t)nth;
    *hi = count * (size_t)(id + 1) / (size_t)nth;
}

void rn_cpu_adam(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                 float eps, int t)
{
    const adam_consts k = adam_consts_of(lr, b1, b2, eps, t);
#pragma omp parallel if (count > RN_PAR_MIN)
    {
        size_t lo, hi;
        share_of(count, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        adam_span(&k, lo, hi, param, grad, m, v);
    }
}

/* Part 5's multi-tensor Adam: every tensor in one parallel region, the
 * threads' shares cut from all the elements laid end to end (one team
 * start instead of 62, and no thread idles on a small tensor's tail). The
 * same arithmetic per element as rn_cpu_adam, so the same bits. */
void rn_cpu_adam_multi(int ntensors, const rn_adam_tensor *ts, float lr, float b1, float b2, float eps, int t)
{
    const adam_consts k = adam_consts_of(lr, b1, b2, eps, t);
    size_t total = 0;
    for (int i = 0; i < ntensors; i++) total += ts[i].count;
#pragma omp parallel if (total > RN_PAR_MIN)
    {
        size_t lo, hi, at = 0;
        share_of(total, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        for (int i = 0; i < ntensors && at < hi; at += ts[i].count, i++) {
            const size_t from = lo > at ? lo - at : 0, end = at + ts[i].count;
            const size_t to = (hi < end ? hi : end) - at;
            if (from < to) adam_span(&k, from, to, ts[i].param, ts[i].grad, ts[i].m, ts[i].v);
        }
    }
}
