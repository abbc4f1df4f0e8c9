/* What a call prints on stderr, captured, for the tests of one-line error
 * messages: cs_capture_begin() sends stderr to a temporary file,
 * cs_capture_end() puts stderr back and returns what was written (the
 * first 8 KiB). cs_check_one_line() checks a message is exactly one line
 * holding each given piece (the file's name, the problem). Include after
 * cs_test.h. */
#ifndef CS_TEST_STDERR_H
#define CS_TEST_STDERR_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cs_capture_saved = -1;
static char cs_capture_buf[8192];
static char cs_capture_path[64];

static inline void cs_capture_begin(void)
{
    fflush(stderr);
    if (!cs_capture_path[0]) {
        snprintf(cs_capture_path, sizeof cs_capture_path, "/tmp/cs_test_stderr_XXXXXX");
        int tmp = mkstemp(cs_capture_path);
        if (tmp >= 0) close(tmp);
    }
    cs_capture_saved = dup(2);
    int fd = open(cs_capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

static inline const char *cs_capture_end(void)
{
    fflush(stderr);
    dup2(cs_capture_saved, 2);
    close(cs_capture_saved);
    FILE *f = fopen(cs_capture_path, "rb");
    size_t len = f ? fread(cs_capture_buf, 1, sizeof cs_capture_buf - 1, f) : 0;
    if (f) fclose(f);
    unlink(cs_capture_path);
    cs_capture_buf[len] = '\0';
    return cs_capture_buf;
}

static inline int cs_count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* The message of a failing call: exactly one line, holding each piece
 * (NULL: none). Prints the message when a piece is missing. */
static inline void cs_check_one_line(const char *msg, const char *piece1, const char *piece2)
{
    CHECK(cs_count_lines(msg) == 1);
    CHECK(piece1 == NULL || strstr(msg, piece1) != NULL);
    CHECK(piece2 == NULL || strstr(msg, piece2) != NULL);
    if ((piece1 && !strstr(msg, piece1)) || (piece2 && !strstr(msg, piece2)))
        fprintf(stderr, "  the message was: %s", msg);
}

#endif
