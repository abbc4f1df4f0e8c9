/* Convolution on the CPU as a matrix product (im2col + GEMM), NCHW.
 *
 * A k x k convolution of one image is a GEMM once every input patch is laid
 * out as a column: col (cin*k*k x oh*ow) holds, in column p, the patch that
 * output pixel p sees, and y = W * col with W (cout x cin*k*k) as PyTorch
 * stores it. The backward pass is two more products with the same col:
 *   dW = dy * col^T          dcol = W^T * dy, then col2im adds dcol back
 *                            onto the input pixels it was copied from.
 *
 * Why the whole batch goes into one col matrix: ResNet-18 at 32x32 has tiny
 * images deep in the network (layer3 is 2x2, layer4 1x1), so one image's GEMM
 * is a sliver (512 x 1 x 4608 in layer4) that no BLAS runs fast. Putting the
 * images side by side, col (cin*k*k x n*oh*ow), gives one GEMM with a wide
 * N, which the BLAS spreads over the cores itself; we only pay for gathering
 * dy into that layout and scattering y out of it (plain copies). Above a
 * scratch cap the batch is processed in chunks of images.
 *
 * Taps that only ever read padding are left out. On a 1x1 image a 3x3
 * kernel with padding 1 reads the image with its centre tap alone: the other
 * eight rows of col would be zeros, 8/9 of the GEMM's work spent multiplying
 * them. So col keeps only the taps that touch the image for some output
 * pixel (a rectangle [ky0, ky1) x [kx0, kx1) of the kernel), W's matching
 * columns are copied into a compact matrix, and dW is zero for the others:
 * the same result with fewer operations (layer4's 3x3 convolutions: 1/9).
 *
 * A 1x1 stride-1 convolution without padding needs no im2col at all: an
 * image's input, cin x h*w, already is its col matrix.
 *
 * Threads: the copies (im2col, col2im, scatter, gather) use OpenMP; the
 * GEMMs are called outside any parallel region so that the BLAS uses its
 * own threads without nesting. */
#include "cpu_ops.h"

#include <string.h>

#include "cs_console.h"
#include "cs_gemm.h"
#include "precision.h"

/* Below this many floats a copy runs on one thread: starting the team costs
 * more than the copy. */
#define RN_PAR_MIN 16384

#define RN_DEFAULT_CHUNK_FLOATS ((size_t)16 << 20)
static size_t chunk_floats = RN_DEFAULT_CHUNK_FLOATS;

size_t rn_cpu_conv_set_chunk_floats(size_t floats)
{
    size_t old = chunk_floats;
    chunk_floats = floats ? floats : RN_DEFAULT_CHUNK_FLOATS;
    return old;
}

/* Sizes derived from the shape: which taps are computed, and how many
 * images go into one GEMM. */
typedef struct {
    int oh, ow;
    size_t ohw;   /* output pixels per image */
    int ky0, ky1; /* taps computed: [ky0, ky1) x [kx0, kx1) */
    int kx0, kx1;
    int ntaps;  /* (ky1 - ky0) * (kx1 - kx0) */
    int pruned; /* ntaps < k * k: W and dW go through compact copies */
    int kdim;   /* cin * ntaps: rows of col, columns of (compact) W */
    int direct; /* 1x1, stride 1, no padding: col is the input itself */
    int nb;     /* images per chunk */
} conv_plan;

/* The taps t along one axis that read inside [0, in) for some output o:
 * their hull [*lo, *hi). (A tap inside the hull that happens to read only
 * padding is still computed: its rows of col are zeros, which is correct.) */
static void live_taps(int in, int out, int k, int stride, int pad, int *lo, int *hi)
{
    *lo = k;
    *hi = 0;
    for (int t = 0; t < k; t++)
        for (int o = 0; o < out; o++) {
            const int i = o * stride - pad + t;
            if (i >= 0 && i < in) {
                if (t < *lo) *lo = t;
                *hi = t + 1;
                break;
            }
        }
    if (*lo >= *hi) *lo = *hi = 0; /* every tap reads padding only */
}

