/* float32 to bfloat16, the rule every bf16 conversion of the suite uses
 * (the lab's storage and rounding, the bf16 GEMM's packers): float32's
 * upper 16 bits rounded to nearest even with integer arithmetic on the
 * bits; overflow reaches infinity; a NaN stays a NaN (quiet). Inline so
 * that loops over it vectorise. */
#ifndef CS_BF16_H
#define CS_BF16_H

#include <stdint.h>
#include <string.h>

static inline uint16_t cs_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40u); /* NaN: quiet */
    /* Adding 0x7FFF, plus 1 when the kept part is odd, carries into the
     * upper half exactly when the lower half is past (or at, for odd) the
     * halfway point: round to nearest even. */
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

#endif
