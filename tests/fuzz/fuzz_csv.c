/*
 * fuzz_csv.c: seqrt_csv_column (--csv FILE --column NAME) on arbitrary
 * bytes, for two column names ("value" and "a": the seeds' headers use
 * both). A read either fails with a message naming the file or returns n
 * finite values.
 */
#include <math.h>
#include <string.h>

#include "fuzz_util.h"
#include "seqrt_train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    const char *cols[] = {"value", "a"};
    for (int c = 0; c < 2; c++) {
        double *v = NULL;
        int64_t n = -1;
        seqrt_error err = {0};
        int rc = seqrt_csv_column(path, cols[c], &v, &n, &err);
        FUZZ_CHECK_MSG(rc, err, path);
        if (rc == 0) {
            if (n < 1 || !v) abort();
            if ((uint64_t)n > size) abort();   /* a value needs at least one byte */
            for (int64_t i = 0; i < n; i++)
                if (!isfinite(v[i])) abort();
        } else if (v != NULL || n != 0) {
            abort();
        }
        free(v);
    }
    return 0;
}
