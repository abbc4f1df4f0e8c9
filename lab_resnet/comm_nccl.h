/* NCCL between GPUs for `lab_resnet ddp` (comm_nccl.cu, built when the CUDA
 * toolkit's NCCL is found; comm_nccl_none.c otherwise): one rank per GPU,
 * the communicator's id sent from rank 0 over MPI (comm.h), every call
 * enqueued on a stream and returning at once. The backend's stream is the
 * compute stream; a side stream carries the overlapped all-reduces.
 *
 * Times are CUDA events around each all-reduce and bucket copy on the
 * compute stream, and around the compute stream's wait for the side
 * stream (the overlapped all-reduces' exposed part), read after the device
 * has finished them (rn_nccl_take_times). The stream and events go with the
 * last communicator (rn_nccl_close). */
#ifndef RN_COMM_NCCL_H
#define RN_COMM_NCCL_H

#include <stddef.h>

#include "comm.h"

/* 1 when built with NCCL. */
int rn_nccl_built(void);
/* The GPUs this process sees, after making GPU (local_rank modulo their
 * count) its device: call it before any other CUDA call. 0: none (why
 * says why, when not NULL). */
int rn_nccl_pick_device(int local_rank, char *why, size_t len);
/* NCCL's communicator for g's members (every member calls it). */
void rn_nccl_open(rn_group *g);
void rn_nccl_close(rn_group *g);
/* Sum over g's members of n floats at dev (device memory), in place, on the
 * compute stream (side 0) or the side stream (side 1). */
void rn_nccl_allreduce(const rn_group *g, float *dev, size_t n, int side);
/* n floats from src to dst, both device memory, on the compute stream. */
void rn_nccl_copy(float *dst, const float *src, size_t n);
/* The side stream waits for what the compute stream holds so far, or the
 * compute stream for what the side stream holds. */
void rn_nccl_side_after_compute(void);
void rn_nccl_compute_after_side(void);
/* Seconds of the all-reduces and of the copies enqueued since the last call
 * (each pair of events waited for). */
void rn_nccl_take_times(double *comm_s, double *copy_s);
/* reps all-reduces of `floats` floats on all of g's members, each one's
 * seconds in times[] (events), after one untimed. */
void rn_nccl_time_allreduce(const rn_group *g, size_t floats, int reps, double *times);

#endif
