/* SPDX-License-Identifier: MIT
 *
 * softreg.h: the public API of libsoftreg, softmax (multinomial logistic)
 * regression on dense or sparse features (IDX, .npy, libsvm, CSV), with a
 * naive reference kernel, a batched BLAS kernel and a sparse kernel behind one
 * contract.
 *
 * Conventions, for every function below:
 *  - Arrays are float32 and row-major. Shapes are written (rows, cols).
 *  - Functions that can fail return an 'enum softreg_result' and, on failure,
 *    write one line into 'err' (SOFTREG_ERRLEN bytes; may be NULL) naming the
 *    file and the reason. The library never prints and never exits.
 *  - Sizes are size_t; n samples, d features, k classes.
 *  - Objects are not safe to use from several threads at once; distinct
 *    objects are independent. There is no global mutable state, except the
 *    thread count that softreg_set_threads() hands to OpenMP and OpenBLAS.
 */
#ifndef SOFTREG_H
#define SOFTREG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOFTREG_VERSION_STRING "0.2.0"
#define SOFTREG_VERSION_MAJOR 0
#define SOFTREG_VERSION_MINOR 2

/*
 * SOFTREG_API marks what libsoftreg exports; the library is built with
 * -fvisibility=hidden, so nothing else leaves libsoftreg.so.
 *
 * ABI rules of the shared library (SONAME libsoftreg.so.0): a minor version
 * only adds functions and constants; a public struct only grows at its end
 * (new fields zero by default: softreg_params_default() fills them), never
 * reorders or changes a field; enum values keep their numbers. Anything else
 * changes the SONAME's number.
 */
#if defined(_WIN32)
#define SOFTREG_API
#else
#define SOFTREG_API __attribute__((visibility("default")))
#endif
#define SOFTREG_ERRLEN 1024

/* ==== Results ==== */

enum softreg_result {
	SOFTREG_OK = 0,
	SOFTREG_ERR_IO = 1,          /* a file could not be opened, read or written */
	SOFTREG_ERR_FORMAT = 2,      /* a file is malformed, truncated or corrupt */
	SOFTREG_ERR_NOMEM = 3,       /* an allocation failed */
	SOFTREG_ERR_PARAM = 4,       /* an argument or option is out of range */
	SOFTREG_ERR_MISMATCH = 5,    /* two inputs do not fit together (d, k, counts) */
	SOFTREG_ERR_DIVERGED = 6,    /* training produced a non-finite loss or weight */
	SOFTREG_ERR_INTERRUPTED = 7, /* training stopped because the stop flag was set */
};

/* softreg_result_name() - a short constant string for 'r' ("ok", "io", ...). */
SOFTREG_API const char *softreg_result_name(enum softreg_result r);

/* ==== IDX files ==== */

/* The largest decompressed IDX payload a reader accepts unless told otherwise:
 * 4 GiB, well above any image set that fits this tool's purpose. A file that
 * claims more is rejected before anything is allocated. Override with the
 * 'max_bytes' argument, or in the CLI with $SOFTREG_MAX_BYTES. */
#define SOFTREG_IDX_MAX_BYTES ((uint64_t)4 << 30)

struct softreg_idx {
	uint8_t *data;    /* the payload, dims[0] * ... * dims[ndim-1] bytes */
	size_t ndim;      /* 1 (labels) or 3 (images) */
	size_t dims[3];
	size_t nbytes;
};

/*
 * softreg_idx_read() - read an IDX file of unsigned bytes, raw or gzip.
 *
 * 'path' is read through zlib, so a gzip file and a raw file give the same
 * result. Only type 0x08 (unsigned byte) with 1 or 3 dimensions is accepted.
 * The header's dimensions are multiplied with overflow checks, bounded by
 * 'max_bytes' (0 = SOFTREG_IDX_MAX_BYTES), and checked against the file's
 * length (raw) or the gzip trailer's size field before anything is allocated.
 * A short payload, a corrupt gzip stream or trailing bytes are errors.
 *
 * Returns SOFTREG_OK and fills 'out' (free it with softreg_idx_free()), or an
 * error with 'out' zeroed.
 */
SOFTREG_API enum softreg_result softreg_idx_read(const char *path, uint64_t max_bytes,
				     struct softreg_idx *out, char *err);

/*
 * softreg_idx_read_rows() - rows [row0, row0 + count) of an IDX file (its
 * first dimension counts the rows), for one process of several: the header
 * is checked as by softreg_idx_read(), 'dims' are the file's, and 'data'
 * holds the rows asked for alone ('nbytes' of them). A raw file is read
 * only there; a gzip file is inflated whole and the other rows dropped.
 * 'count' 0: the header alone. SOFTREG_ERR_PARAM when the rows are not in
 * the file.
 */
SOFTREG_API enum softreg_result softreg_idx_read_rows(const char *path, uint64_t max_bytes, size_t row0,
						      size_t count, struct softreg_idx *out, char *err);

/* softreg_idx_free() - free the payload; NULL or a zeroed struct is fine. */
SOFTREG_API void softreg_idx_free(struct softreg_idx *idx);

/* ==== Feature sources and datasets ==== */

/*
 * Where the features of a data set live. A batch is cut from a source by row
 * indices; the kernels turn its rows into floats with the model's
 * preprocessing (x * scale, or (x - mean[j]) * inv_std[j]).
 */
enum softreg_source_kind {
	SOFTREG_SOURCE_U8 = 0,  /* dense uint8 (n, d): IDX images, uint8 .npy */
	SOFTREG_SOURCE_F32 = 1, /* dense float32 (n, d): float32 .npy (in place), float64 .npy, CSV */
	SOFTREG_SOURCE_F16 = 2, /* dense IEEE binary16 (n, d): float16 .npy, converted per chunk */
	SOFTREG_SOURCE_CSR = 3, /* sparse rows: libsvm text */
};
#define SOFTREG_SOURCE_KINDS 4

struct softreg_source {
	enum softreg_source_kind kind;
	size_t n, d;
	const void *data;        /* dense: (n, d) elements of the kind, row-major */
	const uint64_t *indptr;  /* CSR: (n + 1) offsets into indices/values; indptr[0] = 0 */
	const uint32_t *indices; /* CSR: (nnz) column indices, strictly increasing within a row, < d */
	const float *values;     /* CSR: (nnz) */
	int origin;              /* CSR made by softreg_dataset_sparsify(): 1 + the dense kind it was made
				  * from (values as that kind holds them, before preprocessing); else 0 */
	const uint16_t *indices16; /* CSR, compact form: the indices as uint16 (d <= 65536) ... */
	const uint8_t *values8;    /* ... and the values as uint8 (integers in [0, 255]): 3 bytes a
				    * nonzero instead of 8. When set, readers take the nonzeros from
				    * these, and indices and values may be NULL (uint8 data sparsified) */
};

