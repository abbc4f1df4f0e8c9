/* Low-precision storage for Part 3 (mixed precision): float32 to and from
 * IEEE half (fp16) and bfloat16 (bf16), round to nearest, ties to even.
 *
 * On the CPU the lab's AMP is a storage precision: this EPYC has AVX2, FMA
 * and F16C but no AVX-512 BF16 and no AMX, and Debian's OpenBLAS has no
 * bf16 GEMM, so activations and weights are kept in 16 bits and widened to
 * float32 for the arithmetic. The array conversions use F16C where the
 * compiler targets it (-march=native on a CPU that has it); the scalar ones
 * are the reference they are tested against, bit for bit. */
#ifndef RN_PRECISION_H
#define RN_PRECISION_H

#include <stddef.h>
#include <stdint.h>

/* The precision a training step computes in (--precision). fp32 is Part
 * 1's; fp16 and bf16 are autocast's: convolutions and the linear layer on
 * low-precision copies of the fp32 weights, their outputs and the
 * activations between layers rounded to it, the loss in fp32. tf32 is a
 * math mode, not a storage: fp32 tensors, with the convolutions' products
 * on TF32 tensor cores (10-bit mantissas in, fp32 sums; NVIDIA GPUs from
 * Ampere on: PyTorch's default for convolutions there); no CPU has it. */
typedef enum { RN_FP32, RN_FP16, RN_BF16, RN_TF32 } rn_precision;
const char *rn_precision_name(rn_precision p);
/* 0 and *p set for "fp32", "fp16", "bf16"; -1 otherwise. */
int rn_precision_parse(const char *name, rn_precision *p);

/* One value, the reference rules:
 *  fp16: 1 sign, 5 exponent, 10 fraction bits; the largest finite 65504,
 *        the smallest subnormal 2^-24. Rounds to nearest even; a value at or
 *        past 65520 (halfway to 2^16) becomes infinity; below 2^-25 zero;
 *        NaN stays NaN (quiet, the payload's top bits kept).
 *  bf16: float32's upper 16 bits rounded to nearest even (integer
 *        arithmetic on the bits); the same range as float32, 8 bits of
 *        precision; NaN stays NaN (quiet). */
uint16_t rn_f32_to_f16(float f);
float rn_f16_to_f32(uint16_t h);
uint16_t rn_f32_to_bf16(float f);
float rn_bf16_to_f32(uint16_t h);

/* n values at once (F16C for fp16 where available; a loop the compiler
 * vectorises for bf16). The same results as the scalar functions. */
void rn_f32_to_f16_n(const float *src, uint16_t *dst, size_t n);
void rn_f16_to_f32_n(const uint16_t *src, float *dst, size_t n);
void rn_f32_to_bf16_n(const float *src, uint16_t *dst, size_t n);
void rn_bf16_to_f32_n(const uint16_t *src, float *dst, size_t n);

/* dst[i] = src[i] rounded to the precision and widened back (in place when
 * dst == src): the values an fp16 or bf16 tensor holds, kept as float. */
void rn_round_to(size_t n, const float *src, float *dst, rn_precision p);

/* The 16-bit storage of an fp16 or bf16 tensor (Part 3's saved
 * activations): pack writes each value's fp16 or bf16 bits (rounded to
 * nearest even; exact for values rn_round_to already gave), unpack widens
 * them back to float. p is RN_FP16 or RN_BF16. */
void rn_pack(size_t n, const float *src, uint16_t *dst, rn_precision p);
void rn_unpack(size_t n, const uint16_t *src, float *dst, rn_precision p);

/* 1 when the fp16 array conversions use F16C instructions in this build. */
int rn_f16_hardware(void);

#endif
