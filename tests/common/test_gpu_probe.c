/* cs_gpu_probe and cs_gpu_describe in any build: with no usable GPU (no CUDA
 * compiler, no driver, no device, or CS_DISABLE_GPU) the probe must answer 0
 * with a reason, never crash or exit. On this suite's CPU-only machines this
 * is the path every run takes. */
#include "cs_gpu.h"
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The probe caches its answer for the process, so CS_DISABLE_GPU is tried in
 * a child process that sets it before its first probe. Returns the child's
 * exit status (0 when its checks passed). */
static int disabled_child(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setenv("CS_DISABLE_GPU", "1", 1);
        char why[256] = "unchanged";
        int found = cs_gpu_probe(why, sizeof why);
        CHECK(found == 0);
        if (cs_gpu_built())
            CHECK(strcmp(why, "GPU disabled by CS_DISABLE_GPU") == 0);
        else
            CHECK(starts_with(why, "CUDA was not built")); /* nothing to disable */
        cs_sysinfo s;
        memset(&s, 0xff, sizeof s);
        cs_gpu_describe(&s);
        CHECK(s.gpu_present == 0);
        CHECK(strncmp(s.gpu_name, why, sizeof s.gpu_name - 1) == 0);
        printf("child (CS_DISABLE_GPU=1): ");
        int rc = cs_test_done();
        fflush(stdout); /* _exit does not flush stdio */
        _exit(rc);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
    /* Before this process probes (a forked CUDA context would be unusable). */
    CHECK(disabled_child() == 0);

    char why[256];
    memset(why, 'x', sizeof why);
    int found = cs_gpu_probe(why, sizeof why);
    CHECK(found == 0 || found == 1);
    CHECK(memchr(why, '\0', sizeof why) != NULL); /* always terminated */
    if (!found) {
        printf("no GPU: %s\n", why);
        CHECK(strlen(why) > 0);
        CHECK(starts_with(why, "CUDA was not built") || starts_with(why, "no CUDA device") ||
              starts_with(why, "GPU disabled"));
    }
    if (!cs_gpu_built()) {
        CHECK(found == 0);
        CHECK(strcmp(why, "CUDA was not built (no CUDA compiler found, or -DCS_WITH_CUDA=OFF)") == 0);
    } else if (!found && getenv("CS_DISABLE_GPU") == NULL) {
        /* The reason in words, then the runtime's own message naming its call. */
        CHECK(starts_with(why, "no CUDA device: ") && strstr(why, "cudaGetDeviceCount") != NULL);
    }

    /* Cached: the same answer and reason again; a short buffer is truncated
     * but terminated; NULL is allowed. */
    char again[256];
    CHECK(cs_gpu_probe(again, sizeof again) == found);
    CHECK(strcmp(again, why) == 0);
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    cs_gpu_probe(tiny, sizeof tiny);
    CHECK(strlen(tiny) == (found ? 0 : sizeof tiny - 1));
    CHECK(strncmp(tiny, why, strlen(tiny)) == 0);
    CHECK(cs_gpu_probe(NULL, 0) == found);

    /* describe agrees with the probe; without a GPU it carries the reason
     * and zero figures, with one it has real ones. */
    cs_sysinfo s;
    memset(&s, 0xff, sizeof s);
    cs_gpu_describe(&s);
    CHECK(s.gpu_present == found);
    if (!found) {
        CHECK(strncmp(s.gpu_name, why, sizeof s.gpu_name - 1) == 0);
        CHECK(s.gpu_mem == 0);
        CHECK(s.gpu_cc == 0);
        CHECK(s.gpu_sms == 0);
        CHECK(memchr(s.gpu_driver, '\0', sizeof s.gpu_driver) != NULL);
        CHECK(memchr(s.cuda_runtime, '\0', sizeof s.cuda_runtime) != NULL);
    } else {
        CHECK(strlen(s.gpu_name) > 0);
        CHECK(s.gpu_mem > 0);
        CHECK(s.gpu_cc >= 30);
        CHECK(s.gpu_sms > 0);
        CHECK(strchr(s.gpu_driver, '.') != NULL);
        CHECK(strchr(s.cuda_runtime, '.') != NULL);
    }

    /* Without a GPU the rest of the API is safe to call and gives zeros. */
    if (!found) {
        cs_gpu_sync();
        CHECK(cs_gpu_used_bytes() == 0);
        CHECK(cs_gpu_tracked_bytes() == 0);
        CHECK(cs_gpu_copy_gbs(1 << 20, 1, 1, 3) == 0.0);
        cs_gpu_ceilings c;
        memset(&c, 0xff, sizeof c);
        cs_measure_gpu_ceilings(&c, 1);
        CHECK(c.mem_bw_gbs == 0.0 && c.sgemm_gflops == 0.0 && c.sgemm_n == 0 && c.h2d_pinned_gbs == 0.0);
        double err = 123.0;
        CHECK(cs_gpu_selftest_gemm(&err) == -1);
        CHECK(err == 0.0);
    }
    return cs_test_done();
}
