/* One run of the lab, set up and torn down (see lab.h). */
#include "lab.h"
#include "onnx_export.h"

#include <string.h>

#include "cs_console.h"
#include "cs_gpu.h"
#include "cs_outfile.h"
#include "check_step.h"

int rn_generate_data(const rn_args *a)
{
    int n = a->samples_set ? a->samples : 50000;
    int rc = rn_cifar_write_dir(a->generate_dir, n, n / 5 > 10 ? n / 5 : 10, a->opt.seed);
    if (rc == 0)
        cs_say("wrote %d training and %d test images in CIFAR-10's format to %s\n", n, n / 5 > 10 ? n / 5 : 10,
               a->generate_dir);
    return rc;
}

/* The training and test sets: the CIFAR-10 files of --data, or generated
 * from the seed (--samples training images, a fifth of that for the test). */
static int load_data(rn_lab *lab)
{
    const rn_args *a = lab->a;
    if (a->data_dir) {
        int rc = rn_cifar_load_train(&lab->train, a->data_dir);
        return rc ? rc : rn_cifar_load_test(&lab->test, a->data_dir);
    }
    int n = a->samples_set || a->opt.quick ? a->samples : lab->on_gpu ? 50000 : 4096;
    int rc = rn_cifar_generate(&lab->train, n, a->opt.seed);
    return rc ? rc : rn_cifar_generate(&lab->test, n / 5 > a->batch ? n / 5 : a->batch, a->opt.seed + 1);
}

/* ResNet-18 (or --arch's) on the run's backend, initialised from the seed
 * (then --weights), Adam at --lr, its buffers for batches of --batch images
 * of the run's side. */
static int build_model(rn_lab *lab)
{
    const rn_args *a = lab->a;
    rn_model_init_arch(&lab->m, lab->be, a->opt.seed, a->arch);
    lab->have_model = 1;
    lab->m.lr = (float)a->lr;
    rn_model_set_precision(&lab->m, a->precision); /* first: the activations are laid out for them */
    rn_model_set_checkpoint(&lab->m, a->checkpoint);
    rn_model_prepare(&lab->m, a->batch, a->img);
    return a->weights ? rn_model_load(&lab->m, a->weights, a->opt.seed) : 0;
}

int rn_lab_open(rn_lab *lab, rn_args *a)
{
    memset(lab, 0, sizeof *lab);
    lab->a = a;
    if (cs_case_devices(&a->opt, &lab->dev) != 0) return 3;
    lab->be = lab->dev.run_gpu ? rn_gpu_backend() : rn_cpu_backend();
    lab->on_gpu = lab->be->on_device;
    rn_options_resolve(a, lab->on_gpu);
    if (a->precision == RN_TF32 && !lab->on_gpu) {
        cs_error("--precision tf32: TF32 is a tensor-core mode of NVIDIA GPUs (Ampere and later); this run is on "
                 "the CPU, which has none (fp32, fp16 or bf16 here)");
        return 2;
    }
    int rc = a->cmd == RN_CMD_CHECK_STEP ? 0 : load_data(lab);
    if (rc == 0) rc = build_model(lab);
    if (rc || a->cmd == RN_CMD_CHECK_STEP) return rc;
    rc = rn_loader_init(&lab->ld, &lab->train, a->batch, a->img, 1, a->opt.seed);
    if (rc) return rc;
    lab->have_loader = 1;
    lab->epoch_batches = a->batches > 0 && a->batches < lab->ld.batches ? a->batches : lab->ld.batches;
    return 0;
}

int rn_lab_fresh_model(rn_lab *lab)
{
    rn_model_free(&lab->m);
    lab->have_model = 0;
    return build_model(lab);
}

int rn_lab_check_step(rn_lab *lab)
{
    const rn_args *a = lab->a;
    if (a->default_csv && cs_mkdir_p(a->opt.out_dir) != 0) return 3;
    /* --save: the weights the step starts from, for a tool to load. */
    if (a->save && rn_model_save(&lab->m, a->save) != 0) return 3;
    int rc = rn_check_step(&lab->m, a->data_dir, a->batch, a->accum_steps, a->csv_path);
    if (rc == 0 && !a->opt.brief)
        cs_say("wrote %s (loss, logits, gradient norms and projections, the gradients of fc and the batch norms)\n",
               a->csv_path);
    return rc;
}

int rn_lab_export(rn_lab *lab)
{
    const rn_args *a = lab->a;
    int rc = rn_onnx_export(&lab->m, lab->m.img, a->onnx);
    if (rc == 0 && a->onnx_reference) rc = rn_onnx_reference(&lab->m, &lab->test, lab->m.img, a->onnx_reference);
    if (rc == 0 && !a->opt.brief)
        cs_say("wrote %s: %s for %d x %d inputs, opset 13 (Conv, BatchNormalization, Relu, MaxPool, Add,\n"
               "GlobalAveragePool, Flatten, Gemm); input 'input' [N, 3, %d, %d], output 'logits' [N, %d]%s%s\n",
               a->onnx, rn_arch_title(a->arch), lab->m.img, lab->m.img, lab->m.img, lab->m.img, RN_CLASSES,
               a->onnx_reference ? "; reference batch: " : "", a->onnx_reference ? a->onnx_reference : "");
    return rc;
}

void rn_lab_feed(rn_lab *lab, rn_train_opts *o)
{
    const rn_args *a = lab->a;
    const int pinned = a->pin_memory && lab->on_gpu;
    if (lab->feed == NULL && a->num_workers > 0)
        lab->feed = rn_workers_create(&lab->ld, lab->be, a->num_workers, a->prefetch, 1, pinned);
    o->workers = lab->feed;
    o->async_copy = lab->feed != NULL && pinned;
}

void rn_lab_close(rn_lab *lab)
{
    rn_workers_destroy(lab->feed);
    lab->feed = NULL;
    if (lab->have_result) rn_train_result_free(&lab->res);
    if (lab->have_loader) rn_loader_free(&lab->ld);
    if (lab->have_model) rn_model_free(&lab->m);
    rn_cifar_free(&lab->train);
    rn_cifar_free(&lab->test);
    if (lab->be && lab->be->release) lab->be->release();
    if (lab->be) cs_gpu_release();
}