static conv_plan make_plan(const rn_conv_shape *s, int n, int h, int w)
{
    conv_plan p;
    p.oh = rn_out_size(h, s->k, s->stride, s->pad);
    p.ow = rn_out_size(w, s->k, s->stride, s->pad);
    p.ohw = (size_t)p.oh * (size_t)p.ow;
    live_taps(h, p.oh, s->k, s->stride, s->pad, &p.ky0, &p.ky1);
    live_taps(w, p.ow, s->k, s->stride, s->pad, &p.kx0, &p.kx1);
    p.ntaps = (p.ky1 - p.ky0) * (p.kx1 - p.kx0);
    p.pruned = p.ntaps < s->k * s->k;
    p.kdim = s->cin * p.ntaps;
    p.direct = (s->k == 1 && s->stride == 1 && s->pad == 0);
    /* Per image: its col block and its block of y (or dy) in the GEMM layout. */
    size_t per_image = ((size_t)p.kdim + (size_t)s->cout) * p.ohw;
    size_t nb = per_image ? chunk_floats / per_image : (size_t)n;
    if (nb < 1) nb = 1;
    if (nb > (size_t)n) nb = (size_t)(n > 0 ? n : 1);
    p.nb = (int)nb;
    return p;
}

/* The scratch, in this order:
 *   col     kdim x nb*ohw
 *   ybuf    cout x nb*ohw    y or dy in the GEMM's layout
 *   taps    ntaps*ohw int32  the tap table (below), one float slot each
 *   wlive   cout x kdim      W's computed taps       } only when taps
 *   dwlive  cout x kdim      their gradient          } are left out */
typedef struct {
    float *col, *ybuf, *wlive, *dwlive;
    int32_t *taps;
} conv_scratch;

static size_t scratch_floats(const rn_conv_shape *s, const conv_plan *p)
{
    if (p->direct) return 0;
    size_t f = ((size_t)p->kdim + (size_t)s->cout) * p->ohw * (size_t)p->nb;
    f += (size_t)p->ntaps * p->ohw;
    if (p->pruned) f += 2 * (size_t)s->cout * p->kdim;
    return f;
}

/* The scratch is allocated memory without a declared type, so storing and
 * reading int32 in the taps slots is well defined. */
static conv_scratch split_scratch(float *work, const rn_conv_shape *s, const conv_plan *p)
{
    conv_scratch sc;
    const size_t cols = p->ohw * (size_t)p->nb;
    sc.col = work;
    sc.ybuf = sc.col + (size_t)p->kdim * cols;
    sc.taps = (int32_t *)(sc.ybuf + (size_t)s->cout * cols);
    sc.wlive = sc.dwlive = NULL;
    if (p->pruned) {
        sc.wlive = (float *)(sc.taps + (size_t)p->ntaps * p->ohw);
        sc.dwlive = sc.wlive + (size_t)s->cout * p->kdim;
    }
    return sc;
}

size_t rn_cpu_conv_work_floats(const rn_conv_shape *s, int n, int h, int w)
{
    conv_plan p = make_plan(s, n, h, w);
    return scratch_floats(s, &p);
}

/* Part 3: under bf16 the GEMMs multiply in bf16 where that is faster on
 * this machine (cpu_bf16_choice.c: AVX-512 BF16's vdpbf16ps, fp32 sums,
 * measured against the fp32 SGEMM), autocast's numerics in the hardware's
 * own 16-bit arithmetic rather than fp32 products of bf16 values.
 * RN_CPU_BF16_GEMM=on|off overrides the measurement. fp16 has no such
 * instruction (AVX-512 FP16 sums its products in fp16, not autocast's
 * fp32): its products stay fp32. */
static int bf16_products;

