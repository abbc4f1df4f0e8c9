/* CIFAR-10's binary files: reading them, checking them, and generating a
 * learnable stand-in of the same shape (cifar.h).
 *
 * Reading: every file is checked before anything is allocated (it exists,
 * it is not empty, its size is a whole number of 3073-byte records), so a
 * download cut short is one clear line, never a half-loaded set; then the
 * records are read in chunks and each label is checked as it arrives. The
 * training set's five files are all checked first, and the set allocated
 * once for all of them.
 *
 * Generating: each image is drawn from its own random stream, keyed by the
 * seed and the image's index, so image i is the same whatever n is (a
 * smaller set is a prefix of a larger one) and the images can be drawn in
 * parallel. Geometry is integer arithmetic: the same seed gives the same
 * bytes on any compiler and instruction set. */
#include "cifar.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_rng.h"
#include "cs_files.h"

#define TRAIN_FILES 5
/* Records read per fread: 256 x 3073 bytes = 768 KiB, few calls. */
#define CHUNK_RECORDS 256

/* ---- the set's storage ---------------------------------------------------- */

/* Makes room for `extra` more records, keeping those already held (a new
 * block and a copy: sets are loaded a few times per run, not grown record
 * by record). cs_alloc exits with code 3 when out of memory. */
static void reserve(rn_cifar *d, int extra)
{
    size_t total = (size_t)d->n + (size_t)extra;
    uint8_t *pixels = cs_alloc(total * RN_CIFAR_PIXELS, "CIFAR-10 pixels");
    uint8_t *labels = cs_alloc(total, "CIFAR-10 labels");
    if (d->n > 0) {
        memcpy(pixels, d->pixels, (size_t)d->n * RN_CIFAR_PIXELS);
        memcpy(labels, d->labels, (size_t)d->n);
    }
    cs_free(d->pixels);
    cs_free(d->labels);
    d->pixels = pixels;
    d->labels = labels;
}

void rn_cifar_free(rn_cifar *d)
{
    cs_free(d->pixels);
    cs_free(d->labels);
    memset(d, 0, sizeof *d);
}

/* ---- reading ------------------------------------------------------------ */

/* Checks path's size: it exists, is a regular file, is not empty, and holds
 * a whole number of records. Writes that number. Returns 0 or 2 (message
 * printed). */
static int count_records(const char *path, size_t *records)
{
    size_t bytes;
    if (cs_input_file_size(path, &bytes) != 0) return 2;
    if (bytes == 0) {
        cs_error("%s: empty file (0 bytes): no 3073-byte records", path);
        return 2;
    }
    if (bytes % RN_CIFAR_RECORD != 0) {
        cs_error("%s: %zu bytes is not a whole number of %d-byte records (%zu records and %zu "
                 "bytes over: a download cut short?)",
                 path, bytes, RN_CIFAR_RECORD, bytes / RN_CIFAR_RECORD, bytes % RN_CIFAR_RECORD);
        return 2;
    }
    *records = bytes / RN_CIFAR_RECORD;
    return 0;
}

/* The set's n must stay an int: the sizes are checked before allocating. */
static int check_total(const char *what, size_t have, size_t more)
{
    if (more > (size_t)INT_MAX - have) {
        cs_error("%s: %zu records in all is more than this program holds (%d)", what, have + more, INT_MAX);
        return 2;
    }
    return 0;
}

/* Reads the first `count` records of path (whose size was checked) into d
 * after its d->n records; there must be room. Checks every label. d->n is
 * raised only when all of them are read. Returns 0 or 2. */
