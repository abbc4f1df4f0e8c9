/* One run of the lab: what it holds between its steps (the device, the data,
 * the model, the loader, what each step measured), set up from the options
 * and torn down on every path. */
#ifndef RN_LAB_H
#define RN_LAB_H

#include "backend.h"
#include "cifar.h"
#include "cs_case.h"
#include "cs_sysinfo.h"
#include "gradcheck.h"
#include "loader.h"
#include "model.h"
#include "options.h"
#include "profile.h"
#include "train.h"
#include "workers.h"

typedef struct {
    rn_args *a;
    cs_devices dev;
    const rn_backend *be;
    int on_gpu;
    rn_cifar train, test;
    rn_model m;
    rn_loader ld;
    int have_model, have_loader, have_result;
    rn_workers *feed;  /* rn_lab_feed's workers (NULL until first used, or without --num-workers) */
    int epoch_batches; /* the baseline epoch's batches (--batches, or the whole epoch) */
    cs_sysinfo sys;
    rn_profile_answers ans; /* step 2's profile (zero when it did not run) */
    rn_train_result res;    /* step 4's epoch */
    double test_acc;
    /* Step 6: the loss check applied, and passed; the gradient check, its
     * verdict and its cost. */
    int checked, learned;
    rn_dir_check grad[RN_GRADCHECK_DIRS];
    int grad_ok;
    double gradcheck_s;
} rn_lab;

/* --generate DIR: writes the generated data set in CIFAR-10's format.
 * Returns 0 or an exit code. */
int rn_generate_data(const rn_args *a);

/* Probes the device, resolves the defaults that depend on it, then loads
 * the data (not for check-step), builds the model (with --weights) and the
 * loader (not for check-step). Returns 0 or an exit code; rn_lab_close
 * either way. */
int rn_lab_open(rn_lab *lab, rn_args *a);
/* The model again from the initial weights (the baseline after the
 * profile). Returns 0 or an exit code. */
int rn_lab_fresh_model(rn_lab *lab);
/* check-step: one step on fixed data, written as CSV for PyTorch. */
int rn_lab_check_step(rn_lab *lab);
/* export: the model as ONNX (--onnx), and the reference batch
 * (--onnx-reference). Returns 0 or an exit code. */
int rn_lab_export(rn_lab *lab);
/* Where a ladder's runs (Parts 3 to 5) take their batches from: with
 * --num-workers N, Part 2's loader (N persistent workers; with --pin-memory
 * on a GPU, pinned staging and the copy on a second stream), made on first
 * use and kept until rn_lab_close; without it the training thread loads
 * them, as the lab's baseline does. Sets o->workers and o->async_copy. */
void rn_lab_feed(rn_lab *lab, rn_train_opts *o);
void rn_lab_close(rn_lab *lab);

#endif