/* softreg_source_input() - the kind a source's values came as: its own, or
 * for a CSR from softreg_dataset_sparsify() the dense kind it was made from
 * (a model trained on uint8 pixels scales them alike, whatever the layout). */
SOFTREG_API enum softreg_source_kind softreg_source_input(const struct softreg_source *src);

/* softreg_source_name() - "uint8", "float32", "float16" or "csr". */
SOFTREG_API const char *softreg_source_name(enum softreg_source_kind kind);

/* The largest class count and feature count a model takes. */
#define SOFTREG_MAX_CLASSES 65535u
#define SOFTREG_MAX_FEATURES 2147483647u

/*
 * A data set: features, the label values as read, and (once mapped to a class
 * table with softreg_dataset_map_labels()) class indices. It owns its
 * memory: buffers, or a read-only mapping of the file.
 */
struct softreg_dataset {
	struct softreg_source x;
	size_t n, d;            /* = x.n, x.d */
	size_t rows, cols;      /* the image shape (IDX), else 1 x d */
	int64_t *labels;        /* (n) label values as read */
	uint32_t *y;            /* (n) class indices; NULL until mapped */
	size_t dropped;         /* libsvm: nonzeros of features >= d that were ignored */
	void *mem_[4];          /* owned buffers (free()) */
	void *map_;             /* an owned read-only mapping (munmap()) */
	size_t map_len_;
};

/* The formats a data set is read from. */
enum softreg_format {
	SOFTREG_FORMAT_AUTO = 0, /* from the content (IDX, gzip, npy magic) or the extension */
	SOFTREG_FORMAT_IDX = 1,  /* IDX images + IDX labels, raw or gzip */
	SOFTREG_FORMAT_NPY = 2,  /* .npy features (n, d) + .npy labels (n) */
	SOFTREG_FORMAT_LIBSVM = 3, /* libsvm/svmlight text: labels in the same file */
	SOFTREG_FORMAT_CSV = 4,  /* numeric CSV: labels in a column of the same file */
};

/* How to read a data set; zero it for the defaults. */
struct softreg_read_opts {
	enum softreg_format format;
	uint64_t max_bytes;       /* IDX: largest payload (0 = SOFTREG_IDX_MAX_BYTES) */
	int zero_based;           /* libsvm: indices start at 0 (default 1, as liblinear) */
	size_t d;                 /* libsvm: the feature count (0: the largest index seen); features
				   * beyond it are ignored and counted in 'dropped' */
	const char *label_column; /* CSV: a header name or a 0-based index (NULL: the first column) */
};

/* softreg_format_name() - "auto", "idx", "npy", "libsvm" or "csv". */
SOFTREG_API const char *softreg_format_name(enum softreg_format f);

/* softreg_format_detect() - the format of 'path' from its first bytes (IDX
 * and .npy magic; gzip is taken as IDX), else its extension (.npy, .svm,
 * .libsvm, .txt, .csv, .idx*, .*-ubyte); SOFTREG_FORMAT_AUTO when unknown. */
SOFTREG_API enum softreg_format softreg_format_detect(const char *path);

/*
 * softreg_dataset_read() - read a data set: 'features' and, for IDX and
 * .npy, 'labels' (NULL for libsvm and CSV, which hold their labels; may be
 * NULL for IDX and .npy too, when the labels are not needed: predict). Every
 * value is checked: a NaN or infinite feature is an error naming the file and
 * the row. Returns SOFTREG_OK and fills 'ds' (free with
 * softreg_dataset_free()), or an error naming the file.
 */
SOFTREG_API enum softreg_result softreg_dataset_read(const char *features, const char *labels,
					 const struct softreg_read_opts *opts,
					 struct softreg_dataset *ds, char *err);

/*
 * softreg_dataset_load() - read an image IDX file and a label IDX file.
 *
 * The image count must equal the label count. Returns SOFTREG_OK and fills
 * 'ds' (free with softreg_dataset_free()), or an error naming the file.
 */
SOFTREG_API enum softreg_result softreg_dataset_load(const char *images_path,
					 const char *labels_path,
					 uint64_t max_bytes,
					 struct softreg_dataset *ds, char *err);

/*
 * softreg_dataset_find() - the path of a standard MNIST-layout file in 'dir'.
 *
 * 'stem' is e.g. "train-images-idx3-ubyte"; 'dir/stem' is preferred when it
 * exists, else 'dir/stem.gz'. Writes into 'path' ('size' bytes) and returns
 * SOFTREG_OK, or SOFTREG_ERR_IO when neither exists.
 */
SOFTREG_API enum softreg_result softreg_dataset_find(const char *dir, const char *stem,
					 char *path, size_t size, char *err);

/*
 * softreg_dataset_load_split() - load one set of 'dir': 'prefix' "train" or
 * "t10k" names {prefix}-images-idx3-ubyte[.gz] and {prefix}-labels-idx1-ubyte[.gz].
 */
SOFTREG_API enum softreg_result softreg_dataset_load_split(const char *dir, const char *prefix, uint64_t max_bytes,
					       struct softreg_dataset *ds, char *err);

/*
 * softreg_dataset_load_dir() - load the train and test sets of 'dir'.
 *
 * Reads the four files in parallel. Checks that train and test have the same
 * image size.
 */
SOFTREG_API enum softreg_result softreg_dataset_load_dir(const char *dir, uint64_t max_bytes,
					     struct softreg_dataset *train,
					     struct softreg_dataset *test,
					     char *err);

/*
 * softreg_dataset_classes() - the class table of 'ds': its distinct label
 * values in increasing order, in a new array '*classes_ret' (free()) of
 * '*k_ret' entries. SOFTREG_ERR_FORMAT when there are fewer than 2 or more
 * than SOFTREG_MAX_CLASSES distinct values ('what' names the data).
 */
SOFTREG_API enum softreg_result softreg_dataset_classes(const struct softreg_dataset *ds, const char *what,
					    int64_t **classes_ret, size_t *k_ret, char *err);

