/* Input and output paths checked before any work (cs_files.h). */
#include "cs_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_console.h"
#include "cs_outfile.h"

const char *cs_file_kind(mode_t mode)
{
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

int cs_open_regular(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        cs_error("%s: cannot read: %s, not a regular file", path, cs_file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags != -1) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *size = (size_t)st.st_size;
    return fd;
}

int cs_check_input_file(const char *option, const char *path)
{
    struct stat st;
    if (path[0] == '\0') {
        cs_error("%s: empty file name", option);
        return 2;
    }
    if (stat(path, &st) != 0) {
        cs_error("%s %s: cannot open: %s", option, path, strerror(errno));
        return 2;
    }
    if (!S_ISREG(st.st_mode)) {
        cs_error("%s %s: %s, not a regular file", option, path, cs_file_kind(st.st_mode));
        return 2;
    }
    return 0;
}

int cs_check_output_file(const char *option, const char *path)
{
    size_t len = strlen(path);
    if (len == 0) {
        cs_error("%s: empty file name", option);
        return 2;
    }
    if (len + 32 >= CS_PATH_MAX) {
        cs_error("%s: path too long", option);
        return 2;
    }
    struct stat st;
    if (path[len - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        cs_error("%s %s: a directory: name the file to write", option, path);
        return 2;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        cs_error("%s %s: %s, not a regular file to replace", option, path, cs_file_kind(st.st_mode));
        return 2;
    }
    /* lstat: the rename at the end would replace a link to a regular file
     * with a plain file of its own */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        cs_error("%s %s: a symbolic link (not followed, not replaced): name a regular file", option, path);
        return 2;
    }
    /* The folder: PATH up to its last '/', or "." */
    char dir[CS_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0) {
        cs_error("%s %s: cannot create it in %s: %s (create the folder first)", option, path, dir, strerror(errno));
        return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
        cs_error("%s %s: %s is %s, not a folder", option, path, dir, cs_file_kind(st.st_mode));
        return 2;
    }
    /* Permission bits do not tell (root passes them, /proc and read-only
     * mounts refuse anyway): a probe file is made there and removed. */
    if (cs_probe_dir_writable(dir) != 0) {
        cs_error("%s %s: cannot write in %s: %s", option, path, dir, strerror(errno));
        return 2;
    }
    return 0;
}
