/* The distributed-profiling lab's words, files and charts (rank 0), every
 * figure from this run's measurements (see ddp.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "cs_console.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_report.h"
#include "ddp_state.h"
#include "lab_rungs.h"

/* The run's rows that ran with all ranks: the communication's share of the
 * step. */
static double overhead(const rn_ddp_row *r)
{
    return r->step_s > 0 ? (r->comm_s + r->copy_s) / r->step_s : NAN;
}

static char *ms(double s, char *buf)
{
    return cs_format_time(s, buf, 32);
}

void rn_ddp_say_setup(const rn_ddp_state *s)
{
    const rn_group *all = rn_ddp_all(s);
    char b[2][32];
    cs_say("  Data-parallel training: %d rank%s (%s), %d on this machine of %d cores.\n", s->world,
           s->world == 1 ? "" : "s", rn_comm_engine(), all->local_size, s->cores);
    if (s->world == 1)
        cs_say("  One rank: the all-reduces have nothing to add. Run it as mpirun -np 2 %s ddp (or more) for\n"
               "  the lesson; the one-rank run still checks the step and its shards.\n",
               RN_PROG);
    cs_say("  Global batch %d: each rank loads its shard (%d or %d images) of the same global batches,\n"
           "  %d per run, the same samples and crops whatever the number of ranks.\n",
           s->lab->a->batch, s->lab->a->batch / s->world, (s->lab->a->batch + s->world - 1) / s->world,
           s->lab->epoch_batches);
    cs_say("  Gradients: %d tensors, %s; buckets of %d MiB (the first 1 MiB): %d of them.\n", s->plan.ntensors,
           cs_format_bytes((double)s->grad_bytes, b[0], 32), s->lab->a->bucket_mb, s->plan.nbuckets);
    cs_say("  Batch norm: each rank's statistics over its shard (DDP's default), rank 0's running\n"
           "  statistics broadcast before each step (broadcast_buffers).\n"
           "  %s\n",
           rn_ddp_device_note());
    if (s->have_fit)
        cs_say("  The all-reduce on %d ranks, measured from %s to %s: %s latency, %.2f GB/s for the\n"
               "  large ones (the line through it, alpha-beta below).\n",
               all->size, cs_format_bytes(s->fit.bytes[0], b[0], 32),
               cs_format_bytes(s->fit.bytes[s->fit.n - 1], b[1], 32), ms(s->fit.intercept_s, (char[32]){0}),
               s->fit.slope_s_per_byte > 0 ? 1e-9 / s->fit.slope_s_per_byte : NAN);
}

static void say_row(const char *name, const rn_ddp_row *r)
{
    const cs_stats *st = &r->rung.timing.time;
    char b[7][32];
    cs_say("  %-11s %d rank%s x %d thr  run %8s (%s..%s)  %7.1f images/s\n"
           "              per batch %s: compute %s, communication %s, copies %s (%4.1f%%); %d calls a step\n",
           name, r->ranks, r->ranks == 1 ? " " : "s", r->threads, ms(st->median, b[0]), ms(st->min, b[1]),
           ms(st->max, b[2]), r->images_per_s, ms(r->step_s, b[3]), ms(r->compute_s, b[4]), ms(r->comm_s, b[5]),
           ms(r->copy_s, b[6]), 100.0 * overhead(r), r->reductions);
}

void rn_ddp_say_rows(const rn_ddp_state *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (s->ran[i]) say_row(rn_ddp_rows[i], &s->rows[i]);
        if (s->skip[i]) cs_say("  %s: %s\n", rn_ddp_rows[i], s->skip[i]);
    }
}

void rn_ddp_say_profile(const rn_ddp_state *s)
{
    cs_step(2, "Initial profiling: compute against communication");
    if (s->lab->on_gpu)
        cs_say("  Rank 0's clock around every step; communication is NCCL's all-reduces on the compute\n"
               "  stream and, for overlapped, the compute stream's wait for the side stream (the part the\n"
               "  overlap left exposed), from CUDA events, with the buffers' broadcast over MPI; copies\n"
               "  the gradients' trips into and out of the buckets (events too), compute the rest.\n");
    else
        cs_say("  Rank 0's clock around every step; communication is the time inside MPI's calls (the\n"
               "  all-reduces, their waits, the buffers' broadcast: the 'ddp' regions of trace.json),\n"
               "  copies the gradients' trips into and out of the buckets, compute the rest.\n");
    rn_ddp_say_rows(s, DDP_SINGLE, DDP_BUCKETED);
}

/* What the alpha-beta line predicts for one step of `kind`: a ring
 * all-reduce per tensor or per bucket. */