static int read_records(rn_cifar *d, const char *path, size_t count)
{
    /* The size was checked by name; the file opened is checked again (a
     * FIFO put there since would otherwise be waited on). */
    size_t bytes;
    int fd = cs_open_regular(path, &bytes);
    if (fd < 0) return 2;
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        cs_error("%s: cannot read: %s", path, strerror(errno));
        close(fd);
        return 2;
    }
    uint8_t *chunk = cs_alloc((size_t)CHUNK_RECORDS * RN_CIFAR_RECORD, "CIFAR-10 read buffer");
    int rc = 0;
    size_t done = 0;
    while (rc == 0 && done < count) {
        size_t want = count - done < CHUNK_RECORDS ? count - done : CHUNK_RECORDS;
        size_t got = fread(chunk, RN_CIFAR_RECORD, want, f);
        if (got != want) {
            /* The size was checked: a short read is an error or a file that
             * changed under us. */
            if (ferror(f))
                cs_error("%s: read error at record %zu: %s", path, done + got, strerror(errno));
            else
                cs_error("%s: ends at record %zu, before the %zu its size promised (changed "
                         "while reading?)",
                         path, done + got, count);
            rc = 2;
            break;
        }
        for (size_t k = 0; k < got; k++) {
            const uint8_t *record = chunk + k * RN_CIFAR_RECORD;
            size_t r = done + k;
            if (record[0] >= RN_CIFAR_CLASSES) {
                cs_error("%s: record %zu: label %u is not 0..9", path, r, (unsigned)record[0]);
                rc = 2;
                break;
            }
            size_t at = (size_t)d->n + r;
            d->labels[at] = record[0];
            memcpy(d->pixels + at * RN_CIFAR_PIXELS, record + 1, RN_CIFAR_PIXELS);
        }
        done += got;
    }
    cs_free(chunk);
    fclose(f);
    if (rc == 0) d->n += (int)count;
    return rc;
}

int rn_cifar_read_file(rn_cifar *d, const char *path)
{
    size_t records;
    int rc = count_records(path, &records);
    if (rc == 0) rc = check_total(path, (size_t)d->n, records);
    if (rc != 0) return rc;
    reserve(d, (int)records);
    rc = read_records(d, path, records);
    if (rc == 0) snprintf(d->source, sizeof d->source, "%s", path);
    return rc;
}

int rn_cifar_read_first(rn_cifar *d, const char *path, int count)
{
    if (count < 1) {
        cs_error("%s: asked for %d records: need at least 1", path, count);
        return 2;
    }
    size_t records;
    int rc = count_records(path, &records);
    if (rc != 0) return rc;
    if (records < (size_t)count) {
        cs_error("%s: holds %zu records, fewer than the %d asked for", path, records, count);
        return 2;
    }
    if ((rc = check_total(path, (size_t)d->n, (size_t)count)) != 0) return rc;
    reserve(d, count);
    rc = read_records(d, path, (size_t)count);
    if (rc == 0) snprintf(d->source, sizeof d->source, "%s (first %d records)", path, count);
    return rc;
}

/* Reads the named files of dir into d: every file's size checked first (a
 * missing fifth file is reported before four are read), one allocation,
 * then the records. On failure d->n is back where it was. */
static int read_files(rn_cifar *d, const char *dir, const char *const *names, int nfiles)
{
    char path[CS_PATH_MAX];
    size_t records[TRAIN_FILES], total = 0;
    for (int i = 0; i < nfiles; i++) {
        cs_path_join(path, sizeof path, dir, names[i]);
        int rc = count_records(path, &records[i]);
        if (rc == 0) rc = check_total(path, (size_t)d->n + total, records[i]);
        if (rc != 0) return rc;
        total += records[i];
    }
    int n_before = d->n;
    reserve(d, (int)total);
    for (int i = 0; i < nfiles; i++) {
        cs_path_join(path, sizeof path, dir, names[i]);
        int rc = read_records(d, path, records[i]);
        if (rc != 0) {
            d->n = n_before;
            return rc;
        }
    }
    snprintf(d->source, sizeof d->source, "%s", dir);
    return 0;
}

int rn_cifar_load_train(rn_cifar *d, const char *dir)
{
    static const char *const names[TRAIN_FILES] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                                   "data_batch_4.bin", "data_batch_5.bin"};
    return read_files(d, dir, names, TRAIN_FILES);
}

int rn_cifar_load_test(rn_cifar *d, const char *dir)
{
    static const char *const names[1] = {"test_batch.bin"};
    return read_files(d, dir, names, 1);
}

/* ---- the generated set ------------------------------------------------------ */

/* Each class: a shape and a base colour. The colours alone would separate
 * most classes, but they are jittered enough that neighbours (red, orange,
 * magenta) overlap: the network has to learn the shapes too. */
