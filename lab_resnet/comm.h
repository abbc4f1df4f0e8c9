/* The ranks of a data-parallel run (`lab_resnet ddp`) and the collectives
 * they use, on a real engine: MPI (Open MPI from Debian) when the lab is
 * built with it (comm_mpi.c); without it, one rank whose collectives have
 * nothing to exchange (comm_none.c). A process started without mpirun is
 * the one-rank case either way.
 *
 * A group is the first k ranks of the run (k = the run's size for the
 * ladder; 1..size for the scaling rows): every rank calls rn_group_open,
 * the ranks outside it get rank -1 and call nothing on it. */
#ifndef RN_COMM_H
#define RN_COMM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    void *handle; /* the engine's communicator (NULL: one rank, or not a member) */
    int rank;     /* in the group; -1: not a member */
    int size;
    int local_size; /* members on this machine (the cores are shared among them) */
    void *nccl;     /* NCCL's communicator for the members, on GPUs (comm_nccl.h), or NULL */
} rn_group;

/* Starts the engine (MPI_Init_thread). Returns 0, or 3 with one line. */
int rn_comm_init(int *argc, char ***argv);
void rn_comm_finalize(void);
/* Ends every rank's process (MPI_Abort) with `code`: for an error on one
 * rank that the others would otherwise wait for in a collective. */
void rn_comm_abort(int code);
int rn_comm_rank(void);
int rn_comm_size(void);
/* This rank's place among the ranks on its machine (which GPU it takes). */
int rn_comm_local_rank(void);
/* The ranks on this machine. */
int rn_comm_local_size(void);
/* 1 when built with MPI. */
int rn_comm_built(void);
/* The engine, e.g. "Open MPI v4.1.4" (the first line of its version), or
 * "none (built without MPI)". */
const char *rn_comm_engine(void);

void rn_group_open(rn_group *g, int k);
void rn_group_close(rn_group *g);

/* Sum over the group's members, in place, every member getting the same
 * bits (blocking). */
void rn_group_allreduce(const rn_group *g, float *buf, size_t n);
/* The same, started without waiting (MPI_Iallreduce); returns a request
 * for rn_request_test / rn_request_wait. Every member starts the same
 * reductions in the same order. */
int rn_group_iallreduce(const rn_group *g, float *buf, size_t n);
/* 1 when done (and the request freed). Calling it is also what lets MPI
 * move a started reduction along: Open MPI has no progress thread. */
int rn_request_test(int request);
void rn_request_wait(int request);
/* Group rank 0's bytes to every member. */
void rn_group_bcast(const rn_group *g, void *buf, size_t bytes);
/* Element-wise sum and maximum of n doubles over the members, in place. */
void rn_group_sum(const rn_group *g, double *v, int n);
void rn_group_max(const rn_group *g, double *v, int n);
/* 1 when every member passed the same x. */
int rn_group_agree(const rn_group *g, uint64_t x);

/* Every rank of the run meets here; the ranks that arrive early sleep
 * instead of spinning (Open MPI's waits spin, and a spinning idle rank would
 * take a core from the ranks still training). */
void rn_comm_meet(void);

#endif
