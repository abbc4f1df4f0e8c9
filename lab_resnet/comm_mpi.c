/* comm.h on MPI. Float sums are MPI_FLOAT with MPI_SUM on MPI_COMM_WORLD's
 * sub-communicators; buffers larger than INT_MAX floats do not occur (the
 * largest bucket is tens of megabytes) and are refused. */
#include "comm.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_console.h"
#include "cs_memory.h"

#define RN_MAX_REQUESTS 256

static MPI_Request requests[RN_MAX_REQUESTS];
static int request_used[RN_MAX_REQUESTS];
static char engine[128];
static int local_rank, local_size = 1;

int rn_comm_init(int *argc, char ***argv)
{
    int provided = 0;
    /* One thread calls MPI (the training thread); OpenMP's team never does. */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        cs_error("MPI_Init_thread failed");
        return 3;
    }
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    version[strcspn(version, ",\n")] = '\0'; /* "Open MPI v4.1.4, package: ..." */
    snprintf(engine, sizeof engine, "%.120s", version);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &local_rank);
    MPI_Comm_size(local, &local_size);
    MPI_Comm_free(&local);
    return 0;
}

int rn_comm_local_rank(void)
{
    return local_rank;
}

int rn_comm_local_size(void)
{
    return local_size;
}

void rn_comm_finalize(void)
{
    MPI_Finalize();
}

void rn_comm_abort(int code)
{
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

int rn_comm_rank(void)
{
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int rn_comm_size(void)
{
    int s = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

int rn_comm_built(void)
{
    return 1;
}

const char *rn_comm_engine(void)
{
    return engine;
}

void rn_group_open(rn_group *g, int k)
{
    memset(g, 0, sizeof *g);
    int world = rn_comm_rank();
    MPI_Comm c = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, world < k ? 0 : MPI_UNDEFINED, world, &c);
    g->rank = -1;
    g->size = k;
    if (c == MPI_COMM_NULL) return;
    MPI_Comm *h = cs_alloc(sizeof *h, "communicator");
    *h = c;
    g->handle = h;
    MPI_Comm_rank(c, &g->rank);
    MPI_Comm local;
    MPI_Comm_split_type(c, MPI_COMM_TYPE_SHARED, g->rank, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &g->local_size);
    MPI_Comm_free(&local);
}

void rn_group_close(rn_group *g)
{
    if (g->handle) {
        MPI_Comm_free((MPI_Comm *)g->handle);
        cs_free(g->handle);
    }
    memset(g, 0, sizeof *g);
}

static MPI_Comm comm_of(const rn_group *g)
{
    if (!g->handle) {
        cs_error("internal: a collective on a group this rank is not in");
        rn_comm_abort(3);
    }
    return *(MPI_Comm *)g->handle;
}

static int count_of(size_t n)
{
    if (n > (size_t)INT_MAX) {
        cs_error("internal: %zu floats in one reduction (at most %d)", n, INT_MAX);
        rn_comm_abort(3);
    }
    return (int)n;
}

void rn_group_allreduce(const rn_group *g, float *buf, size_t n)
{
    MPI_Allreduce(MPI_IN_PLACE, buf, count_of(n), MPI_FLOAT, MPI_SUM, comm_of(g));
}

int rn_group_iallreduce(const rn_group *g, float *buf, size_t n)
{
    for (int i = 0; i < RN_MAX_REQUESTS; i++) {
        if (request_used[i]) continue;
        request_used[i] = 1;
        MPI_Iallreduce(MPI_IN_PLACE, buf, count_of(n), MPI_FLOAT, MPI_SUM, comm_of(g), &requests[i]);
        return i;
    }
    cs_error("internal: more than %d reductions in flight", RN_MAX_REQUESTS);
    rn_comm_abort(3);
    return -1;
}

int rn_request_test(int request)
{
    if (!request_used[request]) return 1;
    int done = 0;
    MPI_Test(&requests[request], &done, MPI_STATUS_IGNORE);
    if (done) request_used[request] = 0;
    return done;
}

void rn_request_wait(int request)
{
    if (!request_used[request]) return;
    MPI_Wait(&requests[request], MPI_STATUS_IGNORE);
    request_used[request] = 0;
}

void rn_group_bcast(const rn_group *g, void *buf, size_t bytes)
{
    MPI_Bcast(buf, count_of(bytes), MPI_BYTE, 0, comm_of(g));
}

void rn_group_sum(const rn_group *g, double *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, comm_of(g));
}

void rn_group_max(const rn_group *g, double *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, comm_of(g));
}

int rn_group_agree(const rn_group *g, uint64_t x)
{
    uint64_t lo = x, hi = x;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, comm_of(g));
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, comm_of(g));
    return lo == x && hi == x;
}

void rn_comm_meet(void)
{
    MPI_Request r;
    MPI_Ibarrier(MPI_COMM_WORLD, &r);
    int done = 0;
    const struct timespec nap = {0, 200000}; /* 0.2 ms */
    for (;;) {
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (done) break;
        nanosleep(&nap, NULL);
    }
}