typedef enum { DISC, SQUARE, HBAR, VBAR, RING, CROSS, TRIANGLE, DIAGONAL, TWO_DOTS, FRAME } shape_kind;

static const uint8_t class_colour[RN_CIFAR_CLASSES][3] = {
    {220, 45, 45},   /* 0 disc: red */
    {45, 200, 60},   /* 1 square: green */
    {50, 70, 230},   /* 2 horizontal bar: blue */
    {230, 220, 45},  /* 3 vertical bar: yellow */
    {210, 55, 210},  /* 4 ring: magenta */
    {45, 210, 220},  /* 5 cross: cyan */
    {240, 140, 30},  /* 6 triangle: orange */
    {125, 55, 185},  /* 7 diagonal stripe: purple */
    {235, 235, 235}, /* 8 two dots: white */
    {25, 25, 25},    /* 9 frame: near black */
};

/* How much the images vary, in pixels and colour levels. */
#define COLOUR_JITTER 40 /* each channel of the shape's colour, +- */
#define CENTRE_MIN    10 /* the shape's centre, each axis, in [10, 21] */
#define CENTRE_SPAN   12
#define SIZE_MIN      6 /* the shape's half-extent, in [6, 10] */
#define SIZE_SPAN     5
#define BG_MIN        40 /* background base level, each channel, [40, 190) */
#define BG_SPAN       150

/* Random streams: labels per block of ten images, and one per image. Tags
 * keep them apart from each other and from the seed's other uses. */
#define TAG_LABELS 0x4C4142454C53ull /* "LABELS" */
#define TAG_IMAGES 0x494D41474553ull /* "IMAGES" */
/* The test set's images are drawn from this far along the index range, so
 * they never repeat a training image of the same seed. */
#define TEST_FIRST_INDEX ((uint64_t)1 << 40)

static int clamp_byte(int v)
{
    return v < 0 ? 0 : (v > 255 ? 255 : v);
}

/* Whether pixel (dx, dy) from the shape's centre is inside it; s is the
 * half-extent, t the stroke's thickness. Integer arithmetic only. */
static int inside(shape_kind kind, int dx, int dy, int s, int t)
{
    int ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy;
    int d2 = dx * dx + dy * dy;
    switch (kind) {
    case DISC: return d2 <= s * s + s; /* + s: radius s + 1/2, no lone pips */
    case SQUARE: return ax <= s * 4 / 5 && ay <= s * 4 / 5;
    case HBAR: return ay <= t && ax <= s + s / 3;
    case VBAR: return ax <= t && ay <= s + s / 3;
    case RING: return d2 <= s * s + s && d2 > (s - t) * (s - t) + (s - t);
    case CROSS: return (ax <= t && ay <= s) || (ay <= t && ax <= s);
    case TRIANGLE: return dy >= -s && dy <= s && 2 * ax <= dy + s; /* apex up */
    case DIAGONAL: {
        int across = dx - dy, along = dx + dy;
        return (across < 0 ? -across : across) <= t + t / 2 && (along < 0 ? -along : along) <= 2 * s;
    }
    case TWO_DOTS: {
        int off = s * 2 / 3 + 1, r = s / 2; /* a gap between the dots */
        int ex = ax - off;
        return ex * ex + dy * dy <= r * r + r;
    }
    case FRAME: {
        int m = ax > ay ? ax : ay;
        return m <= s && m > s - t;
    }
    }
    return 0;
}

/* The labels of block k (images 10k .. 10k+9): a permutation of 0..9, so
 * any n holds each class n/10 times, give or take one. */
static void block_labels(uint64_t seed, uint64_t block, uint8_t perm[RN_CIFAR_CLASSES])
{
    cs_rng key;
    cs_rng_seed(&key, block, TAG_LABELS);
    cs_rng r;
    cs_rng_seed(&r, seed, cs_rng_u64(&key));
    for (int c = 0; c < RN_CIFAR_CLASSES; c++) perm[c] = (uint8_t)c;
    for (int c = RN_CIFAR_CLASSES - 1; c > 0; c--) {
        int j = (int)cs_rng_below(&r, (uint32_t)c + 1);
        uint8_t tmp = perm[c];
        perm[c] = perm[j];
        perm[j] = tmp;
    }
}