/*
 * softreg_dataset_map_labels() - set ds->y to the index of each label in
 * 'classes' (k increasing values). A label that is not in the table is
 * SOFTREG_ERR_MISMATCH naming 'what', the row and the value.
 */
SOFTREG_API enum softreg_result softreg_dataset_map_labels(struct softreg_dataset *ds, const int64_t *classes, size_t k,
					       const char *what, char *err);

/* softreg_dataset_rows() - a data set of rows [first, first + count) of
 * 'ds', sharing its memory (owns nothing: do not free it; it lives as long
 * as 'ds'). */
SOFTREG_API struct softreg_dataset softreg_dataset_rows(const struct softreg_dataset *ds, size_t first, size_t count);

SOFTREG_API void softreg_dataset_free(struct softreg_dataset *ds);

/*
 * softreg_dataset_sparsify() - replace the dense features of 'ds' by the CSR
 * of their nonzeros (uint8, float32 or float16 values kept as float32, before
 * preprocessing; x.origin says which), built by two passes over fixed blocks
 * of rows on every thread. A CSR source is left as it is. The dense memory is
 * kept (views of 'ds' may point into it). uint8 rows of d <= 65536 get the
 * compact form alone (indices16, values8; indices and values NULL): MNIST's
 * training set, 9.0 M nonzeros, takes 27 MB instead of 72 (memory touched
 * for the first time costs more than its writing). SOFTREG_ERR_NOMEM when
 * the CSR does not fit.
 */
SOFTREG_API enum softreg_result softreg_dataset_sparsify(struct softreg_dataset *ds, char *err);

/* softreg_source_density() - the fraction of nonzero features: of 1024
 * rows evenly spaced over the first 8192 (SOFTREG_DIST_BLOCK: what process 0
 * holds under mpirun, so that any process count decides alike), or of all
 * rows of a CSR source. */
SOFTREG_API double softreg_source_density(const struct softreg_source *src);

/* softreg_f16_to_f32() - IEEE binary16 to float32, 'n' values (F16C where the
 * CPU has it); exact. */
SOFTREG_API void softreg_f16_to_f32(const uint16_t *in, float *out, size_t n);

/* ==== Random numbers (xoshiro256**, seeded through splitmix64) ==== */

struct softreg_rng {
	uint64_t s[4];
};

SOFTREG_API void softreg_rng_seed(struct softreg_rng *rng, uint64_t seed);
SOFTREG_API uint64_t softreg_rng_next(struct softreg_rng *rng);
/* A uniform integer in [0, bound), without modulo bias; 'bound' > 0. */
SOFTREG_API uint64_t softreg_rng_below(struct softreg_rng *rng, uint64_t bound);
/* A uniform float in [0, 1). */
SOFTREG_API float softreg_rng_uniform(struct softreg_rng *rng);
/* Fisher-Yates shuffle of 'perm' (n entries). */
SOFTREG_API void softreg_shuffle(struct softreg_rng *rng, uint32_t *perm, size_t n);

/* ==== Models ==== */

/* What the features a model was trained on were: its preprocessing means
 * different things for each, so data of the other kind is refused. */
enum softreg_input {
	SOFTREG_INPUT_UINT8 = 0, /* uint8 values (IDX, PGM, uint8 .npy): x = value * scale, 1/255 by default */
	SOFTREG_INPUT_REAL = 1,  /* real values (float32, float16, float64, libsvm, CSV): used as they are */
};

enum softreg_prep {
	SOFTREG_PREP_SCALE = 0,       /* x = pixel * scale */
	SOFTREG_PREP_STANDARDIZE = 1, /* x = (pixel - mean[j]) * inv_std[j] */
};

/*
 * A model: W (k, d), b (k) and the input preprocessing, in one allocation.
 * Everything in it is saved; there are no timestamps, so the same training
 * gives the same file, byte for byte.
 */
struct softreg_model {
	size_t k, d;
	size_t rows, cols;     /* the image shape d came from (rows * cols == d); 1 x d for other data */
	enum softreg_input input;
	enum softreg_prep prep;
	float scale;           /* SOFTREG_PREP_SCALE */
	float *mean;           /* (d), SOFTREG_PREP_STANDARDIZE, else NULL */
	float *inv_std;        /* (d), SOFTREG_PREP_STANDARDIZE, else NULL */
	float *W;              /* (k, d) */
	float *b;              /* (k) */
	int64_t *classes;      /* (k) the label value of each class, increasing */
	/* training metadata, informative only */
	uint32_t epochs;
	uint64_t seed;
	double test_accuracy;  /* a fraction; -1 when unknown */
	void *mem_;            /* the one allocation */
};

/*
 * softreg_model_alloc() - a zero model of 'k' classes (label values 0..k-1
 * until the caller fills 'classes') and 'rows' * 'cols' features,
 * preprocessing SOFTREG_PREP_SCALE with scale 1/255.
 *
 * Returns NULL when k < 2, k > SOFTREG_MAX_CLASSES, d == 0,
 * d > SOFTREG_MAX_FEATURES, (k + 2) * d floats overflow, or out of memory.
 * Storage for mean/inv_std is always reserved, so the preprocessing can be
 * switched with softreg_model_standardize().
 */
SOFTREG_API struct softreg_model *softreg_model_alloc(size_t k, size_t rows, size_t cols);

/* softreg_model_free() - free 'm'; NULL does nothing. */
SOFTREG_API void softreg_model_free(struct softreg_model *m);

/* softreg_model_copy() - copy W, b, preprocessing and metadata; same k, d. */
SOFTREG_API void softreg_model_copy(struct softreg_model *dst, const struct softreg_model *src);

/* softreg_model_bytes() - the bytes softreg_model_alloc(k, 1, d) asks for
 * (0 when it overflows), for messages. */
SOFTREG_API size_t softreg_model_bytes(size_t k, size_t d);

/* softreg_model_init_prep() - the input kind of 'src' and its default
 * preprocessing: x / 255 for uint8 features, x itself for the others. */
SOFTREG_API void softreg_model_init_prep(struct softreg_model *m, const struct softreg_source *src);

/*
 * softreg_model_standardize() - switch 'm' to per-feature standardisation
 * with the mean and standard deviation of 'ds'. A feature of zero variance
 * gets inv_std = 0 (it contributes nothing), so no division by zero happens.
 * Sparse (CSR) data is scaled without centering (mean = 0, as svm-scale and
 * scikit-learn's with_mean=False), so that it stays sparse.
 * SOFTREG_ERR_NOMEM when the statistics cannot be allocated.
 */
