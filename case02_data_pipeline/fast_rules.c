/* fast: a spelling seen for the first time (fast_rules.h: the row rules). */
#include <string.h>

#include "cs_memory.h"
#include "fast_rules.h"

static void ensure_scratch(worker *w, size_t bytes)
{
    if (bytes <= w->scratch_cap) return;
    while (w->scratch_cap < bytes) w->scratch_cap *= 2;
    cs_free(w->scratch);
    w->scratch = cs_alloc(w->scratch_cap, "case02 fast: scratch");
}

/* A spelling seen for the first time: normalize it, find or create its
 * category, and remember the spelling. Runs once per distinct spelling. */
int new_spelling(worker *w, const c2_field *f, uint64_t h)
{
    /* value and normalized value are never longer than the slice */
    ensure_scratch(w, 2 * f->len + 2);
    const char *value = f->ptr;
    size_t value_len = f->len;
    if (f->needs_unescape) {
        value_len = c2_field_copy(f, w->scratch, f->len);
        value = w->scratch;
    }
    char *norm = w->scratch + f->len + 1;
    size_t norm_len = c2_normalize_category(value, value_len, norm, value_len);

    uint64_t nh = hash_bytes(CATEGORY_SEED, norm, norm_len);
    int id = str_find(&w->categories, nh, norm, norm_len, 0);
    if (id < 0) {
        if (w->ncats == w->cat_cap) {
            const char **t = cs_alloc(2 * (size_t)w->cat_cap * sizeof *t, "case02 fast: categories");
            size_t *l = cs_alloc(2 * (size_t)w->cat_cap * sizeof *l, "case02 fast: categories");
            memcpy(t, w->cat_text, (size_t)w->ncats * sizeof *t);
            memcpy(l, w->cat_len, (size_t)w->ncats * sizeof *l);
            cs_free(w->cat_text);
            cs_free(w->cat_len);
            w->cat_text = t;
            w->cat_len = l;
            w->cat_cap *= 2;
        }
        id = w->ncats++;
        w->cat_text[id] = c2_text_arena_copy(&w->arena, norm, norm_len);
        w->cat_len[id] = norm_len;
        str_add(&w->categories, nh, w->cat_text[id], norm_len, 0, id);
    }
    str_add(&w->spellings, h, c2_text_arena_copy(&w->arena, f->ptr, f->len), f->len, f->needs_unescape, id);
    return id;
}