static uint8_t label_of(uint64_t seed, uint64_t index)
{
    uint8_t perm[RN_CIFAR_CLASSES];
    block_labels(seed, index / RN_CIFAR_CLASSES, perm);
    return perm[index % RN_CIFAR_CLASSES];
}

/* Draws image `index` of class `label` into out (3 x 32 x 32 bytes).
 * The background is filled plane by plane from per-row and per-column
 * terms (a loop the compiler vectorises); the shape is then painted over
 * its bounding box only. */
static void draw_image(uint64_t seed, uint64_t index, int label, uint8_t *out)
{
    enum { SIDE = RN_CIFAR_SIDE, PLANE = SIDE * SIDE };
    cs_rng key;
    cs_rng_seed(&key, index, TAG_IMAGES);
    cs_rng r;
    cs_rng_seed(&r, seed, cs_rng_u64(&key));

    /* The background: a random level per channel, a brightness gradient
     * (in 1/16 levels per pixel), a texture of stripes or checks, noise. */
    int bg[3];
    for (int c = 0; c < 3; c++) bg[c] = BG_MIN + (int)cs_rng_below(&r, BG_SPAN);
    int grad_x = (int)cs_rng_below(&r, 65) - 32, grad_y = (int)cs_rng_below(&r, 65) - 32;
    int texture = (int)cs_rng_below(&r, 4); /* 0 none, 1 rows, 2 columns, 3 checks */
    int period = 2 + (int)cs_rng_below(&r, 6);
    int phase = (int)cs_rng_below(&r, 8);
    int tex_amp = 4 + (int)cs_rng_below(&r, 16);
    int noise_amp = 6 + (int)cs_rng_below(&r, 20); /* +- levels */

    /* The shape: the class's kind and colour, placed and sized at random. */
    int cx = CENTRE_MIN + (int)cs_rng_below(&r, CENTRE_SPAN);
    int cy = CENTRE_MIN + (int)cs_rng_below(&r, CENTRE_SPAN);
    int s = SIZE_MIN + (int)cs_rng_below(&r, SIZE_SPAN);
    int t = 1 + (int)cs_rng_below(&r, 3);
    int fg[3];
    for (int c = 0; c < 3; c++)
        fg[c] = clamp_byte(class_colour[label][c] + (int)cs_rng_below(&r, 2 * COLOUR_JITTER + 1) - COLOUR_JITTER);

    /* Noise: one byte per pixel and channel, eight from each draw (taken
     * by shifts, so the order does not depend on the machine's byte
     * order), mapped to [-noise_amp, noise_amp]. */
    uint8_t noise_byte[3 * PLANE];
    for (int k = 0; k < 3 * PLANE; k += 8) {
        uint64_t bits = cs_rng_u64(&r);
        for (int j = 0; j < 8; j++) noise_byte[k + j] = (uint8_t)(bits >> (8 * j));
    }
    const int noise_span = 2 * noise_amp + 1;

    /* Brightness per pixel: gradient plus texture, from row and column terms. */
    int row_term[SIDE], col_term[SIDE], row_band[SIDE], col_band[SIDE];
    for (int i = 0; i < SIDE; i++) {
        row_term[i] = grad_y * (i - SIDE / 2);
        col_term[i] = grad_x * (i - SIDE / 2);
        row_band[i] = ((i + phase) / period) & 1;
        col_band[i] = ((i + phase) / period) & 1;
    }
    int shade[PLANE];
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
            int band = texture == 1   ? row_band[y]
                       : texture == 2 ? col_band[x]
                       : texture == 3 ? (row_band[y] + col_band[x]) & 1
                                      : 0;
            shade[y * SIDE + x] = (row_term[y] + col_term[x]) / 16 + (band ? tex_amp : -tex_amp);
        }
    }
    for (int c = 0; c < 3; c++) {
        const uint8_t *nb = noise_byte + c * PLANE;
        uint8_t *plane = out + (size_t)c * PLANE;
        for (int p = 0; p < PLANE; p++)
            plane[p] = (uint8_t)clamp_byte(bg[c] + shade[p] + ((nb[p] * noise_span) >> 8) - noise_amp);
    }

    /* The shape over its bounding box (every kind fits in +-2s), with half
     * the noise so its colour stays the class's. */
    int y_lo = cy - 2 * s < 0 ? 0 : cy - 2 * s, y_hi = cy + 2 * s > SIDE - 1 ? SIDE - 1 : cy + 2 * s;
    int x_lo = cx - 2 * s < 0 ? 0 : cx - 2 * s, x_hi = cx + 2 * s > SIDE - 1 ? SIDE - 1 : cx + 2 * s;
    for (int y = y_lo; y <= y_hi; y++)
        for (int x = x_lo; x <= x_hi; x++) {
            if (!inside((shape_kind)label, x - cx, y - cy, s, t)) continue;
            for (int c = 0; c < 3; c++) {
                int p = c * PLANE + y * SIDE + x;
                out[p] = (uint8_t)clamp_byte(fg[c] + (((noise_byte[p] * noise_span) >> 8) - noise_amp) / 2);
            }
        }
}