/* Called by every rn_model_set_precision, the first at the lab's set-up:
 * a bad RN_CPU_BF16_GEMM stops the run before any work; the measurement
 * waits for the first bf16 step. */
void rn_cpu_conv_math(int precision)
{
    rn_cpu_bf16_gemm_check_env();
    bf16_products = precision == RN_BF16 && rn_cpu_bf16_gemm_enabled();
}

int rn_cpu_conv_bf16_products(void)
{
    return bf16_products;
}

const char *rn_cpu_conv_algo(const rn_conv_shape *s, int n, int h, int w)
{
    conv_plan p = make_plan(s, n, h, w);
    if (bf16_products) {
        if (p.direct) return "1x1 direct + bf16 GEMM (AVX-512 BF16)";
        if (p.pruned) return "im2col (padding-only taps skipped) + bf16 GEMM (AVX-512 BF16)";
        return "im2col + bf16 GEMM (AVX-512 BF16)";
    }
    int blas = cs_gemm_best_cpu() == CS_GEMM_CBLAS;
    if (p.direct) return blas ? "1x1 direct + OpenBLAS SGEMM" : "1x1 direct + blocked SGEMM";
    if (p.pruned)
        return blas ? "im2col (padding-only taps skipped) + OpenBLAS SGEMM"
                    : "im2col (padding-only taps skipped) + blocked SGEMM";
    return blas ? "im2col + OpenBLAS SGEMM" : "im2col + blocked SGEMM";
}

static void gemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float beta,
                 float *c, int ldc)
{
    if (bf16_products && cs_gemm_bf16(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc) == 0) return;
    cs_gemm(cs_gemm_best_cpu(), ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

/* The tap table: for computed tap t = (ky, kx) and output pixel
 * q = oy*ow + ox, where in an input plane that tap reads (iy*w + ix), or -1
 * where it reads the zero padding. It is the same for every channel and
 * every image, so it is worked out once per call (ntaps*oh*ow entries) and
 * the copies below become plain indexed loops with no bounds arithmetic in
 * them. That matters deep in ResNet, where an image row is 1 to 4 pixels
 * long and per-row bookkeeping would cost more than the copying. */
static void build_taps(const rn_conv_shape *s, int h, int w, const conv_plan *p, int32_t *taps)
{
    for (int ky = p->ky0; ky < p->ky1; ky++)
        for (int kx = p->kx0; kx < p->kx1; kx++) {
            const int t = (ky - p->ky0) * (p->kx1 - p->kx0) + (kx - p->kx0);
            int32_t *row = taps + (size_t)t * p->ohw;
            for (int oy = 0; oy < p->oh; oy++)
                for (int ox = 0; ox < p->ow; ox++) {
                    const int iy = oy * s->stride - s->pad + ky;
                    const int ix = ox * s->stride - s->pad + kx;
                    const int inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                    row[oy * p->ow + ox] = inside ? iy * w + ix : -1;
                }
        }
}

/* col (kdim x nimg*ohw): row r = (ci, t), column i*ohw + q holds what tap t
 * of output pixel q of image i reads from channel ci. Rows are independent:
 * one thread fills whole rows. */
static void im2col(const rn_conv_shape *s, int h, int w, const conv_plan *p, int nimg, const float *x,
                   const int32_t *taps, float *col)
{
    const int ntaps = p->ntaps;
    const size_t ohw = p->ohw, ld = (size_t)nimg * ohw;
    const size_t plane = (size_t)h * w, image = (size_t)s->cin * plane;
#pragma omp parallel for schedule(static) if ((size_t)p->kdim * ld > RN_PAR_MIN)
    for (int r = 0; r < p->kdim; r++) {
        const int32_t *t = taps + (size_t)(r % ntaps) * ohw;
        const float *xc = x + (size_t)(r / ntaps) * plane;
        float *dst = col + (size_t)r * ld;
        for (int i = 0; i < nimg; i++) {
            const float *xi = xc + i * image;
            float *d = dst + i * ohw;
            for (size_t q = 0; q < ohw; q++) d[q] = t[q] >= 0 ? xi[t[q]] : 0.0f;
        }
    }
}

/* dx of nimg images := the sum of dcol's entries onto the pixels im2col took
 * them from (an input pixel feeds up to k*k output pixels). One thread owns
 * one (image, channel) plane of dx, and only that channel's rows of dcol add
 * into it, so no two threads write the same place. */
static void col2im(const rn_conv_shape *s, int h, int w, const conv_plan *p, int nimg, const float *dcol,
                   const int32_t *taps, float *dx)
{
    const int ntaps = p->ntaps, cin = s->cin;
    const size_t ohw = p->ohw, ld = (size_t)nimg * ohw, plane = (size_t)h * w;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)p->kdim * ld > RN_PAR_MIN)
    for (int i = 0; i < nimg; i++) {
        for (int ci = 0; ci < cin; ci++) {
            float *d = dx + ((size_t)i * cin + ci) * plane;
            memset(d, 0, plane * sizeof *d);
            for (int tap = 0; tap < ntaps; tap++) {
                const int32_t *t = taps + (size_t)tap * ohw;
                const float *src = dcol + (size_t)(ci * ntaps + tap) * ld + i * ohw;
                for (size_t q = 0; q < ohw; q++)
                    if (t[q] >= 0) d[t[q]] += src[q];
            }
        }
    }
}

