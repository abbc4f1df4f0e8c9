/* What the student sees: the seven step headings, narration, warnings and
 * errors, progress lines, and colour (only on a terminal, never when NO_COLOR
 * is set). In --brief mode narration and headings are suppressed and only
 * the final table is printed. */
#ifndef CS_CONSOLE_H
#define CS_CONSOLE_H

#include <stdio.h>

/* Call once at start: the program name for messages and the brief flag. */
void cs_console_init(const char *prog, int brief);
const char *cs_prog(void);
int cs_brief(void);

/* An environment switch with two values: 0 for `usual` (also when unset or
 * empty), 1 for `other`; anything else exits 2 with a line naming the
 * variable and the two values. */
int cs_env_choice(const char *name, const char *usual, const char *other);
/* The same with any number of values (NULL-terminated, the first the
 * usual one): the index of the one set. */
int cs_env_pick(const char *name, const char *const *values);

/* "\n== 2. Initial profiling ==" (bold on a terminal); nothing when brief. */
void cs_step(int number, const char *title);
/* Narration to stdout; nothing when brief. */
void cs_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: warning: ..." on stderr (always). */
void cs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: ..." on stderr and exit(code). */
void cs_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* "prog: ..." on stderr, no exit (callers return their own code).
 * cs_warn, cs_die and cs_error print one line, escaped as cs_escape_bytes
 * does, so a path or value the user gave cannot break or disguise it. */
void cs_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies n bytes of src to dst (cap bytes, always NUL-terminated when cap >
 * 0), every byte that could break or disguise a one-line message written as
 * \xNN: bytes below 0x20 (newline, CR, tab, ESC), DEL, invalid or overlong
 * UTF-8, and the invisible code points U+0080..U+009F, U+FEFF (a byte order
 * mark), U+2028/2029 and the bidirectional overrides. Valid printable UTF-8
 * (an accented file name) is kept. Returns the length of the whole escaped
 * text (as snprintf does), so cs_escape_bytes(NULL, 0, s, n) + 1 sizes dst. */
size_t cs_escape_bytes(char *dst, size_t cap, const char *src, size_t n);
/* Progress on stderr, overwritten in place, only when stderr is a terminal;
 * cs_progress_done() clears the line. */
void cs_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cs_progress_done(void);

/* Colour escapes for stdout, or "" when colour is off. */
const char *cs_col_pass(void); /* green */
const char *cs_col_fail(void); /* red */
const char *cs_col_bold(void);
const char *cs_col_dim(void);
const char *cs_col_reset(void);

/* Seconds as a short human string: "812 us", "12.3 ms", "4.56 s". */
char *cs_format_time(double seconds, char *buf, size_t len);

#endif