static double predicted_comm(const rn_ddp_state *s, rn_sync_kind kind)
{
    const rn_grad_sync *plan = &s->plan;
    int p = rn_ddp_all(s)->size;
    double t = 0;
    if (kind == RN_SYNC_PER_TENSOR)
        for (int i = 0; i < plan->ntensors; i++) t += rn_ddp_ring_time(&s->fit, p, plan->order[i]->count * 4.0);
    else
        for (int k = 0; k < plan->nbuckets; k++) t += rn_ddp_ring_time(&s->fit, p, plan->buckets[k].floats * 4.0);
    return t;
}

void rn_ddp_say_hypothesis(const rn_ddp_state *s)
{
    cs_step(3, "Hypothesis");
    if (!s->have_fit) {
        cs_say("  With one rank there is nothing to communicate: the hypothesis needs mpirun -np 2 or more.\n");
        return;
    }
    char b[4][32];
    double pt = predicted_comm(s, RN_SYNC_PER_TENSOR), bk = predicted_comm(s, RN_SYNC_BUCKETED);
    cs_say("  Every step sends the whole gradient (%s) through the all-reduce. From the line\n"
           "  measured in step 1 (%s latency, %.2f GB/s), one all-reduce per tensor (%d calls)\n"
           "  should take %s per step, per bucket (%d calls) %s: buckets save the latency of\n"
           "  %d calls, not the bytes. Overlap hides what the backward still has to compute when a\n"
           "  bucket is ready; no_sync_4 pays the same bytes once per 4 micro-batches.\n",
           cs_format_bytes((double)s->grad_bytes, b[0], 32), ms(s->fit.intercept_s, b[1]),
           1e-9 / s->fit.slope_s_per_byte, s->plan.ntensors, ms(pt, b[2]), s->plan.nbuckets, ms(bk, b[3]),
           s->plan.ntensors - s->plan.nbuckets);
}

void rn_ddp_say_investigation(const rn_ddp_state *s)
{
    cs_step(4, "Investigation: one all-reduce per tensor against one per bucket");
    rn_ddp_say_rows(s, DDP_BUCKETED, DDP_OVERLAPPED);
    if (s->ran[DDP_BUCKETED] && s->ran[DDP_BUCKET_VIEW]) {
        char c[2][32];
        cs_say("  The copies into and out of the buckets: %s per batch; with the gradients living in the\n"
               "  buckets (bucket_view, DDP's gradient_as_bucket_view=True): %s.\n",
               ms(s->rows[DDP_BUCKETED].copy_s, c[0]), ms(s->rows[DDP_BUCKET_VIEW].copy_s, c[1]));
    }
    if (!s->have_fit || !s->ran[DDP_PER_TENSOR] || !s->ran[DDP_BUCKETED]) return;
    char b[4][32];
    cs_say("  Measured communication per batch: per_tensor %s (predicted %s), bucketed %s (predicted\n"
           "  %s).\n",
           ms(s->rows[DDP_PER_TENSOR].comm_s, b[0]), ms(predicted_comm(s, RN_SYNC_PER_TENSOR), b[1]),
           ms(s->rows[DDP_BUCKETED].comm_s, b[2]), ms(predicted_comm(s, RN_SYNC_BUCKETED), b[3]));
}

void rn_ddp_say_scaling(const rn_ddp_state *s)
{
    cs_step(5, "Optimization: overlap, no_sync, and more ranks");
    rn_ddp_say_rows(s, DDP_OVERLAPPED, RN_DDP_ROWS);
    cs_say("\n  Scaling: the overlapped step on 1 to %d ranks, each with %d thread%s (a rank as one\n"
           "  machine's share), the same global batches:\n",
           s->world, s->points[0].threads, s->points[0].threads == 1 ? "" : "s");
    double one = s->points[0].images_per_s;
    for (int i = 0; i < s->npoints; i++) {
        const rn_ddp_row *r = &s->points[i];
        cs_say("    %3d rank%s %8.1f images/s  speedup %5.2fx  efficiency %5.1f%%  communication %4.1f%%\n", r->ranks,
               r->ranks == 1 ? " " : "s", r->images_per_s, r->images_per_s / one,
               100.0 * r->images_per_s / (one * r->ranks), 100.0 * overhead(r));
    }
}