/* y (nimg x cout x ohw) from the GEMM's layout (cout x nimg*ohw), and the
 * reverse for dy. */
static void scatter_images(int cout, size_t ohw, int nimg, const float *gemm_layout, float *nchw)
{
    const size_t ld = (size_t)nimg * ohw;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)cout * ld > RN_PAR_MIN)
    for (int i = 0; i < nimg; i++)
        for (int co = 0; co < cout; co++)
            memcpy(nchw + ((size_t)i * cout + co) * ohw, gemm_layout + (size_t)co * ld + i * ohw, ohw * sizeof(float));
}

static void gather_images(int cout, size_t ohw, int nimg, const float *nchw, float *gemm_layout)
{
    const size_t ld = (size_t)nimg * ohw;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)cout * ld > RN_PAR_MIN)
    for (int i = 0; i < nimg; i++)
        for (int co = 0; co < cout; co++)
            memcpy(gemm_layout + (size_t)co * ld + i * ohw, nchw + ((size_t)i * cout + co) * ohw, ohw * sizeof(float));
}

/* W (cout x cin x k x k) -> the columns of the computed taps, cout x kdim
 * (column ci*ntaps + t), and the reverse for dW, with zeros for the taps
 * that were not computed (their gradient is exactly zero). Both stream the
 * whole weight tensor (9 MiB in layer4), so they are memory-bound: one
 * thread per block of output channels, each writing in memory order. */
static void compact_weights(const rn_conv_shape *s, const conv_plan *p, const float *weight, float *wlive)
{
    const int k = s->k, cin = s->cin;
#pragma omp parallel for schedule(static) if ((size_t)s->cout * cin * k * k > RN_PAR_MIN)
    for (int co = 0; co < s->cout; co++) {
        float *dst = wlive + (size_t)co * cin * p->ntaps;
        for (int ci = 0; ci < cin; ci++) {
            const float *src = weight + ((size_t)co * cin + ci) * k * k;
            for (int ky = p->ky0; ky < p->ky1; ky++)
                for (int kx = p->kx0; kx < p->kx1; kx++) *dst++ = src[ky * k + kx];
        }
    }
}