SOFTREG_API enum softreg_result softreg_model_standardize(struct softreg_model *m, const struct softreg_dataset *ds,
					      char *err);

/*
 * softreg_model_save() - write 'm' to 'path' atomically (softreg_save_file()).
 * On failure the previous content of 'path' is intact and no temporary file
 * remains.
 *
 * The optional 'opt' block (training state for checkpoints; NULL for a plain
 * model) is saved after the model, inside the CRC.
 */
struct softreg_train_state;
SOFTREG_API enum softreg_result softreg_model_save(const struct softreg_model *m,
				       const struct softreg_train_state *opt,
				       const char *path, char *err);

/*
 * softreg_save_file() - write 'len' bytes to 'path' atomically: an unnamed
 * temporary file in the target's folder, fsync, named, renamed over the
 * target, the folder synced; the new file keeps the old one's mode (a new
 * one: 0666 less the umask). A symbolic link is followed (the file it names
 * is replaced; the link stays). A character device (/dev/null, /dev/stdout)
 * is written through in place. A folder, FIFO, socket or block device is
 * refused (SOFTREG_ERR_IO), never replaced. On failure the target is as it
 * was and no temporary file remains.
 *
 * softreg_check_output() - SOFTREG_OK when softreg_save_file() could write
 * 'path' now (the folder exists and is writable, the target is not refused):
 * for checking outputs before long work.
 */
SOFTREG_API enum softreg_result softreg_save_file(const char *path, const void *buf, size_t len, char *err);
SOFTREG_API enum softreg_result softreg_check_output(const char *path, char *err);

/*
 * softreg_model_load() - read a model written by softreg_model_save().
 *
 * Checks the magic, the version, every size against the file's length and the
 * CRC-32 before any value is used. On success '*model_ret' is a new model. When
 * 'state_ret' is not NULL and the file is a checkpoint, '*state_ret' is a new
 * training state (free with softreg_train_state_free()); when the file is a
 * plain model it is set to NULL.
 */
SOFTREG_API enum softreg_result softreg_model_load(const char *path, struct softreg_model **model_ret,
				       struct softreg_train_state **state_ret, char *err);

/* softreg_model_check_data() - SOFTREG_ERR_MISMATCH unless 'ds' fits 'm':
 * the same d (and image shape, when both are images), the same input kind
 * (uint8 or real values), and, when ds->y is set, every class index < k.
 * 'what' names the data in the message. */
SOFTREG_API enum softreg_result softreg_model_check_data(const struct softreg_model *m,
					     const struct softreg_dataset *ds,
					     const char *what, char *err);

/* ==== Kernels ==== */

/*
 * A batch of m rows of a source: row i is rows[i] when 'rows' is not NULL,
 * else first + i. Its class index is y[row] (y may be NULL for logits).
 */
struct softreg_batch {
	const struct softreg_source *src;
	const uint32_t *y;
	size_t first, m;
	const uint32_t *rows;
};

/* A kernel's scratch memory for batches of up to 'm_max' rows. */
struct softreg_workspace;

/*
 * A kernel: one row of the kernel table. Every kernel computes the same
 * functions; they differ in speed and in the sources they take.
 *
 * loss_grad(): forward and backward on 'batch'. Returns the SUM over the rows
 * of the cross-entropy, and, when 'grad_sum' is not NULL, writes the SUM of
 * the per-row gradients into it (k*d + k floats: dW (k, d), then db (k)). The
 * caller divides by the row count (and adds regularisation).
 *
 * logits(): forward only. Writes Z (m, k) = X * W^T + b.
 *
 * softmax_loss(): the kernel's row-wise softmax and cross-entropy alone: turns
 * Z (m, k) into probabilities in place, returns the summed cross-entropy of
 * 'y' (m). Exposed for the tests and the bench.
 *
 * Every kernel is deterministic: rows are cut into chunks and groups that
 * depend on the batch alone, and partial sums are added in a fixed order, so
 * the result is the same, bit for bit, at any thread count.
 */
struct softreg_kernel {
	const char *name;
	unsigned sources; /* bit (1u << kind) set: takes that enum softreg_source_kind */
	const char *about;
	double (*loss_grad)(const struct softreg_model *m, const struct softreg_batch *batch,
			    float *grad_sum, struct softreg_workspace *ws);
	void (*logits)(const struct softreg_model *m, const struct softreg_batch *batch,
		       float *Z, struct softreg_workspace *ws);
	double (*softmax_loss)(float *Z, const uint32_t *y, size_t m, size_t k);
};

SOFTREG_API extern const struct softreg_kernel softreg_kernel_naive; /* every source; the oracle */
SOFTREG_API extern const struct softreg_kernel softreg_kernel_blas;  /* dense sources: cblas_sgemm */
SOFTREG_API extern const struct softreg_kernel softreg_kernel_sparse; /* CSR: W transposed, by class */

/* softreg_sparse_path() - the loops the sparse kernel runs on this CPU:
 * "avx512" (AVX-512F), "avx2" (AVX2 and FMA) or "plain";
 * $SOFTREG_DISABLE_CPU_FEATURES=avx512 forces "avx2" at most, =avx2 "plain". */
SOFTREG_API const char *softreg_sparse_path(void);

/* The kernel table, NULL-terminated: the one list the library, the CLI, the
 * bench and the tests take kernels from. */
SOFTREG_API extern const struct softreg_kernel *const softreg_kernels[];

/* softreg_kernel_by_name() - a kernel of the table by name; NULL for any
 * other name ("auto" is not a kernel: see softreg_kernel_auto()). */
SOFTREG_API const struct softreg_kernel *softreg_kernel_by_name(const char *name);

/* softreg_kernel_takes() - whether 'k' takes sources of 'kind'. */
SOFTREG_API int softreg_kernel_takes(const struct softreg_kernel *k, enum softreg_source_kind kind);

/* softreg_kernel_auto() - the kernel for sources of 'kind': sparse for CSR,
 * blas for the dense ones. */
SOFTREG_API const struct softreg_kernel *softreg_kernel_auto(enum softreg_source_kind kind);