int rn_ddp_say_verification(const rn_ddp_state *s)
{
    cs_step(6, "Verification");
    cs_say("  Per row: every rank's weights hash alike after every step; the\n"
           "  first step's summed gradients (tol. %.0e) and weights (tol. %.0e) against one process\n"
           "  taking the same shards one after the other with a rank's threads, their gradients added\n"
           "  (batch norm per shard in both: they compute the same thing, in another order of float\n"
           "  additions).\n",
           RN_DDP_GRAD_TOL, RN_DDP_WEIGHT_TOL);
    int failed = 0;
    for (int i = 0; i < RN_DDP_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_ddp_row *r = &s->rows[i];
        int ok = r->rung.check.status == CS_CHECK_PASS;
        failed |= !ok;
        cs_say("    %-11s ranks agree %s  gradients %.2e  weights %.2e  %s%s%s\n", rn_ddp_rows[i],
               r->agree.status == CS_CHECK_PASS ? "yes" : "NO ", r->grads.rel_l2, r->weights.rel_l2,
               ok ? cs_col_pass() : cs_col_fail(), cs_check_word(r->rung.check.status), cs_col_reset());
    }
    for (int i = 0; i < s->npoints; i++)
        if (s->points[i].agree.status != CS_CHECK_PASS) {
            cs_say("    ranks_%d: the ranks' models differ after a step  %sFAIL%s\n", s->points[i].ranks, cs_col_fail(),
                   cs_col_reset());
            failed = 1;
        }
    return failed;
}

/* ---- files ------------------------------------------------------------------------ */

static void row_csv(FILE *f, const char *name, const rn_ddp_row *r, double base_ips)
{
    const cs_stats *st = &r->rung.timing.time;
    fprintf(f, "%s,%d,%d,%.6f,%.6f,%.6f,%.3f,%.4f,%.6f,%.6f,%.6f,%.6f,%.4f,%d,%s\n", name, r->ranks, r->threads,
            st->median, st->min, st->max, r->images_per_s, r->images_per_s / base_ips, r->step_s, r->compute_s,
            r->comm_s, r->copy_s, 100.0 * overhead(r), r->reductions, cs_check_word(r->rung.check.status));
}

static int write_csvs(const rn_ddp_state *s, const char *dir)
{
    char path[CS_PATH_MAX];
    cs_outfile o;
    static const char *head = "configuration,ranks,threads_per_rank,run_s,run_min_s,run_max_s,images_per_s,speedup,"
                              "step_s,compute_s,comm_s,copy_s,overhead_pct,calls_per_step,check\n";
    double base = s->ran[DDP_SINGLE] ? s->rows[DDP_SINGLE].images_per_s : NAN;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "ddp.csv")) != 0) return 3;
    fputs(head, o.f);
    for (int i = 0; i < RN_DDP_ROWS; i++)
        if (s->ran[i]) row_csv(o.f, rn_ddp_rows[i], &s->rows[i], base);
    if (cs_outfile_commit(&o) != 0) return 3;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "ddp_scaling.csv")) != 0) return 3;
    fputs(head, o.f);
    for (int i = 0; i < s->npoints; i++) {
        char name[24];
        snprintf(name, sizeof name, "ranks_%d", s->points[i].ranks);
        row_csv(o.f, name, &s->points[i], s->points[0].images_per_s);
    }
    if (cs_outfile_commit(&o) != 0) return 3;
    if (!s->have_fit) return 0;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "ddp_allreduce.csv")) != 0) return 3;
    const rn_ddp_fit *f = &s->fit;
    fprintf(o.f, "# ranks %d; line t = %.6e + bytes * %.6e s; ring alpha %.6e s, beta %.6e s/byte\n",
            rn_ddp_all(s)->size, f->intercept_s, f->slope_s_per_byte, f->alpha_s, f->beta_s_per_byte);
    fprintf(o.f, "bytes,median_s,min_s,max_s,line_s\n");
    for (int i = 0; i < f->n; i++)
        fprintf(o.f, "%.0f,%.6e,%.6e,%.6e,%.6e\n", f->bytes[i], f->median_s[i], f->min_s[i], f->max_s[i],
                f->intercept_s + f->bytes[i] * f->slope_s_per_byte);
    return cs_outfile_commit(&o) != 0 ? 3 : 0;
}

int rn_ddp_write_results(rn_ddp_state *s)
{
    rn_lab *lab = s->lab;
    const char *dir = lab->a->opt.out_dir;
    cs_report report;
    rn_report_begin(&report, lab, "distributed: data-parallel training over MPI",
                    "seconds per run of batches_per_run global batches");
    cs_report_config(&report, "ranks", "%d", s->world);
    cs_report_config(&report, "engine", "%s", rn_comm_engine());
    cs_report_config(&report, "bucket_mb", "%d", lab->a->bucket_mb);
    const cs_rung *rungs[RN_DDP_ROWS];
    double ips[RN_DDP_ROWS];
    size_t activations[RN_DDP_ROWS] = {0};
    for (int i = 0; i < RN_DDP_ROWS; i++) {
        rungs[i] = &s->rows[i].rung;
        ips[i] = s->rows[i].images_per_s;
    }
    if (rn_report_rows(&report, lab, RN_DDP_ROWS, rn_ddp_rows, s->skip, s->ran, rungs, ips, activations) != 0) return 3;
    if (write_csvs(s, dir) != 0) return 3;
    rn_chart_ddp(dir, s->rows, s->ran, rn_ddp_rows, RN_DDP_ROWS, s->points, s->npoints);
    return 0;
}