/* dW from its computed taps: the others are zero (overwriting) or keep
 * what they hold (accumulating: their gradient is zero). An output
 * channel's block of dW is cleared at once and the computed taps stored
 * after, rather than a test per element of which kind it is: layer4's
 * blocks are 8/9 zeros, and the backward of one 512 x 512 x 3 x 3
 * convolution on 1 x 1 images (batch 32, 2 cores of an AMD EPYC) took
 * 3.7 ms with the test and takes 1.7 ms so. */
static void expand_weight_grad(const rn_conv_shape *s, const conv_plan *p, const float *dwlive, float *dweight)
{
    const int acc = rn_cpu_accumulate;
    const int k = s->k, cin = s->cin;
    const size_t kk = (size_t)k * k;
#pragma omp parallel for schedule(static) if ((size_t)s->cout * cin * kk > RN_PAR_MIN)
    for (int co = 0; co < s->cout; co++) {
        const float *src = dwlive + (size_t)co * cin * p->ntaps;
        float *block = dweight + (size_t)co * cin * kk;
        if (!acc) memset(block, 0, (size_t)cin * kk * sizeof *block);
        for (int ci = 0; ci < cin; ci++) {
            float *dst = block + (size_t)ci * kk;
            for (int ky = p->ky0; ky < p->ky1; ky++)
                for (int kx = p->kx0; kx < p->kx1; kx++) {
                    if (acc)
                        dst[ky * k + kx] += *src++;
                    else
                        dst[ky * k + kx] = *src++;
                }
        }
    }
}

/* Part 5's trade of memory for work (rn_cpu_conv_forward_keep): what a
 * forward keeps for its backward, laid out as
 *   wlive   cout x kdim               W's computed taps (only when pruned)
 *   col     kdim x nb*ohw per chunk   the chunks' patch matrices in turn,
 *                                     chunk at image n0 from kdim*n0*ohw */
size_t rn_cpu_conv_keep_floats(const rn_conv_shape *s, int n, int h, int w)
{
    conv_plan p = make_plan(s, n, h, w);
    if (p.direct || p.kdim == 0) return 0; /* no patch matrix to keep */
    return (p.pruned ? (size_t)s->cout * p.kdim : 0) + (size_t)p.kdim * p.ohw * (size_t)(n > 0 ? n : 0);
}

/* The forward as a GEMM per chunk of images; with `keep` the compact
 * weights and every chunk's col are written there and stay, else into the
 * scratch, which the next convolution reuses. */
static void forward_gemms(const rn_conv_shape *s, const conv_plan *p, int n, int h, int w, const float *x,
                          const float *weight, float *y, float *work, float *keep)
{
    const size_t x_img = (size_t)s->cin * h * w, y_img = (size_t)s->cout * p->ohw;
    const conv_scratch sc = split_scratch(work, s, p);
    build_taps(s, h, w, p, sc.taps);
    const float *wmat = weight; /* cout x kdim */
    float *kept_col = keep;
    if (p->pruned) {
        float *wlive = keep ? keep : sc.wlive;
        compact_weights(s, p, weight, wlive);
        wmat = wlive;
        kept_col = keep ? keep + (size_t)s->cout * p->kdim : NULL;
    }
    for (int n0 = 0; n0 < n; n0 += p->nb) {
        const int nimg = n - n0 < p->nb ? n - n0 : p->nb;
        const int cols = (int)((size_t)nimg * p->ohw);
        float *col = keep ? kept_col + (size_t)p->kdim * n0 * p->ohw : sc.col;
        im2col(s, h, w, p, nimg, x + n0 * x_img, sc.taps, col);
        /* One image: the GEMM layout is already NCHW, write y directly. */
        float *out = nimg == 1 ? y + n0 * y_img : sc.ybuf;
        gemm(0, 0, s->cout, cols, p->kdim, wmat, p->kdim, col, cols, 0.0f, out, cols);
        if (nimg > 1) scatter_images(s->cout, p->ohw, nimg, sc.ybuf, y + n0 * y_img);
    }
}

/* The forward without any patch matrix to build: 1x1 direct, or every tap
 * reading padding. Returns 0 when the shape needs the GEMMs above. */