/* The densest training set (fraction of nonzero features) that --kernel auto
 * turns into CSR for the sparse kernel, and the smallest SGD batch it does it
 * for (below, the sparse kernel's per-call copies of W and dW cost more than
 * the nonzeros save), from softreg-bench's epochs of both kernels (README,
 * "Choosing the kernel"): where OpenBLAS runs AVX2 kernels (Haswell, Zen, or
 * OPENBLAS_CORETYPE=Haswell), and where it runs its AVX-512 kernels
 * (SkylakeX, Cooperlake, SapphireRapids), twice as fast, which only sparser
 * data beats, and on two threads only from batches of about 128 rows (the
 * rule keeps a margin). */
#define SOFTREG_SPARSE_DENSITY 0.35
#define SOFTREG_SPARSE_MIN_BATCH 96
#define SOFTREG_SPARSE_DENSITY_AVX512 0.20
#define SOFTREG_SPARSE_MIN_BATCH_AVX512 256

/* softreg_sparse_rule() - the pair of the two above that applies to the BLAS
 * this process runs (either pointer may be NULL). */
SOFTREG_API void softreg_sparse_rule(double *density, size_t *min_batch);

/*
 * softreg_kernel_choose() - the kernel --kernel auto trains 'src' with, for
 * model 'm' (its preprocessing set) and SGD batches of 'batch' rows (0 for
 * L-BFGS's full batches): sparse for CSR; for dense sources, sparse when at
 * most softreg_sparse_rule()'s density of the features are nonzero, the
 * batches have at least its rows and the model does not centre the
 * features (the caller then makes the CSR: softreg_dataset_sparsify()), else
 * blas. '*density' (may be NULL) gets the density it measured.
 */
SOFTREG_API const struct softreg_kernel *softreg_kernel_choose(const struct softreg_source *src,
							       const struct softreg_model *m, size_t batch,
							       double *density);

/* softreg_workspace_alloc() - scratch for 'kernel' on batches of up to
 * 'm_max' rows of model shape (k, d), for up to the current thread count;
 * NULL when out of memory or when the sizes overflow.
 * softreg_workspace_bytes() - what it would ask for (0 on overflow).
 * softreg_workspace_free(NULL) does nothing. */
SOFTREG_API struct softreg_workspace *softreg_workspace_alloc(const struct softreg_kernel *kernel, size_t m_max, size_t k,
						  size_t d);
SOFTREG_API size_t softreg_workspace_bytes(const struct softreg_kernel *kernel, size_t m_max, size_t k, size_t d);
SOFTREG_API void softreg_workspace_free(struct softreg_workspace *ws);

/* softreg_gather() - the preprocessed features of 'batch' into X (m, d). */
SOFTREG_API void softreg_gather(const struct softreg_model *m, const struct softreg_batch *batch, float *X);

/* ==== Threads and build information ==== */

/* softreg_set_threads() - the thread count of OpenMP and OpenBLAS alike
 * (0 = all cores; at most OMP_THREAD_LIMIT; OpenMP's dynamic team sizes
 * turned off, since OpenBLAS's threaded routines wait for every thread they
 * planned). Returns the count in force. */
SOFTREG_API int softreg_set_threads(int n);
SOFTREG_API int softreg_get_threads(void);

/* softreg_blas_config() - OpenBLAS's configuration string. */
SOFTREG_API const char *softreg_blas_config(void);
/* softreg_blas_corename() - the OpenBLAS core in use ("Haswell", "SkylakeX"...). */
SOFTREG_API const char *softreg_blas_corename(void);
/* softreg_blas_parallel() - "openmp", "pthreads" or "sequential". */
SOFTREG_API const char *softreg_blas_parallel(void);

/* softreg_cpu_model() - the CPU's model name (from /proc/cpuinfo) into 'buf'. */
SOFTREG_API void softreg_cpu_model(char *buf, size_t size);
/* softreg_cpu_features() - the SIMD features this CPU offers, space-separated
 * ("sse4.2 avx avx2 fma avx512f ..."), into 'buf'. */
SOFTREG_API void softreg_cpu_features(char *buf, size_t size);
/* softreg_blas_core_note() - NULL, or a one-line warning when
 * $OPENBLAS_CORETYPE makes OpenBLAS use kernels below what the CPU offers
 * (e.g. Haswell's AVX2 kernels on an AVX-512 CPU). */
SOFTREG_API const char *softreg_blas_core_note(void);

/* ==== Training ==== */

enum softreg_schedule {
	SOFTREG_SCHEDULE_CONST = 0,
	SOFTREG_SCHEDULE_STEP = 1,   /* lr x 0.1 after 50% and again after 75% of the epochs */
	SOFTREG_SCHEDULE_COSINE = 2, /* lr * (1 + cos(pi * t / T)) / 2, t = iteration */
};

enum softreg_solver {
	SOFTREG_SOLVER_SGD = 0,
	SOFTREG_SOLVER_LBFGS = 1,
};

struct softreg_epoch_info {
	uint32_t epoch;          /* 1-based */
	uint32_t epochs;
	size_t batch, batches;   /* batch index within the epoch (1-based) and count */
	size_t batch_size;       /* samples per batch */
	double train_loss;       /* running mean of batch losses this epoch */
	double train_accuracy;   /* on the batches of this epoch, before each update; -1 if unknown */
	double test_loss;        /* -1 when no test set */
	double test_accuracy;    /* fraction; -1 when no test set */
	double val_accuracy;     /* fraction; -1 when no validation split */
	double lr;
	double seconds;          /* this epoch's training time (test evaluation excluded) */
	double objective;        /* L-BFGS: F after this iteration; SGD: -1 */
	double grad_norm;        /* L-BFGS: |grad F|; SGD: -1 */
	int end_of_epoch;        /* 1 when the epoch is complete, 0 for a batch update */
};

/* Called after every batch (end_of_epoch == 0; for progress bars) and after
 * every epoch (end_of_epoch == 1). Return non-zero to stop training. */
typedef int (*softreg_progress_fn)(const struct softreg_epoch_info *info, void *user);

/* Called after every iteration with the batch loss and the current model
 * (for traces of the distance to the final model). */
typedef void (*softreg_iter_fn)(uint64_t iteration, uint32_t epoch, double batch_loss,
				const struct softreg_model *m, void *user);

struct softreg_lbfgs_memory; /* see softreg_lbfgs_memory_alloc() */

