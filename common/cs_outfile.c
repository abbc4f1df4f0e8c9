/* Output files that are never half-written. A reader (a student's script, a
 * plotting tool) sees either the previous complete file or the new complete
 * file, never a truncated one: the data goes to "PATH.tmp.PID" in the same
 * folder, and rename() — atomic within one filesystem — puts it in place
 * only after every byte was written successfully. */
#include "cs_outfile.h"

#include "cs_console.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cs_outfile_open(cs_outfile *o, const char *path)
{
    o->f = NULL;
    o->path[0] = o->tmp[0] = '\0';
    if (path == NULL || path[0] == '\0') {
        cs_error("cannot write a file with an empty name");
        return -1;
    }
    /* The PID makes the temporary name unique if two runs share a folder. */
    int n1 = snprintf(o->path, sizeof o->path, "%s", path);
    int n2 = snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof o->tmp) {
        cs_error("%s: path too long", path);
        o->path[0] = o->tmp[0] = '\0';
        return -1;
    }
    /* A new file of our own: O_EXCL|O_NOFOLLOW never writes through a
     * link someone left under the temporary name (a stale one of ours, from
     * a run killed with the same PID, is removed first: unlink removes a
     * link, never its target). */
    unlink(o->tmp);
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    o->f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (o->f == NULL) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(o->tmp);
        }
        cs_error("cannot write %s: %s", path, strerror(err));
        o->tmp[0] = '\0';
        return -1;
    }
    errno = 0; /* so that a failed write's reason is still there at commit */
    return 0;
}

int cs_outfile_commit(cs_outfile *o)
{
    if (o->f == NULL) {
        cs_error("%s: file is not open", o->path);
        return -1;
    }
    /* A full disk shows up at fflush or fclose, not at fprintf: check all. */
    const char *failed = NULL;
    int err = 0;
    int earlier = errno; /* set by a failed fprintf since the open, if any */
    if (fflush(o->f) != 0) {
        failed = "write";
        err = errno;
    } else if (ferror(o->f)) {
        failed = "write";
        err = earlier ? earlier : EIO;
    }
    if (fclose(o->f) != 0 && failed == NULL) {
        failed = "close";
        err = errno;
    }
    o->f = NULL;
    if (failed == NULL && rename(o->tmp, o->path) != 0) {
        failed = "rename";
        err = errno;
    }
    if (failed != NULL) {
        cs_error("cannot write %s (%s failed): %s", o->path, failed, strerror(err));
        remove(o->tmp);
        o->tmp[0] = '\0';
        return -1;
    }
    o->tmp[0] = '\0'; /* nothing left to clean up: abort is now a no-op */
    return 0;
}

void cs_outfile_abort(cs_outfile *o)
{
    if (o->f != NULL) fclose(o->f);
    o->f = NULL;
    if (o->tmp[0] != '\0') remove(o->tmp);
    o->tmp[0] = '\0';
}

int cs_write_file_atomic(const char *path, const char *text)
{
    cs_outfile o;
    if (cs_outfile_open(&o, path) != 0) return -1;
    fputs(text ? text : "", o.f); /* errors are caught by the commit */
    return cs_outfile_commit(&o);
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cs_mkdir_p(const char *dir)
{
    char buf[CS_PATH_MAX];
    if (dir == NULL || dir[0] == '\0') {
        cs_error("cannot create a directory with an empty name");
        return -1;
    }
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        cs_error("%s: path too long", dir);
        return -1;
    }
    /* Create each prefix ending before a '/', then the whole path. The
     * first character is skipped so that "/" itself is never created. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && !(errno == EEXIST && is_directory(buf))) {
            /* EEXIST with a file of that name is an error too. */
            int err = errno == EEXIST ? ENOTDIR : errno;
            cs_error("cannot create directory %s: %s", buf, strerror(err));
            return -1;
        }
        *p = saved;
        if (saved == '\0') break;
        while (p[1] == '/') p++; /* "a//b": one separator */
        if (p[1] == '\0') break; /* trailing slash: done */
    }
    return 0;
}

/* access() answers from the permission bits, and root passes every check,
 * yet some filesystems refuse anyway (/proc, read-only mounts). So after
 * access() agrees, we try for real and undo it: create and remove a probe
 * (an empty file in an existing dir, the first missing directory otherwise). */
int cs_probe_dir_writable(const char *dir)
{
    char probe[CS_PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/.cs_probe.%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EEXIST ? 0 : -1;
    close(fd);
    unlink(probe);
    return 0;
}

static int probe_missing_dir(const char *missing)
{
    /* EEXIST: another process (a ddp run's other rank) made it meanwhile. */
    if (mkdir(missing, 0700) != 0) return errno == EEXIST && is_directory(missing) ? 0 : -1;
    rmdir(missing);
    return 0;
}

int cs_check_writable_dir(const char *dir)
{
    char path[CS_PATH_MAX];
    if (dir == NULL || dir[0] == '\0') {
        cs_error("empty directory name");
        return -1;
    }
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        cs_error("%s: path too long", dir);
        return -1;
    }
    /* Strip trailing slashes (but keep "/"), so the parent is easy to find. */
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') path[--len] = '\0';

    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            cs_error("%s exists and is not a directory", dir);
            return -1;
        }
        if (access(path, W_OK | X_OK) != 0 || cs_probe_dir_writable(path) != 0) {
            cs_error("cannot write to directory %s: %s", dir, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        cs_error("cannot use directory %s: %s", dir, strerror(errno));
        return -1;
    }

    /* Walk up to the nearest ancestor that exists; `missing` remembers the
     * child of it that would be created first. */
    char missing[CS_PATH_MAX];
    snprintf(missing, sizeof missing, "%s", path);
    for (;;) {
        char *slash = strrchr(path, '/');
        if (slash == NULL) {
            snprintf(path, sizeof path, "."); /* "results": parent is "." */
        } else {
            while (slash > path && slash[-1] == '/') slash--;
            if (slash == path)
                slash[1] = '\0'; /* "/results": parent is "/" */
            else
                slash[0] = '\0';
        }
        if (stat(path, &st) == 0) break;
        /* "." or "/" missing (a deleted working directory): nowhere left to go. */
        if (errno != ENOENT || strcmp(path, ".") == 0 || strcmp(path, "/") == 0) {
            cs_error("cannot create directory %s: %s: %s", dir, path, strerror(errno));
            return -1;
        }
        snprintf(missing, sizeof missing, "%s", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        cs_error("cannot create directory %s: %s is not a directory", dir, path);
        return -1;
    }
    if (access(path, W_OK | X_OK) != 0 || probe_missing_dir(missing) != 0) {
        cs_error("cannot create directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

char *cs_path_join(char *buf, size_t len, const char *dir, const char *name)
{
    if (buf == NULL || len == 0) return buf;
    if (dir == NULL || dir[0] == '\0') {
        snprintf(buf, len, "%s", name ? name : "");
        return buf;
    }
    size_t dl = strlen(dir);
    const char *sep = dir[dl - 1] == '/' ? "" : "/"; /* "out/" + "x": no double slash */
    snprintf(buf, len, "%s%s%s", dir, sep, name ? name : "");
    return buf;
}

int cs_input_file_size(const char *path, size_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        return 2;
    }
    if (!S_ISREG(st.st_mode)) {
        cs_error("%s: not a regular file", path);
        return 2;
    }
    *size = (size_t)st.st_size;
    return 0;
}