static int forward_without_col(const rn_conv_shape *s, const conv_plan *p, int n, int h, int w, const float *x,
                               const float *weight, float *y)
{
    const size_t x_img = (size_t)s->cin * h * w, y_img = (size_t)s->cout * p->ohw;
    if (p->direct) {
        /* y_n (cout x hw) = W (cout x cin) * x_n (cin x hw), straight into y. */
        for (int i = 0; i < n; i++)
            gemm(0, 0, s->cout, (int)p->ohw, s->cin, weight, s->cin, x + i * x_img, (int)p->ohw, 0.0f, y + i * y_img,
                 (int)p->ohw);
        return 1;
    }
    if (p->kdim == 0) { /* every tap reads padding: y = 0 */
        memset(y, 0, (size_t)n * y_img * sizeof *y);
        return 1;
    }
    return 0;
}

void rn_cpu_conv_forward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                         float *work)
{
    const conv_plan p = make_plan(s, n, h, w);
    if (!forward_without_col(s, &p, n, h, w, x, weight, y)) forward_gemms(s, &p, n, h, w, x, weight, y, work, NULL);
}

void rn_cpu_conv_forward_keep(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                              float *y, float *work, float *keep)
{
    const conv_plan p = make_plan(s, n, h, w);
    if (!forward_without_col(s, &p, n, h, w, x, weight, y)) forward_gemms(s, &p, n, h, w, x, weight, y, work, keep);
}

/* The backward of the shapes forward_without_col runs: 1x1 direct (two
 * GEMMs per image) or nothing to differentiate. Returns 0 otherwise. */
static int backward_without_col(const rn_conv_shape *s, const conv_plan *p, int n, int h, int w, const float *x,
                                const float *weight, const float *dy, float *dx, float *dweight)
{
    const size_t x_img = (size_t)s->cin * h * w, y_img = (size_t)s->cout * p->ohw;
    const size_t wsize = (size_t)s->cout * s->cin * s->k * s->k;
    if (n <= 0 || (!p->direct && p->kdim == 0)) {
        /* No images, or every tap reads padding: y did not depend on W or x. */
        if (!rn_cpu_accumulate) memset(dweight, 0, wsize * sizeof *dweight);
        if (dx != NULL) memset(dx, 0, (size_t)(n > 0 ? n : 0) * x_img * sizeof *dx);
        return 1;
    }
    if (!p->direct) return 0;
    for (int i = 0; i < n; i++) {
        /* dW (cout x cin) += dy_n (cout x hw) * x_n^T (hw x cin) */
        gemm(0, 1, s->cout, s->cin, (int)p->ohw, dy + i * y_img, (int)p->ohw, x + i * x_img, (int)p->ohw,
             i == 0 && !rn_cpu_accumulate ? 0.0f : 1.0f, dweight, s->cin);
        /* dx_n (cin x hw) = W^T (cin x cout) * dy_n (cout x hw) */
        if (dx != NULL)
            gemm(1, 0, s->cin, (int)p->ohw, s->cout, weight, s->cin, dy + i * y_img, (int)p->ohw, 0.0f, dx + i * x_img,
                 (int)p->ohw);
    }
    return 1;
}

/* The backward's GEMMs per chunk. Without `kept` each chunk's col is built
 * again from x and the weights compacted again; with it, both are read
 * from what the forward kept (the same values: x and W have not changed
 * since), and dcol goes to the scratch instead of over col. A shape that
 * leaves taps out gets its dW compact: into `dwlive` when given (fresh,
 * not expanded), else into the scratch and then expanded into dweight. */