struct softreg_params {
	enum softreg_solver solver;
	uint32_t epochs;           /* SGD epochs; L-BFGS: maximum iterations */
	size_t batch;
	double lr;
	double momentum;
	double l2;                 /* lambda of (lambda/2)|W|^2; the bias is not decayed */
	enum softreg_schedule schedule;
	uint64_t seed;
	int shuffle;               /* 1: a new seeded permutation every epoch */
	int history;               /* L-BFGS memory */
	double tol;                /* L-BFGS: stop when |grad F| <= tol */
	size_t validation;         /* hold out the last N training samples (0 = none) */
	uint32_t early_stop;       /* SGD: stop after P epochs without validation gain (0 = off) */
	uint32_t eval_every;       /* evaluate the test set every N epochs/iterations (0 = only at the end) */
	int eval_train;            /* 1: measure train accuracy after every epoch (a forward pass) */
	const struct softreg_kernel *kernel;
	softreg_progress_fn progress;
	softreg_iter_fn on_iter;
	void *user;
	volatile sig_atomic_t *stop; /* when non-NULL and set, stop after the current batch */
	struct softreg_lbfgs_memory *lbfgs_memory; /* L-BFGS: NULL (default), or a memory carried from one
						    * call to the next (softreg_lbfgs_memory_alloc()) */
	int threads_auto; /* SGD: 1 to time the first batches of each epoch on one thread and on all
			   * (omp_get_max_threads()) and train the rest on the faster; the model is the
			   * same bits either way. 0 (default): all threads throughout. */
};

/*
 * softreg_lbfgs_memory_alloc() - an empty L-BFGS memory, for the field
 * 'lbfgs_memory' of struct softreg_params: warm starts along a path of l2
 * values on one training set (softreg sweep).
 *
 * softreg_train() with the L-BFGS solver and a memory starts from what the
 * memory holds -- the preconditioner and the last 'history' (s, y) pairs of
 * the previous call, the pairs corrected exactly for a change of l2 (the l2
 * term's curvature is known) -- instead of from nothing, and leaves its own
 * there on return. Started from the previous solution (the model as the last
 * call left it), its first step is then a quasi-Newton prediction of the new
 * solution. The memory changes the path to the optimum, never the optimum: any
 * contents give the solution of the objective at hand, to --tol. It is used
 * when the model's k, d and the history match what it holds, and refilled
 * otherwise. Its size: (2 history + 1) k (d + 1) + (d + 1)^2 doubles (the
 * second term only with a preconditioner, d <= 2047).
 *
 * Returns NULL when out of memory. A memory serves one training run at a
 * time. softreg_lbfgs_memory_free(NULL) does nothing.
 */
SOFTREG_API struct softreg_lbfgs_memory *softreg_lbfgs_memory_alloc(void);
SOFTREG_API void softreg_lbfgs_memory_free(struct softreg_lbfgs_memory *mem);

/* softreg_params_default() - the defaults of `softreg train` (see README). */
SOFTREG_API void softreg_params_default(struct softreg_params *p);

/* softreg_params_seed_preset() - the tutorial's configuration: raw pixels,
 * zero init, batches in file order, batch 10000, lr 1e-5, 20 epochs, plain SGD. */
SOFTREG_API void softreg_params_seed_preset(struct softreg_params *p);

/* softreg_check_params() - NULL when 'p' is valid, else a short message such
 * as "lr must be > 0". Call before softreg_train(). */
SOFTREG_API const char *softreg_check_params(const struct softreg_params *p);

/* The resumable state of a training run: optimiser moments, RNG, position. */
struct softreg_train_state {
	uint32_t epochs_done;  /* complete epochs */
	uint32_t batches_done; /* batches of epoch epochs_done + 1 already trained (interrupted) */
	uint64_t iterations;
	struct softreg_rng rng; /* the generator as it was at the start of epoch epochs_done + 1 */
	size_t nv;            /* k * d + k */
	float *velocity;      /* (nv), momentum buffer of [W, b] */
	double best_val;      /* early stopping: best validation accuracy so far */
	uint32_t since_best;
	float *best;          /* (nv) early stopping: [W, b] of the best epoch so far; NULL when unused */
	/* what a resumed run must match (set by softreg_train(); 0 when unknown:
	 * a version 1 checkpoint) */
	uint64_t batch;       /* the batch size */
	uint64_t n_train;     /* training rows (the validation split excluded) */
	uint64_t seed;        /* the seed the random state came from */
	uint32_t fingerprint; /* a CRC-32 of the training labels and the start of the features */
	uint32_t shuffle;     /* 1: shuffled batches */
};

SOFTREG_API struct softreg_train_state *softreg_train_state_alloc(size_t k, size_t d);
SOFTREG_API void softreg_train_state_free(struct softreg_train_state *s);

/* The outcome of softreg_train(). */
struct softreg_report {
	uint32_t epochs_run;       /* epochs (or L-BFGS iterations) completed in total */
	uint64_t iterations;
	double train_seconds;      /* the training loop alone */
	double test_loss, test_accuracy;
	double val_accuracy;
	double objective;          /* F over the training set at the end */
	double grad_norm;
	uint32_t diverged_epoch;   /* when SOFTREG_ERR_DIVERGED */
	size_t diverged_batch;
	double diverged_loss;
};

/*
 * softreg_train() - train 'm' on 'train' with 'p', evaluating on 'test'
 * (may be NULL) at every epoch.
 *
 * 'm' is the starting point (softreg_model_alloc() gives zeros; set its
 * preprocessing before). 'state' (may be NULL) is the resumable state: when
 * its epochs_done > 0 training continues from it, and on return it holds the
 * state after the last completed epoch.
 *
 * Returns SOFTREG_OK, SOFTREG_ERR_DIVERGED (a non-finite loss or weight; 'rep'
 * says where; 'm' is then unusable), SOFTREG_ERR_INTERRUPTED (the stop flag was
 * set; 'm' and 'state' hold the last completed batch), SOFTREG_ERR_NOMEM or
 * SOFTREG_ERR_PARAM.
 */
SOFTREG_API enum softreg_result softreg_train(struct softreg_model *m, const struct softreg_dataset *train,
				  const struct softreg_dataset *test, const struct softreg_params *p,
				  struct softreg_train_state *state, struct softreg_report *rep,
				  char *err);

/* ==== Metrics ==== */

struct softreg_eval {
	size_t n, k;
	size_t correct;
	double accuracy;   /* fraction */
	double log_loss;   /* mean cross-entropy */
	uint64_t *confusion; /* (k, k), rows = truth, columns = prediction */
};

/*
 * softreg_evaluate() - accuracy, mean log-loss and confusion matrix of 'm' on
 * rows [first, first + count) of 'ds' (mapped to the model's classes; see
 * softreg_dataset_map_labels()). 'confusion' may be NULL; else it has k*k
 * entries. 'kernel' NULL means softreg_kernel_auto() of the source.
 */
