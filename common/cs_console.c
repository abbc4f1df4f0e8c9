/* What the student sees. Three rules keep the output readable everywhere:
 *  - narration and headings go to stdout, problems to stderr (so
 *    `case > log.txt` still shows errors);
 *  - colour only when the stream is a terminal and NO_COLOR is not set
 *    (https://no-color.org: any non-empty value disables it);
 *  - progress lines (rewritten in place with \r) only on a terminal, so
 *    logs and CI output never fill with half-lines.
 * Warnings and errors are one line: a newline is added when the format has
 * none, and every byte that could break the line or hide in it (control
 * bytes, DEL, a byte order mark, invalid UTF-8: a path or a value as the
 * user typed it) is shown as \xNN. Narration (cs_say) prints exactly what
 * it is given, so a line can be built from several calls. */
#include "cs_console.h"

#include <errno.h> /* program_invocation_short_name (glibc, _GNU_SOURCE) */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog_name; /* NULL until cs_console_init */
static int brief_mode;
static int progress_width; /* characters of the progress line now shown */

void cs_console_init(const char *prog, int brief)
{
    prog_name = prog;
    brief_mode = brief != 0;
}

const char *cs_prog(void)
{
    /* Before init (or in a test), the executable's own name: glibc keeps it. */
    if (prog_name != NULL && prog_name[0] != '\0') return prog_name;
    return program_invocation_short_name;
}

int cs_brief(void)
{
    return brief_mode;
}

static int colour_on(FILE *stream)
{
    const char *no_color = getenv("NO_COLOR");
    if (no_color != NULL && no_color[0] != '\0') return 0;
    return isatty(fileno(stream));
}

/* ANSI SGR escapes; "" when stdout is not a colour terminal. */
static const char *sgr(const char *code)
{
    return colour_on(stdout) ? code : "";
}
const char *cs_col_pass(void)
{
    return sgr("\033[32m");
}
const char *cs_col_fail(void)
{
    return sgr("\033[31m");
}
const char *cs_col_bold(void)
{
    return sgr("\033[1m");
}
const char *cs_col_dim(void)
{
    return sgr("\033[2m");
}
const char *cs_col_reset(void)
{
    return sgr("\033[0m");
}

static int ends_with_newline(const char *fmt)
{
    size_t n = strlen(fmt);
    return n > 0 && fmt[n - 1] == '\n';
}

/* Length of the UTF-8 sequence at s (at most n bytes) when it is valid and
 * harmless to show, else 0. Refused: overlong forms, surrogates, values
 * above U+10FFFF, and the invisible code points that can disguise a line:
 * the C1 controls (U+0080..U+009F), the byte order mark U+FEFF, the line
 * and paragraph separators U+2028/U+2029 and the bidirectional overrides
 * (U+202A..U+202E, U+2066..U+2069). */
static size_t shown_utf8(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    if (cp <= 0x9F || cp == 0xFEFF || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return 0;
    return len;
}

size_t cs_escape_bytes(char *dst, size_t cap, const char *src, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)src;
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t keep = c >= 0x20 && c < 0x7F ? 1 : c >= 0x80 ? shown_utf8(s + i, n - i) : 0;
        if (keep > 0) {
            for (size_t k = 0; k < keep; k++, out++)
                if (out + 1 < cap) dst[out] = (char)s[i + k];
            i += keep;
        } else {
            const char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            for (size_t k = 0; k < 4; k++, out++)
                if (out + 1 < cap) dst[out] = esc[k];
            i++;
        }
    }
    if (cap > 0) dst[out < cap ? out : cap - 1] = '\0';
    return out;
}

/* "prog: [label]message\n" on stderr, the message escaped (cs_escape_bytes).
 * A progress line on the terminal is cleared first, so the message does not
 * land in the middle of it. */