static void backward_gemms(const rn_conv_shape *s, const conv_plan *p, int n, int h, int w, const float *x,
                           const float *weight, const float *dy, float *dx, float *dweight, float *work,
                           const float *kept, float *dwlive)
{
    const size_t x_img = (size_t)s->cin * h * w, y_img = (size_t)s->cout * p->ohw;
    const conv_scratch sc = split_scratch(work, s, p);
    build_taps(s, h, w, p, sc.taps);
    const float *wmat = weight, *kept_col = kept; /* wmat: cout x kdim */
    float *dwmat = dweight;
    if (p->pruned) {
        if (kept) {
            wmat = kept;
            kept_col = kept + (size_t)s->cout * p->kdim;
        } else {
            compact_weights(s, p, weight, sc.wlive);
            wmat = sc.wlive;
        }
        dwmat = dwlive ? dwlive : sc.dwlive;
    }
    for (int n0 = 0; n0 < n; n0 += p->nb) {
        const int nimg = n - n0 < p->nb ? n - n0 : p->nb;
        const int cols = (int)((size_t)nimg * p->ohw);
        const float *col = sc.col;
        if (kept)
            col = kept_col + (size_t)p->kdim * n0 * p->ohw;
        else
            im2col(s, h, w, p, nimg, x + n0 * x_img, sc.taps, sc.col);
        const float *dyc = dy + n0 * y_img; /* one image: already the GEMM layout */
        if (nimg > 1) {
            gather_images(s->cout, p->ohw, nimg, dyc, sc.ybuf);
            dyc = sc.ybuf;
        }
        /* dW (cout x kdim) += dy (cout x cols) * col^T (cols x kdim): the sum
         * over images is the GEMM's own reduction, across chunks beta = 1. */
        const int add = n0 > 0 || (rn_cpu_accumulate && !p->pruned); /* pruned: the compact dW is fresh */
        gemm(0, 1, s->cout, p->kdim, cols, dyc, cols, col, cols, add ? 1.0f : 0.0f, dwmat, p->kdim);
        if (dx != NULL) {
            /* dcol (kdim x cols) = W^T * dy, into the scratch's col (built
             * there, it is no longer needed; kept, it is unused). */
            gemm(1, 0, p->kdim, cols, s->cout, wmat, p->kdim, dyc, cols, 0.0f, sc.col, cols);
            col2im(s, h, w, p, nimg, sc.col, sc.taps, dx + n0 * x_img);
        }
    }
    if (p->pruned && !dwlive) expand_weight_grad(s, p, sc.dwlive, dweight);
}

void rn_cpu_conv_backward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                          const float *dy, float *dx, float *dweight, float *work)
{
    const conv_plan p = make_plan(s, n, h, w);
    if (!backward_without_col(s, &p, n, h, w, x, weight, dy, dx, dweight))
        backward_gemms(s, &p, n, h, w, x, weight, dy, dx, dweight, work, NULL, NULL);
}

void rn_cpu_conv_backward_kept(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                               const float *dy, float *dx, float *dweight, float *work, const float *kept)
{
    const conv_plan p = make_plan(s, n, h, w);
    if (!backward_without_col(s, &p, n, h, w, x, weight, dy, dx, dweight))
        backward_gemms(s, &p, n, h, w, x, weight, dy, dx, dweight, work, kept, NULL);
}

/* ---- Part 5: layer4's live taps, kept compact through the step ------------------ */

/* Where a shape leaves taps out (layer4 at 32 x 32: 62% of ResNet-18's
 * parameters are taps that only ever multiply padding), their gradient is
 * zero at every step, and so are Adam's moments for them, which start at
 * zero: Adam leaves those weights exactly as they are, yet eager's Adam
 * streams them, their gradient written as zeros by the backward first. The
 * fused step keeps the computed taps' gradient and moments compact
 * (cout x kdim, the layout of the compact weights) and updates only them.
 * rn_cpu_conv_live_floats: that size, 0 where no tap is left out. */
size_t rn_cpu_conv_live_floats(const rn_conv_shape *s, int h, int w)
{
    conv_plan p = make_plan(s, 1, h, w);
    return !p.direct && p.pruned && p.kdim > 0 ? (size_t)s->cout * p.kdim : 0;
}