/* Images first .. first+n-1 of the seed's sequence, into d's arrays. */
static void generate_range(uint8_t *pixels, uint8_t *labels, int n, uint64_t seed, uint64_t first)
{
    /* Each image has its own stream: threads change nothing in the bytes. */
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        uint64_t index = first + (uint64_t)i;
        labels[i] = label_of(seed, index);
        draw_image(seed, index, labels[i], pixels + (size_t)i * RN_CIFAR_PIXELS);
    }
}

int rn_cifar_generate(rn_cifar *d, int n, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (n < 1) {
        cs_error("generated CIFAR-shaped set: %d images asked for: need at least 1", n);
        return 2;
    }
    reserve(d, n);
    generate_range(d->pixels, d->labels, n, seed, 0);
    d->n = n;
    snprintf(d->source, sizeof d->source, "generated from seed %llu", (unsigned long long)seed);
    return 0;
}

/* ---- writing ---------------------------------------------------------------- */

/* Writes records [first, first + n) of the seed's sequence to o, a chunk
 * at a time. Returns 0 or 3 (message printed). */
static int write_records(cs_outfile *o, uint64_t seed, uint64_t first, int n)
{
    uint8_t *pixels = cs_alloc((size_t)CHUNK_RECORDS * RN_CIFAR_PIXELS, "CIFAR-10 write buffer");
    uint8_t labels[CHUNK_RECORDS];
    int rc = 0;
    for (int done = 0; done < n && rc == 0; done += CHUNK_RECORDS) {
        int count = n - done < CHUNK_RECORDS ? n - done : CHUNK_RECORDS;
        generate_range(pixels, labels, count, seed, first + (uint64_t)done);
        for (int k = 0; k < count; k++) {
            if (fputc(labels[k], o->f) == EOF ||
                fwrite(pixels + (size_t)k * RN_CIFAR_PIXELS, 1, RN_CIFAR_PIXELS, o->f) != RN_CIFAR_PIXELS) {
                cs_error("%s: write error: %s", o->path, strerror(errno));
                rc = 3;
                break;
            }
        }
    }
    cs_free(pixels);
    return rc;
}

/* The six files' names: data_batch_1.bin .. data_batch_5.bin, test_batch.bin. */
static void file_name(int i, char *name, size_t cap)
{
    if (i < TRAIN_FILES)
        snprintf(name, cap, "data_batch_%d.bin", i + 1);
    else
        snprintf(name, cap, "test_batch.bin");
}

/* The fault a test injects (CS_FAULT_INJECT=generate_rename_N): the N-th
 * file's rename fails, as a full or vanished disk would make it. */
static int fault_rename(int i)
{
    const char *fault = getenv("CS_FAULT_INJECT");
    char want[32];
    snprintf(want, sizeof want, "generate_rename_%d", i + 1);
    return fault != NULL && strcmp(fault, want) == 0;
}

/* The training files hold images 0 .. train_n - 1 of the seed's sequence
 * (so they read back as rn_cifar_generate(train_n, seed) gives them), the
 * test file images from TEST_FIRST_INDEX on: other images, same classes.
 *
 * All or nothing: the six files are written to temporary names, flushed and
 * closed, and only then renamed into place one by one; a file they replace
 * is kept under a second name (a hard link) until all six are in place. A
 * failure at any point leaves the folder as it was: no new file, the old
 * ones back, and the folder removed again if this call created it. */
