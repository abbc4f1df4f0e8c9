/* Input and output paths, checked before any work (every case uses them): an input must
 * be a regular file (a FIFO with no writer would be waited on forever, a
 * device such as /dev/zero read forever), an output must be a file name in
 * a folder that exists and can be written. Each problem is one line naming
 * the option and the path, and exit code 2. */
#ifndef CS_FILES_H
#define CS_FILES_H

#include <sys/types.h>

/* What a file that is not a regular one is: "a directory", "a FIFO (named
 * pipe)", "a character device", "a block device", "a socket". */
const char *cs_file_kind(mode_t mode);

/* Opens path for reading without waiting (O_NONBLOCK, cleared once it is
 * known to be a regular file) and refuses anything but a regular file.
 * Returns the descriptor and fills *size, or -1 after one line
 * "PATH: cannot open: <reason>" / "PATH: cannot read: a FIFO (named pipe),
 * not a regular file". */
int cs_open_regular(const char *path, size_t *size);

/* `option PATH` names an input file: it exists and is a regular file
 * (following a symbolic link). Returns 0 or 2 (one line printed). */
int cs_check_input_file(const char *option, const char *path);

/* `option PATH` names a file to be written (atomically: PATH.tmp.PID, then
 * renamed): PATH is not a directory, a FIFO, a device or a symbolic link
 * (the rename would replace any of them with a plain file), and its folder
 * exists and takes a new file. Nothing is left behind. Returns 0 or 2 (one
 * line printed). */
int cs_check_output_file(const char *option, const char *path);

#endif
