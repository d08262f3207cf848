/*
 * fuzz_npy.c: seqrt_npy_read on arbitrary bytes, as float data and as int32
 * (token ids, sparse labels). A read either fails with a message naming
 * the file or returns an array whose shape, count and data agree; it never
 * reads outside the file or allocates more than the file can back.
 */
#include <string.h>

#include "fuzz_util.h"
#include "seqrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    for (int as_int = 0; as_int < 2; as_int++) {
        seqrt_array a;
        seqrt_error err = {0};
        int rc = seqrt_npy_read(&a, path, as_int, &err);
        FUZZ_CHECK_MSG(rc, err, path);
        if (rc == 0) {
            int64_t count = 1;
            if (a.ndim < 0 || a.ndim > SEQRT_NPY_MAX_DIMS) abort();
            for (int i = 0; i < a.ndim; i++) count *= a.shape[i];
            if (count != a.count || a.is_int != as_int || !a.data) abort();
            /* Every element was written: touching them all is clean under MSan/valgrind. */
            size_t elem = as_int ? sizeof(int32_t) : sizeof(seqrt_real);
            if ((uint64_t)count * elem > size * 8 + 64) abort();   /* at most 8x the file */
            volatile unsigned char sink = 0;
            for (size_t i = 0; i < (size_t)count * elem; i++) sink ^= ((unsigned char *)a.data)[i];
            (void)sink;
        }
        seqrt_array_free(&a);
    }
    return 0;
}