/* The dense index of compact element j (output channel, input channel,
 * computed tap) in a cout x cin x k x k tensor. */
static size_t live_to_dense(const rn_conv_shape *s, const conv_plan *p, size_t j)
{
    const int kw = p->kx1 - p->kx0;
    const size_t t = j % (size_t)p->ntaps, cc = j / (size_t)p->ntaps; /* cc = co * cin + ci */
    const int ky = p->ky0 + (int)(t / (size_t)kw), kx = p->kx0 + (int)(t % (size_t)kw);
    return cc * (size_t)s->k * s->k + (size_t)ky * s->k + kx;
}

void rn_cpu_conv_live_copy(const rn_conv_shape *s, int h, int w, const float *src, float *dst, int dir)
{
    const conv_plan p = make_plan(s, 1, h, w);
    const size_t n = (size_t)s->cout * p.kdim, kk = (size_t)s->k * s->k;
    if (dir == RN_LIVE_EXPAND) memset(dst, 0, (size_t)s->cout * s->cin * kk * sizeof *dst);
#pragma omp parallel for schedule(static) if (n > RN_PAR_MIN)
    for (size_t j = 0; j < n; j++) {
        const size_t d = live_to_dense(s, &p, j);
        if (dir == RN_LIVE_GATHER)
            dst[j] = src[d];
        else
            dst[d] = src[j];
    }
}

int rn_cpu_conv_live_dead_zero(const rn_conv_shape *s, int h, int w, const float *dense)
{
    const conv_plan p = make_plan(s, 1, h, w);
    const size_t kk = (size_t)s->k * s->k, total = (size_t)s->cout * s->cin * kk;
    int zero = 1;
#pragma omp parallel for schedule(static) reduction(&& : zero) if (total > RN_PAR_MIN)
    for (size_t i = 0; i < total; i++) {
        const int ky = (int)(i % kk) / s->k, kx = (int)(i % kk) % s->k;
        const int live = ky >= p.ky0 && ky < p.ky1 && kx >= p.kx0 && kx < p.kx1;
        zero = zero && (live || dense[i] == 0.0f);
    }
    return zero;
}

void rn_cpu_conv_backward_kept_live(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                    const float *dy, float *dx, float *dwlive, float *work, const float *kept)
{
    const conv_plan p = make_plan(s, n, h, w);
    const size_t nlive = (size_t)s->cout * p.kdim;
    if (n <= 0) { /* no images: no gradient */
        if (!rn_cpu_accumulate) memset(dwlive, 0, nlive * sizeof *dwlive);
        return;
    }
    /* The kept backward with layer4's expansion left out: its compact dW
     * straight into dwlive, or, while accumulating, fresh into the scratch
     * and added (as the expansion adds to dW: the same additions). */
    if (!rn_cpu_accumulate) {
        backward_gemms(s, &p, n, h, w, x, weight, dy, dx, NULL, work, kept, dwlive);
        return;
    }
    float *fresh = split_scratch(work, s, &p).dwlive;
    backward_gemms(s, &p, n, h, w, x, weight, dy, dx, NULL, work, kept, fresh);
#pragma omp parallel for simd schedule(static) if (nlive > RN_PAR_MIN)
    for (size_t j = 0; j < nlive; j++) dwlive[j] += fresh[j];
}

void rn_cpu_conv_adam_live(const rn_conv_shape *s, int h, int w, float *param, const float *glive, float *mlive,
                           float *vlive, float lr, float b1, float b2, float eps, int t)
{
    const conv_plan p = make_plan(s, 1, h, w);
    rn_cpu_adam_taps((size_t)s->cout * s->cin, s->k, p.ky0, p.ky1, p.kx0, p.kx1, param, glive, mlive, vlive, lr, b1, b2,
                     eps, t);
}