int rn_cifar_write_dir(const char *dir, int train_n, int test_n, uint64_t seed)
{
    enum { NFILES = TRAIN_FILES + 1 };
    if (train_n < TRAIN_FILES || test_n < 1) {
        /* An empty batch file would be unreadable: every file gets one. */
        cs_error("%s: %d training and %d test images: need at least %d and 1", dir, train_n, test_n, TRAIN_FILES);
        return 2;
    }
    /* Before anything is written: the folder can be made or written, and
     * none of the six names is taken by something a rename cannot replace
     * (a folder) or should not (a FIFO, a device). */
    if (cs_check_writable_dir(dir) != 0) return 2;
    char paths[NFILES][CS_PATH_MAX];
    struct stat st;
    for (int i = 0; i < NFILES; i++) {
        char name[32];
        file_name(i, name, sizeof name);
        cs_path_join(paths[i], sizeof paths[i], dir, name);
        if (stat(paths[i], &st) == 0 && !S_ISREG(st.st_mode)) {
            cs_error("--generate %s: %s is %s, not a regular file to replace", dir, paths[i], cs_file_kind(st.st_mode));
            return 2;
        }
    }
    int made_dir = stat(dir, &st) != 0;
    if (cs_mkdir_p(dir) != 0) return 3;

    cs_outfile files[NFILES];
    int opened = 0, rc = 0;
    uint64_t first = 0;
    for (int i = 0; i < NFILES && rc == 0; i++) {
        int n;
        uint64_t start;
        if (i < TRAIN_FILES) {
            /* As evenly as possible: the first train_n % 5 files one more. */
            n = train_n / TRAIN_FILES + (i < train_n % TRAIN_FILES);
            start = first;
            first += (uint64_t)n;
        } else {
            n = test_n;
            start = TEST_FIRST_INDEX;
        }
        if (cs_outfile_open(&files[i], paths[i]) != 0) {
            rc = 3;
            break;
        }
        opened++;
        rc = write_records(&files[i], seed, start, n);
    }
    /* Every byte on disk before the first rename: a full disk shows at
     * fflush or fclose. */
    for (int i = 0; i < opened && rc == 0; i++) {
        int err = 0;
        if (fflush(files[i].f) != 0)
            err = errno;
        else if (ferror(files[i].f))
            err = EIO;
        if (fclose(files[i].f) != 0 && err == 0) err = errno;
        files[i].f = NULL;
        if (err != 0) {
            cs_error("cannot write %s: %s", paths[i], strerror(err));
            rc = 3;
        }
    }
    /* The renames, each replaced file kept as PATH.old.PID until the end. */
    char backup[NFILES][CS_PATH_MAX + 32];
    int backed[NFILES] = {0}, renamed = 0;
    for (int i = 0; i < opened && rc == 0; i++) {
        snprintf(backup[i], sizeof backup[i], "%s.old.%ld", paths[i], (long)getpid());
        if (stat(paths[i], &st) == 0) {
            if (link(paths[i], backup[i]) != 0) {
                cs_error("cannot write %s: keeping the old file as %s failed: %s", paths[i], backup[i],
                         strerror(errno));
                rc = 3;
                break;
            }
            backed[i] = 1;
        }
        int failed = fault_rename(i) ? (errno = EIO, -1) : rename(files[i].tmp, paths[i]);
        if (failed != 0) {
            cs_error("cannot write %s (rename failed): %s", paths[i], strerror(errno));
            rc = 3;
            break;
        }
        files[i].tmp[0] = '\0';
        renamed++;
    }
    if (rc != 0) {
        /* Back as it was: the new files out, the old ones in. */
        for (int i = 0; i < renamed; i++) {
            if (backed[i])
                rename(backup[i], paths[i]);
            else
                unlink(paths[i]);
            backed[i] = 0;
        }
        for (int i = 0; i < opened; i++) cs_outfile_abort(&files[i]);
        if (made_dir) rmdir(dir); /* only when empty: never anything else's */
    }
    for (int i = 0; i < NFILES; i++)
        if (backed[i]) unlink(backup[i]);
    return rc;
}