SOFTREG_API enum softreg_result softreg_evaluate(const struct softreg_model *m, const struct softreg_dataset *ds,
				     size_t first, size_t count, const struct softreg_kernel *kernel,
				     uint64_t *confusion, double *accuracy_ret, double *log_loss_ret, char *err);

/* softreg_objective() - F = mean CE + (l2/2)|W|^2 over rows [0, count) of 'ds',
 * and optionally its gradient (k*d + k floats, W then b) and norm; through
 * the same loss-and-gradient path as training ('kernel' NULL: auto). */
SOFTREG_API enum softreg_result softreg_objective(const struct softreg_model *m, const struct softreg_dataset *ds,
				      size_t count, double l2, const struct softreg_kernel *kernel, float *grad,
				      double *F_ret, double *grad_norm_ret, char *err);

/* softreg_predict() - class probabilities P (count, k) of rows [first,
 * first + count) of 'ds' (labels not needed), through the kernel's logits
 * ('kernel' NULL: auto). */
SOFTREG_API enum softreg_result softreg_predict(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				    size_t count, const struct softreg_kernel *kernel, float *P, char *err);

/* ==== PGM images ==== */

/*
 * softreg_pgm_read() - read a P2 (text) or P5 (binary) PGM of maxval <= 65535.
 * Pixels are rescaled to 0..255. Comments are allowed in the header. Returns a
 * new (rows * cols) buffer in '*pixels_ret' (free()), or an error naming the file.
 */
SOFTREG_API enum softreg_result softreg_pgm_read(const char *path, uint8_t **pixels_ret, size_t *rows_ret,
				     size_t *cols_ret, char *err);

/* softreg_pgm_parse() - the same, over a buffer in memory (for fuzzing). */
SOFTREG_API enum softreg_result softreg_pgm_parse(const uint8_t *buf, size_t len, const char *name,
				      uint8_t **pixels_ret, size_t *rows_ret, size_t *cols_ret,
				      char *err);

/* softreg_model_parse() - softreg_model_load() over a buffer in memory. */
SOFTREG_API enum softreg_result softreg_model_parse(const uint8_t *buf, size_t len, const char *name,
					struct softreg_model **model_ret,
					struct softreg_train_state **state_ret, char *err);

/* softreg_idx_parse() - softreg_idx_read() over a raw (not gzip) buffer. */
SOFTREG_API enum softreg_result softreg_idx_parse(const uint8_t *buf, size_t len, const char *name,
				      uint64_t max_bytes, struct softreg_idx *out, char *err);

/* ==== Parsers over buffers (the fuzz targets call these) ==== */

/*
 * softreg_npy_parse() - an .npy file (versions 1.0, 2.0, 3.0) in memory.
 * 'labels' 0: features, 2-D C-order of uint8, float16, float32 or float64,
 * little- or big-endian, into 'ds' (copied; float64 narrowed to float32,
 * every value checked finite). 'labels' 1: a 1-D array of any integer dtype
 * into ds->labels and ds->n. Anything else is SOFTREG_ERR_FORMAT saying what
 * was found.
 */
SOFTREG_API enum softreg_result softreg_npy_parse(const uint8_t *buf, size_t len, const char *name, int labels,
				      struct softreg_dataset *ds, char *err);

/* softreg_libsvm_parse() - libsvm/svmlight text in memory into 'ds' (CSR
 * features and labels); errors name 'name' and the line. */
SOFTREG_API enum softreg_result softreg_libsvm_parse(const char *buf, size_t len, const char *name,
					 const struct softreg_read_opts *opts, struct softreg_dataset *ds,
					 char *err);

/* softreg_csv_parse() - numeric CSV text in memory into 'ds' (dense float32
 * features and labels); errors name 'name' and the line. */
SOFTREG_API enum softreg_result softreg_csv_parse(const char *buf, size_t len, const char *name,
				      const struct softreg_read_opts *opts, struct softreg_dataset *ds, char *err);

/* ==== Processes (MPI) ==== */

/*
 * A group of processes that train one model together (mpirun -np N softreg
 * train). Each computes a share of every sum: L-BFGS's objective and
 * gradient are exact sums of fixed blocks of rows, rounded once, and SGD's
 * batch gradient is the kernel's fixed groups added in group order, so the
 * model is the same, bit for bit, at any process count (README, "Scale-out
 * over MPI"). Without MPI in the build, or outside mpirun, a group is this
 * process alone and everything below is cheap and safe. Every function that
 * takes a group is collective unless it says otherwise: each process of the
 * group calls it, in the same order.
 */
struct softreg_dist;

/* softreg_mpi_built() - 1 when libsoftreg was built with MPI, else 0. */
SOFTREG_API int softreg_mpi_built(void);

/*
 * softreg_dist_init() - the group of all processes of this run
 * (MPI_COMM_WORLD), initialising MPI (threads funneled to the caller) unless
 * it is already. Returns NULL when out of memory or when MPI cannot start
 * ('err' says why). softreg_dist_free() finalises MPI when softreg_dist_init()
 * initialised it; NULL does nothing.
 */
SOFTREG_API struct softreg_dist *softreg_dist_init(int *argc, char ***argv, char *err);
SOFTREG_API void softreg_dist_free(struct softreg_dist *d);

/* softreg_dist_rank(), softreg_dist_size() - this process's rank and the
 * process count (0 and 1 for NULL); not collective. */
SOFTREG_API int softreg_dist_rank(const struct softreg_dist *d);
SOFTREG_API int softreg_dist_size(const struct softreg_dist *d);

/*
 * softreg_dist_agree() - every process passes its status 'r' and its
 * message in 'err'; every process returns the failure of the lowest rank that
 * failed, with that rank's message, prefixed "rank R: ", in 'err' (or
 * SOFTREG_OK). So a process that cannot go on never leaves the others
 * waiting.
 */
SOFTREG_API enum softreg_result softreg_dist_agree(const struct softreg_dist *d, enum softreg_result r, char *err);

/* softreg_dist_bcast() - rank 0's 'bytes' of 'buf' to every process
 * (collective; nothing with one process). */
SOFTREG_API void softreg_dist_bcast(const struct softreg_dist *d, void *buf, size_t bytes);