static void vmessage(const char *label, const char *fmt, va_list ap)
{
    cs_progress_done();
    fflush(stdout); /* keep stdout and stderr in order on a shared terminal */
    char small[1024], *text = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small) {
        text = malloc((size_t)n + 1);
        if (text != NULL)
            vsnprintf(text, (size_t)n + 1, fmt, again);
        else
            text = small, n = (int)sizeof small - 1; /* out of memory: the message cut */
    }
    va_end(again);
    size_t len = n > 0 ? (size_t)n : 0;
    if (len > 0 && ends_with_newline(fmt) && text[len - 1] == '\n') len--; /* the line's own end */
    size_t need = cs_escape_bytes(NULL, 0, text, len) + 1;
    char shown_small[2048], *shown = need <= sizeof shown_small ? shown_small : malloc(need);
    if (shown == NULL) shown = shown_small, need = sizeof shown_small;
    cs_escape_bytes(shown, need, text, len);
    fprintf(stderr, "%s: %s%s\n", cs_prog(), label, shown);
    if (shown != shown_small) free(shown);
    if (text != small) free(text);
}

void cs_step(int number, const char *title)
{
    if (brief_mode) return;
    printf("\n%s== %d. %s ==%s\n", cs_col_bold(), number, title, cs_col_reset());
}

void cs_say(const char *fmt, ...)
{
    if (brief_mode) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void cs_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("warning: ", fmt, ap);
    va_end(ap);
}

void cs_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("", fmt, ap);
    va_end(ap);
}

void cs_die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("", fmt, ap);
    va_end(ap);
    exit(code);
}

void cs_progress(const char *fmt, ...)
{
    if (!isatty(STDERR_FILENO)) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    line[strcspn(line, "\n")] = '\0'; /* one line: it is rewritten in place */
    int width = (int)strlen(line);
    /* Pad with spaces over the rest of a longer previous line. */
    int pad = progress_width > width ? progress_width - width : 0;
    fprintf(stderr, "\r%s%*s", line, pad, "");
    fflush(stderr);
    progress_width = width + pad;
}

void cs_progress_done(void)
{
    if (progress_width == 0) return;
    fprintf(stderr, "\r%*s\r", progress_width, "");
    fflush(stderr);
    progress_width = 0;
}

char *cs_format_time(double seconds, char *buf, size_t len)
{
    static const char *const units[] = {"ns", "us", "ms", "s"};
    if (buf == NULL || len == 0) return buf;
    if (isnan(seconds)) {
        snprintf(buf, len, "n/a");
        return buf;
    }
    if (seconds == 0.0) {
        snprintf(buf, len, "0 s");
        return buf;
    }
    double mag = fabs(seconds);
    /* Pick the unit that puts the value in [1, 1000); thresholds are 999.5
     * of the smaller unit so that rounding never prints "1000 ms". */
    int u;
    double v;
    if (mag >= 0.9995) {
        u = 3;
        v = seconds;
    } else if (mag >= 0.9995e-3) {
        u = 2;
        v = seconds * 1e3;
    } else if (mag >= 0.9995e-6) {
        u = 1;
        v = seconds * 1e6;
    } else {
        u = 0;
        v = seconds * 1e9;
    }
    /* Three significant digits: decimals depend on the rounded magnitude. */
    double a = fabs(v);
    int decimals = a >= 99.95 ? 0 : a >= 9.995 ? 1 : 2;
    snprintf(buf, len, "%.*f %s", decimals, v, units[u]);
    return buf;
}

int cs_env_pick(const char *name, const char *const *values)
{
    const char *e = getenv(name);
    if (e == NULL || *e == '\0') return 0;
    char expected[256] = "";
    for (int i = 0; values[i] != NULL; i++) {
        if (strcmp(e, values[i]) == 0) return i;
        const int last = values[i + 1] == NULL;
        const size_t used = strlen(expected);
        snprintf(expected + used, sizeof expected - used, "%s%s", i == 0 ? "" : last ? " or " : ", ", values[i]);
    }
    cs_die(2, "%s=%s: expected %s", name, e, expected);
}

int cs_env_choice(const char *name, const char *usual, const char *other)
{
    const char *const values[] = {usual, other, NULL};
    return cs_env_pick(name, values);
}