/* ---- 7. Key lessons ------------------------------------------------------------- */

/* "- what: faster/slower/no faster within the spread", from rows a and b. */
static void say_against(const rn_ddp_state *s, int a, int b, const char *what)
{
    if (s->world < 2 || !s->ran[a] || !s->ran[b]) return;
    cs_result before = {0}, after = {0};
    before.timing = s->rows[a].rung.timing;
    after.timing = s->rows[b].rung.timing;
    char phrase[128];
    int tie = 0;
    cs_compare_phrase(&before, &after, phrase, sizeof phrase, &tie);
    cs_say("  - %s, %s: %s.\n", rn_ddp_rows[b], what, phrase);
}

void rn_ddp_say_lessons(const rn_ddp_state *s)
{
    cs_step(7, "Key lessons");
    for (int i = DDP_PER_TENSOR; i < RN_DDP_ROWS; i++)
        if (s->ran[i])
            cs_say("  - %-11s communication and copies %4.1f%% of the step (%d calls per step)\n", rn_ddp_rows[i],
                   100.0 * overhead(&s->rows[i]), s->rows[i].reductions);
    say_against(s, DDP_PER_TENSOR, DDP_BUCKETED, "one all-reduce per bucket against one per tensor");
    say_against(s, DDP_BUCKETED, DDP_BUCKET_VIEW, "the gradients in the buckets against copied there");
    say_against(s, DDP_BUCKET_VIEW, DDP_OVERLAPPED, "buckets started during the backward against after it");
    say_against(s, DDP_OVERLAPPED, DDP_NO_SYNC, "communicating every 4 micro-batches against every one");
    const int hid_little = s->world > 1 && s->ran[DDP_BUCKET_VIEW] && s->ran[DDP_OVERLAPPED] &&
                           s->rows[DDP_OVERLAPPED].comm_s >= 0.5 * s->rows[DDP_BUCKET_VIEW].comm_s;
    if (hid_little && !s->lab->on_gpu)
        cs_say("    Overlap hid less than half of the communication here: Open MPI has no progress thread,\n"
               "    so a started all-reduce moves only while its rank is inside an MPI call (here each time\n"
               "    the backward completes a gradient); NCCL's kernels on their own stream need no such call.\n");
    else if (hid_little)
        cs_say("    Overlap hid less than half of the communication here: the last buckets complete at the\n"
               "    end of the backward, so their all-reduces have nothing left to hide behind, and NCCL's\n"
               "    kernels share the SMs with the backward's while they do run beside it.\n");
    if (s->world > 1 && s->ran[DDP_SINGLE] && s->ran[DDP_OVERLAPPED])
        cs_say("  - %d ranks (overlapped) against one rank with the whole machine: %.2fx the images/s.\n"
               "    On one machine the ranks share its cores: data parallelism pays when each rank\n"
               "    brings its own (a GPU, a machine).\n",
               s->world, s->rows[DDP_OVERLAPPED].images_per_s / s->rows[DDP_SINGLE].images_per_s);
    const rn_ddp_row *last = &s->points[s->npoints - 1];
    if (s->npoints > 1)
        cs_say("  - Scaling 1 -> %d ranks at fixed threads per rank: efficiency %.1f%%.\n", last->ranks,
               100.0 * last->images_per_s / (s->points[0].images_per_s * last->ranks));
    if (!s->have_fit) return;
    char b[3][32];
    double bytes = (double)s->grad_bytes;
    cs_say("  - Prediction, not a measurement: a ring all-reduce of the %s gradient with this run's\n"
           "    alpha %s and beta (%.2f GB/s) takes %s on 8 ranks and %s on 64: the bytes term\n"
           "    stays near 2 x size / bandwidth, the latency term grows with the ranks.\n",
           cs_format_bytes(bytes, b[0], 32), ms(s->fit.alpha_s, b[1]), 1e-9 / s->fit.beta_s_per_byte,
           ms(rn_ddp_ring_time(&s->fit, 8, bytes), b[2]), ms(rn_ddp_ring_time(&s->fit, 64, bytes), (char[32]){0}));
}
