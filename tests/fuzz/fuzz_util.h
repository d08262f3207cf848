/*
 * fuzz_util.h: what the fuzz harnesses share. The readers under test take a
 * path, so each input is written to one memfd per process (a regular file
 * in memory: fstat sees S_ISREG and the real size) and read back through
 * /proc/self/fd/N. No disk traffic, no temp files left behind.
 */
#ifndef SEQ_FUZZ_UTIL_H
#define SEQ_FUZZ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* memfd_create */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Replace the memfd's contents with data[0..size); returns its path. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("seq-fuzz", 0);
        if (fd < 0) { perror("memfd_create"); abort(); }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) { perror("ftruncate"); abort(); }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) { perror("pwrite"); abort(); }
        done += (size_t)n;
    }
    return path;
}

/* The error message of a failed read must name the file and say why. */
#define FUZZ_CHECK_MSG(rc, err, path)                                              \
    do {                                                                           \
        if ((rc) != 0 && ((err).msg[0] == '\0' || !strstr((err).msg, (path)))) {  \
            fprintf(stderr, "error %d without a message naming the file: '%s'\n",  \
                    (rc), (err).msg);                                              \
            abort();                                                               \
        }                                                                          \
    } while (0)

#endif
