/* comm_nccl.h without NCCL: no GPU is picked, so ddp's ranks train on the
 * CPU over MPI and nothing else here is called. */
#include "comm_nccl.h"

#include <stdio.h>

#include "cs_console.h"

int rn_nccl_built(void)
{
    return 0;
}

int rn_nccl_pick_device(int local_rank, char *why, size_t len)
{
    (void)local_rank;
    if (why) snprintf(why, len, "built without NCCL (the CUDA toolkit's NCCL was not found)");
    return 0;
}

static void unreachable(void)
{
    cs_error("internal: an NCCL call in a build without NCCL");
    rn_comm_abort(3);
}

void rn_nccl_open(rn_group *g)
{
    (void)g;
    unreachable();
}

void rn_nccl_close(rn_group *g)
{
    (void)g;
}

void rn_nccl_allreduce(const rn_group *g, float *dev, size_t n, int side)
{
    (void)g, (void)dev, (void)n, (void)side;
    unreachable();
}

void rn_nccl_copy(float *dst, const float *src, size_t n)
{
    (void)dst, (void)src, (void)n;
    unreachable();
}

void rn_nccl_side_after_compute(void)
{
    unreachable();
}

void rn_nccl_compute_after_side(void)
{
    unreachable();
}

void rn_nccl_take_times(double *comm_s, double *copy_s)
{
    *comm_s = *copy_s = 0;
}

void rn_nccl_time_allreduce(const rn_group *g, size_t floats, int reps, double *times)
{
    (void)g, (void)floats, (void)reps, (void)times;
    unreachable();
}
