/* Adam's bias correction 1 - b^t, written once for every GPU Adam: the
 * host's (rn_gpu_adam, the multi-tensor launch) and the device's (the
 * device-side skip and the CUDA graph, whose step count lives on the GPU).
 * b^t by squaring in double, multiplications only: each is correctly
 * rounded in IEEE double on both sides, where CUDA's pow and glibc's may
 * differ in the last place, so a step whose count the device reads updates
 * the weights to the same bits as one whose count the host passes. Then
 * rounded to float once. (t in the thousands: about 12 products, error far
 * below float's resolution.) */
#ifndef RN_ADAM_BIAS_H
#define RN_ADAM_BIAS_H

#ifndef RN_HOST_DEVICE
#ifdef __CUDACC__
#define RN_HOST_DEVICE __host__ __device__
#else
#define RN_HOST_DEVICE
#endif
#endif

static inline RN_HOST_DEVICE float rn_adam_bias_correction(double b, int t)
{
    double power = 1.0, square = b;
    for (unsigned e = t > 0 ? (unsigned)t : 0u; e != 0u; e >>= 1) {
        if (e & 1u) power *= square;
        square *= square;
    }
    return (float)(1.0 - power);
}

#endif
