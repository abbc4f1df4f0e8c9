/* Part 5's graph rung: the training step (forward, loss, backward, the
 * optimizer) captured once as a CUDA graph and replayed, torch.compile's
 * mode="reduce-overhead" (CUDA graphs) written by hand.
 *
 * Everything the step reads or changes per step lives on the device: the
 * loss and the correct count (read after the replay, as the lab's
 * loss.item()), Adam's step count and bias corrections
 * (rn_model_adam_step_device), and under fp16 GradScaler's scale and
 * found-inf flag (grad_scaler.h's device-side skip). The first full batch
 * runs the step as it is (it sizes every scratch buffer and makes cuDNN's
 * plans: nothing may allocate inside a capture); the next batch in each
 * input slot captures the graph that reads that slot; the rest replay. A
 * short last batch runs as it is. The host's own counters (batch norm's
 * num_batches_tracked, the scaler's steps), which the capture advanced
 * once, are advanced by the replays at the end. */
#ifndef RN_GRAPH_STEP_H
#define RN_GRAPH_STEP_H

#include "grad_scaler.h"
#include "model.h"

/* Why a CPU has no graph rung (the rows' skip line). */
#define RN_GRAPH_CPU_SKIP "a CUDA graph replays GPU launches; a CPU step has none to save"

typedef struct {
    rn_grad_scaler *scaler;   /* the device-side state: fp16's scaler, or in fp32 `own` */
    int amp;                  /* the loss scaled and the step skipped on inf (fp16) */
    rn_grad_scaler own;       /* fp32: its device state holds Adam's step count alone */
    int warm;                 /* a full batch ran: every buffer sized */
    int replays;              /* launches of a graph captured in an earlier step */
    int graph[RN_MAX_GRAPHS]; /* per input slot: the backend's graph id, or -1 */
} rn_graph_run;

/* Before the epoch: returns 0, or -1 with *why saying why this run cannot
 * be a graph (no graph support in the backend, gradient accumulation). The
 * optimizer's state moves to the device. */
int rn_graph_run_start(rn_graph_run *g, rn_model *m, rn_grad_scaler *scaler, int accum, const char **why);
/* One training step on the batch in the model's input: returns 0, or -1
 * when the capture failed (said on stderr). */
int rn_graph_run_step(rn_graph_run *g, rn_model *m);
/* After the epoch: the optimizer's state back on the host (m->adam_t, the
 * scaler's), the graphs dropped. */
void rn_graph_run_end(rn_graph_run *g, rn_model *m);

#endif
