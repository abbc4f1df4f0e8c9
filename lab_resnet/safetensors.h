/* safetensors files: an 8-byte little-endian header length N, N bytes of
 * JSON, then the raw little-endian tensor data. The JSON maps each tensor
 * name to {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}
 * (offsets relative to the end of the header); an optional "__metadata__"
 * entry maps strings to strings. This reader accepts F32 tensors and also
 * parses (but does not convert) I64 ones such as batch norm's
 * num_batches_tracked, so a file exported from torchvision loads as is. */
#ifndef LR_SAFETENSORS_H
#define LR_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define LR_ST_MAX_DIMS 8
#define LR_ST_NAME_MAX 128

typedef enum { LR_ST_F32 = 0, LR_ST_I64, LR_ST_OTHER } lr_st_dtype;

typedef struct {
    char name[LR_ST_NAME_MAX];
    lr_st_dtype dtype;
    char dtype_text[16];         /* as written in the file, e.g. "F32", "BF16" */
    int ndims;
    int64_t shape[LR_ST_MAX_DIMS];
    size_t begin, end;           /* byte offsets within the data section */
} lr_st_tensor;

typedef struct {
    char path[1024];
    unsigned char *bytes;        /* the whole file */
    size_t size;
    size_t data_start;           /* 8 + header length */
    lr_st_tensor *tensors;
    int ntensors;
} lr_st_file;

/* Reads and checks a file: header length inside the file, valid JSON of
 * the expected shape, known dtypes (F32, I64; others are read as
 * LR_ST_OTHER and refused by lr_st_get), shapes whose element count times
 * the dtype's size equals end - begin, offsets inside the data section.
 * Returns 0, or 2 with one line on stderr naming the file and the problem
 * (3 when out of memory). */
int lr_st_open(lr_st_file *f, const char *path);
/* The same on bytes already in memory (for tests and the fuzz target);
 * `path` only names the source in messages. The bytes are copied. */
int lr_st_parse(lr_st_file *f, const char *path, const unsigned char *bytes, size_t size);
void lr_st_close(lr_st_file *f);

/* The tensor called name, or NULL. */
const lr_st_tensor *lr_st_find(const lr_st_file *f, const char *name);
/* Whether tensor `name` is there with this dtype (LR_ST_F32 or LR_ST_I64)
 * and exactly this shape: 0; 1 when it is missing (no message); 2 with one
 * line naming the tensor, its dtype or shape and the one expected. */
int lr_st_check(const lr_st_file *f, const char *name, lr_st_dtype dtype, int ndims,
                const int64_t *shape);
/* Copies the F32 tensor `name` of exactly `count` elements with the given
 * shape into dst. Returns 0; 1 when the tensor is missing (no message: the
 * caller decides); 2 with one line when its dtype is not F32 or its shape
 * differs (the message names both shapes). */
int lr_st_get_f32(const lr_st_file *f, const char *name, int ndims, const int64_t *shape,
                  float *dst);

/* Writing: collect named F32 tensors, then write atomically (temporary
 * name, then rename). Returns 0, or 3 with one line on a write error. */
typedef struct lr_st_writer lr_st_writer;
lr_st_writer *lr_st_writer_new(void);
void lr_st_writer_add(lr_st_writer *w, const char *name, int ndims, const int64_t *shape,
                      const float *data);
/* An I64 scalar tensor (shape []), as torchvision's num_batches_tracked. */
void lr_st_writer_add_i64_scalar(lr_st_writer *w, const char *name, int64_t value);
int lr_st_writer_save(lr_st_writer *w, const char *path);
void lr_st_writer_free(lr_st_writer *w);

#endif
