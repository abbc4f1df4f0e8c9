/* Atomic output files: commit leaves the file and no temporary, abort leaves
 * nothing, a missing folder fails; mkdir -p; the writable-dir check refuses
 * an impossible path without creating anything; path joining. */
#include "cs_outfile.h"
#include "cs_test.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}
static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Number of entries in dir other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static int file_is(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

static void remove_tree(const char *root)
{
    char cmd[CS_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
}

int main(void)
{
    char root[] = "/tmp/cs_test_outfile.XXXXXX";
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char path[CS_PATH_MAX], dir[CS_PATH_MAX];

    /* commit: the content is there, the temporary is gone */
    cs_outfile o;
    cs_path_join(path, sizeof path, root, "a.csv");
    CHECK(cs_outfile_open(&o, path) == 0);
    CHECK(strstr(o.tmp, ".tmp.") != NULL);
    CHECK(exists(o.tmp) && !exists(path)); /* nothing final before commit */
    fprintf(o.f, "x,y\n1,2\n");
    CHECK(cs_outfile_commit(&o) == 0);
    CHECK(file_is(path, "x,y\n1,2\n"));
    CHECK(entries(root) == 1);

    /* abort: nothing new, the old file untouched */
    CHECK(cs_outfile_open(&o, path) == 0);
    fprintf(o.f, "half");
    cs_outfile_abort(&o);
    CHECK(file_is(path, "x,y\n1,2\n"));
    CHECK(entries(root) == 1);
    cs_outfile_abort(&o); /* twice is harmless */

    /* a folder that does not exist */
    cs_path_join(path, sizeof path, root, "missing/b.json");
    CHECK(cs_outfile_open(&o, path) == -1);
    CHECK(o.f == NULL);
    CHECK(entries(root) == 1);

    /* whole-file shorthand */
    cs_path_join(path, sizeof path, root, "c.txt");
    CHECK(cs_write_file_atomic(path, "hello\n") == 0);
    CHECK(file_is(path, "hello\n"));
    CHECK(entries(root) == 2);

    /* mkdir -p, nested, and again (already there) */
    snprintf(dir, sizeof dir, "%s/d1/d2//d3/", root);
    CHECK(cs_mkdir_p(dir) == 0);
    snprintf(path, sizeof path, "%s/d1/d2/d3", root);
    CHECK(is_dir(path));
    CHECK(cs_mkdir_p(dir) == 0);
    /* a file in the way */
    snprintf(dir, sizeof dir, "%s/c.txt/sub", root);
    CHECK(cs_mkdir_p(dir) == -1);

    /* writable-dir check: existing dir, missing dirs under a writable one
     * (nothing created), impossible places */
    CHECK(cs_check_writable_dir(root) == 0);
    snprintf(dir, sizeof dir, "%s/new1/new2", root);
    CHECK(cs_check_writable_dir(dir) == 0);
    snprintf(path, sizeof path, "%s/new1", root);
    CHECK(!exists(path));
    CHECK(entries(root) == 3); /* a.csv, c.txt, d1 */
    CHECK(cs_check_writable_dir("/proc/nonexistent_dir") == -1);
    CHECK(!exists("/proc/nonexistent_dir"));
    CHECK(cs_check_writable_dir("/proc/nonexistent_dir/deeper") == -1);
    CHECK(cs_check_writable_dir("/proc") == -1); /* exists, refuses new files (even for root) */
    snprintf(path, sizeof path, "%s/c.txt", root);
    CHECK(cs_check_writable_dir(path) == -1); /* a file, not a directory */
    snprintf(dir, sizeof dir, "%s/c.txt/sub", root);
    CHECK(cs_check_writable_dir(dir) == -1);
    CHECK(cs_check_writable_dir("") == -1);

    /* joining */
    char buf[64];
    CHECK(strcmp(cs_path_join(buf, sizeof buf, "out", "r.csv"), "out/r.csv") == 0);
    CHECK(strcmp(cs_path_join(buf, sizeof buf, "out/", "r.csv"), "out/r.csv") == 0);
    CHECK(strcmp(cs_path_join(buf, sizeof buf, "", "r.csv"), "r.csv") == 0);
    CHECK(strcmp(cs_path_join(buf, sizeof buf, "/", "r.csv"), "/r.csv") == 0);

    remove_tree(root);
    return cs_test_done();
}
