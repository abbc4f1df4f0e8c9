/* safetensors files: an 8-byte little-endian header length N, N bytes of
 * JSON, then the raw little-endian tensor data. The JSON maps each tensor
 * name to {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}
 * (offsets relative to the end of the header); an optional "__metadata__"
 * entry maps strings to strings. This reader accepts F32 tensors and also
 * parses (but does not convert) I64 ones such as batch norm's
 * num_batches_tracked, so a file exported from torchvision loads as is. */
#ifndef RN_SAFETENSORS_H
#define RN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define RN_ST_MAX_DIMS 8
#define RN_ST_NAME_MAX 128

typedef enum { RN_ST_F32 = 0, RN_ST_I64, RN_ST_OTHER } rn_st_dtype;

typedef struct {
    char name[RN_ST_NAME_MAX];
    rn_st_dtype dtype;
    char dtype_text[16]; /* as written in the file, e.g. "F32", "BF16" */
    int ndims;
    int64_t shape[RN_ST_MAX_DIMS];
    size_t begin, end; /* byte offsets within the data section */
} rn_st_tensor;

typedef struct {
    char path[1024];
    unsigned char *bytes; /* the whole file */
    size_t size;
    size_t data_start; /* 8 + header length */
    rn_st_tensor *tensors;
    int ntensors;
} rn_st_file;

/* Reads and checks a file: header length inside the file, valid JSON of
 * the expected shape, known dtypes (F32, I64; others are read as
 * RN_ST_OTHER and refused by rn_st_get), shapes whose element count times
 * the dtype's size equals end - begin, offsets inside the data section.
 * Returns 0, or 2 with one line on stderr naming the file and the problem
 * (3 when out of memory). */
int rn_st_open(rn_st_file *f, const char *path);
/* The same on bytes already in memory (for tests and the fuzz target);
 * `path` only names the source in messages. The bytes are copied. */
int rn_st_parse(rn_st_file *f, const char *path, const unsigned char *bytes, size_t size);
void rn_st_close(rn_st_file *f);

/* The tensor called name, or NULL. */
const rn_st_tensor *rn_st_find(const rn_st_file *f, const char *name);
/* Whether tensor `name` is there with this dtype (RN_ST_F32 or RN_ST_I64)
 * and exactly this shape: 0; 1 when it is missing (no message); 2 with one
 * line naming the tensor, its dtype or shape and the one expected. */
int rn_st_check(const rn_st_file *f, const char *name, rn_st_dtype dtype, int ndims, const int64_t *shape);
/* Copies the F32 tensor `name` of exactly `count` elements with the given
 * shape into dst. Returns 0; 1 when the tensor is missing (no message: the
 * caller decides); 2 with one line when its dtype is not F32 or its shape
 * differs (the message names both shapes). */
int rn_st_get_f32(const rn_st_file *f, const char *name, int ndims, const int64_t *shape, float *dst);

/* Writing: collect named F32 tensors, then write atomically (temporary
 * name, then rename). Returns 0, or 3 with one line on a write error. */
typedef struct rn_st_writer rn_st_writer;
rn_st_writer *rn_st_writer_new(void);
void rn_st_writer_add(rn_st_writer *w, const char *name, int ndims, const int64_t *shape, const float *data);
/* An I64 scalar tensor (shape []), as torchvision's num_batches_tracked. */
void rn_st_writer_add_i64_scalar(rn_st_writer *w, const char *name, int64_t value);
int rn_st_writer_save(rn_st_writer *w, const char *path);
void rn_st_writer_free(rn_st_writer *w);

#endif