/*
 * softreg_dist_shard() - the rows [*row0_ret, *row0_ret + *count_ret) of a
 * data set of 'n' rows that this process reads when each holds only its
 * own (not collective). 'trained' is how many of the rows are trained on (the
 * rest, a validation split, go to the last process). 'align' 1: shares of
 * whole blocks of SOFTREG_DIST_BLOCK rows, so that L-BFGS's sums and the
 * evaluation are the same bits as in one process; 0: equal shares (SGD's
 * --shard).
 *
 * softreg_dist_hold() - say that 'ds' holds the rows [row0, row0 + ds->n)
 * of a data set of 'n' rows (not collective; up to 4 data sets). A data set
 * not named here is held whole by every process.
 */
#define SOFTREG_DIST_BLOCK 8192
SOFTREG_API void softreg_dist_shard(const struct softreg_dist *d, size_t n, size_t trained, int align,
				    size_t *row0_ret, size_t *count_ret);
SOFTREG_API enum softreg_result softreg_dist_hold(struct softreg_dist *d, const struct softreg_dataset *ds,
						  size_t row0, size_t n, char *err);

/*
 * softreg_dataset_load_rows() - rows [row0, row0 + count) of an IDX pair
 * ('images', 'labels') as a data set of 'count' rows: the images read by
 * byte range (softreg_idx_read_rows()), the labels of those rows; checked as
 * softreg_dataset_load() checks. '*labels_all_ret' (NULL: not wanted; else
 * free() it) gets the labels of every row, for the class table. Not
 * collective.
 */
SOFTREG_API enum softreg_result softreg_dataset_load_rows(const char *images, const char *labels, uint64_t max_bytes,
							  size_t row0, size_t count, struct softreg_dataset *ds,
							  int64_t **labels_all_ret, char *err);

/*
 * softreg_dataset_read_libsvm_dist() - a libsvm file read by the processes of
 * 'd' together (collective): each parses the lines that start in its share
 * of the bytes, then rows move between the processes so that each holds
 * rows [*row0_ret, *row0_ret + ds->n) of the '*n_ret' rows, as
 * softreg_dist_shard(d, n, n - validation, align) says (name 'ds' to
 * softreg_dist_hold()). The feature count is opts->d, else the largest index
 * of any line. '*classes_ret' (free()) gets the distinct labels of each
 * process, '*nclasses_ret' of them, for the class table. A failure on any
 * process is every process's, named by its rank; messages name the byte a
 * process's share starts at, and its lines count from there. One process:
 * the whole file.
 */
SOFTREG_API enum softreg_result softreg_dataset_read_libsvm_dist(const struct softreg_dist *d, const char *path,
								 const struct softreg_read_opts *opts, size_t validation,
								 int align, struct softreg_dataset *ds, size_t *row0_ret,
								 size_t *n_ret, int64_t **classes_ret,
								 size_t *nclasses_ret, char *err);

/*
 * softreg_dataset_read_csv_dist() - a CSV file read by the processes of 'd'
 * together, as softreg_dataset_read_libsvm_dist() reads libsvm (dense
 * float32 rows; the feature count is the file's width less the label).
 * Every process reads the file's first non-blank line itself, so the header
 * and opts->label_column are taken as by one process; the share holding the
 * header skips it. One process: the whole file.
 */
SOFTREG_API enum softreg_result softreg_dataset_read_csv_dist(const struct softreg_dist *d, const char *path,
							      const struct softreg_read_opts *opts, size_t validation,
							      int align, struct softreg_dataset *ds, size_t *row0_ret,
							      size_t *n_ret, int64_t **classes_ret,
							      size_t *nclasses_ret, char *err);

/*
 * softreg_train_dist() - softreg_train() by the processes of 'dist' together
 * (collective; NULL or one process: softreg_train() itself). Every process
 * passes the same model, parameters and state, and gets the same model back.
 * 'shard' 0: L-BFGS sums its share of the training rows (a data set named
 * by softreg_dist_hold(), or held whole by every process), SGD shares each
 * batch's groups (every process must hold the whole training set): the
 * same bits as one process. 'shard' 1 (SGD): each process trains on the rows
 * of its held shard, in its own order, and the batch sums are added up a tree
 * fixed by the ranks: the same bits on a rerun with the same process count.
 * A failure on any process is every process's failure, named by its rank.
 */
SOFTREG_API enum softreg_result softreg_train_dist(struct softreg_model *m, const struct softreg_dataset *train,
						   const struct softreg_dataset *test, const struct softreg_params *p,
						   const struct softreg_dist *dist, int shard,
						   struct softreg_train_state *state, struct softreg_report *rep,
						   char *err);

/*
 * softreg_evaluate_dist(), softreg_objective_dist() - softreg_evaluate() and
 * softreg_objective() by the processes of 'dist' together (collective; NULL
 * or one process: the functions themselves): each process computes its share
 * of the blocks of rows (of the rows it holds, for a data set named by
 * softreg_dist_hold()) and the sums are added as softreg_dist_set_sums()
 * says: with exact sums, the same bits as one process.
 */
SOFTREG_API enum softreg_result softreg_evaluate_dist(const struct softreg_model *m, const struct softreg_dataset *ds,
						      size_t first, size_t count, const struct softreg_kernel *kernel,
						      const struct softreg_dist *dist, uint64_t *confusion,
						      double *accuracy_ret, double *log_loss_ret, char *err);
SOFTREG_API enum softreg_result softreg_objective_dist(const struct softreg_model *m, const struct softreg_dataset *ds,
						       size_t count, double l2, const struct softreg_kernel *kernel,
						       const struct softreg_dist *dist, float *grad, double *F_ret,
						       double *grad_norm_ret, char *err);

/*
 * softreg_dist_set_sums() - how L-BFGS, the objective and the evaluation add
 * the processes' sums (not collective; every process must set the same).
 * 'exact' 1 (the default): exactly, 72 bytes a model parameter in one
 * MPI_Allreduce: the same bits at any process count. 0: in double, each
 * process's blocks in order and the processes up a binomial tree fixed by
 * their ranks: 8 bytes a parameter, the same bits on a rerun with the same
 * process count only.
 */
SOFTREG_API void softreg_dist_set_sums(struct softreg_dist *d, int exact);

/* softreg_dist_sent() - the bytes this process has sent to the others, and
 * the seconds it spent in collective operations (for benchmarks); not
 * collective. */
SOFTREG_API uint64_t softreg_dist_sent(const struct softreg_dist *d, double *seconds_ret);

#ifdef __cplusplus
}
#endif

#endif /* SOFTREG_H */
