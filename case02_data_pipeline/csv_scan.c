/* The record scanner of the row-based rungs: splits one CSV record into
 * field slices that point into the input buffer, without copying anything.
 *
 * The rules (pipeline.h, RFC 4180 as people meet it):
 *   - a record ends at LF; a CR right before that LF is not part of it;
 *   - a line holding nothing, or only a CR, is blank;
 *   - fields are separated by ',';
 *   - a field starting with '"' is quoted: it runs to the next '"' that is
 *     not doubled, and inside it ',' CR and LF are data and '""' is one '"';
 *     whatever follows the closing quote up to the next ',' or the end of the
 *     record is appended to the field as it is;
 *   - a '"' anywhere else is an ordinary byte;
 *   - a quoted field still open at the end of the buffer swallows the rest:
 *     the record is flagged unterminated.
 *
 * How it stays fast: most fields are unquoted and never contain a quote,
 * so the scanner asks memchr (vectorized in every C library) for the end of
 * the line once, then for each ',' inside it. (Measured on the generated
 * file: about 1.3x the speed of a byte-at-a-time loop, even though the
 * fields are short.) Only a quoted field is walked
 * quote by quote, again with memchr. The byte-at-a-time state machine the
 * rules suggest is still there, but each state jumps to its next interesting
 * byte instead of looking at every byte:
 *
 *     FIELD_START --'"'--> QUOTED --'"' not doubled--> AFTER_QUOTE
 *          |                 |  ^                          |
 *          | other           |  '""' (stay)                | bytes up to ',' / end
 *          v                 v                             v
 *     UNQUOTED --bytes up to ',' or end of line--> FIELD_END: ',' -> FIELD_START
 *                                                             end -> record done
 *   (QUOTED reaching the end of the buffer: unterminated, record done) */
#include "pipeline.h"

#include <limits.h>
#include <string.h>

/* The first byte c in [from, to), or `to` when there is none: memchr with
 * "not found" meaning "the field (or line) runs to the end". */
static const char *find_or_end(const char *from, const char *to, char c)
{
    if (from >= to) return to;
    const char *hit = memchr(from, c, (size_t)(to - from));
    return hit ? hit : to;
}

/* The end of a field's text that runs to stop: when stop is the record's LF,
 * a CR just before it belongs to the line ending, not to the field. A CR at
 * the very end of a buffer without a LF is data (the rule is "CR right before
 * the LF"). */
static const char *drop_cr(const char *begin, const char *stop, const char *eol, const char *end)
{
    if (stop == eol && eol < end && stop > begin && stop[-1] == '\r') return stop - 1;
    return stop;
}

/* Appends a field to the record: stored while there is room, always counted
 * (a record with too many fields must still be rejected as extra_field). */
static void add_field(c2_record *rec, const char *ptr, size_t len, int quoted, int needs_unescape)
{
    if (rec->nfields < C2_MAX_FIELDS) {
        c2_field *f = &rec->fields[rec->nfields];
        f->ptr = ptr;
        f->len = len;
        f->quoted = quoted;
        f->needs_unescape = needs_unescape;
    }
    if (rec->nfields < INT_MAX) rec->nfields++; /* a 2 GiB line of commas */
}

size_t c2_scan_record(const char *buf, size_t pos, size_t end, c2_record *rec)
{
    rec->nfields = 0;
    rec->unterminated = 0;
    rec->blank = 0;
    if (pos >= end) { /* nothing left: an empty "record" */
        rec->blank = 1;
        return end;
    }

    const char *p = buf + pos; /* start of the current field */
    const char *const stop_all = buf + end;
    const char *eol = find_or_end(p, stop_all, '\n'); /* the LF ending this record, or end */

    /* Blank line: LF right away, or CR LF. */
    if (eol < stop_all && (eol == p || (eol == p + 1 && *p == '\r'))) {
        rec->blank = 1;
        return (size_t)(eol + 1 - buf);
    }

    for (;;) {
        /* FIELD_START: p is the first byte of a field (possibly eol itself,
         * for an empty last field). */
        const char *field_stop; /* the ',' or eol that ends this field */
        if (p < eol && *p == '"') {
            /* QUOTED: find the closing quote, skipping doubled ones. The
             * search runs to the end of the buffer, not of the line: a
             * quoted field may hold LFs. */
            const char *text = p + 1;
            const char *q = text;
            const char *close = NULL;
            int doubled = 0;
            for (;;) {
                const char *quote = find_or_end(q, stop_all, '"');
                if (quote == stop_all) break;                  /* never closed */
                if (quote + 1 < stop_all && quote[1] == '"') { /* '""': data */
                    doubled = 1;
                    q = quote + 2;
                    continue;
                }
                close = quote;
                break;
            }
            if (close == NULL) {
                /* Unterminated: the rest of the buffer is this one field. */
                add_field(rec, text, (size_t)(stop_all - text), 1, doubled);
                rec->unterminated = 1;
                return end;
            }
            /* The quoted text may have run past the LF we found first: the
             * record then ends at the first LF after the closing quote. */
            if (eol < close) eol = find_or_end(close + 1, stop_all, '\n');

            /* AFTER_QUOTE: bytes up to the next ',' or the end of the record
             * are appended as they are. */
            const char *after = close + 1;
            field_stop = find_or_end(after, eol, ',');
            const char *trail_end = drop_cr(after, field_stop, eol, stop_all);
            if (trail_end > after) {
                /* The slice keeps the closing quote and the trailing text;
                 * c2_field_copy resolves both. */
                add_field(rec, text, (size_t)(trail_end - text), 1, 1);
            } else {
                add_field(rec, text, (size_t)(close - text), 1, doubled);
            }
        } else {
            /* UNQUOTED: everything up to the next ',' or the end of the line. */
            field_stop = find_or_end(p, eol, ',');
            const char *text_end = drop_cr(p, field_stop, eol, stop_all);
            add_field(rec, p, (size_t)(text_end - p), 0, 0);
        }

        /* FIELD_END: a ',' starts the next field; anything else ends the record. */
        if (field_stop < eol) {
            p = field_stop + 1;
            continue;
        }
        return eol < stop_all ? (size_t)(eol + 1 - buf) : end;
    }
}

size_t c2_field_copy(const c2_field *f, char *out, size_t cap)
{
    if (!f->needs_unescape) {
        /* The common case: the slice is the value. */
        size_t n = f->len < cap ? f->len : cap;
        if (n > 0) memcpy(out, f->ptr, n);
        return f->len;
    }
    /* A quoted slice with escapes: inside the quotes '""' is one '"' and a
     * single '"' is the closing quote (dropped); after it, bytes are copied
     * as they are. The value is never longer than the slice. */
    size_t n = 0;
    int in_quotes = f->quoted;
    for (size_t i = 0; i < f->len; i++) {
        char c = f->ptr[i];
        if (in_quotes && c == '"') {
            if (i + 1 < f->len && f->ptr[i + 1] == '"') {
                i++; /* '""' -> '"' */
            } else {
                in_quotes = 0; /* the closing quote itself */
                continue;
            }
        }
        if (n < cap) out[n] = c;
        n++;
    }
    return n;
}
