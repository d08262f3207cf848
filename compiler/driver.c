/* driver.c: read, parse, check; see driver.h. */
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expand.h"
#include "infer.h"
#include "parse.h"
#include "sema.h"
#include "util.h"

bool driver_load(Compilation *c, const char *path, FILE *err)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena);
    /* O_NONBLOCK: opening a FIFO nobody writes to must not hang; it is
     * refused below like any file that is not a regular one. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        fprintf(err, "seqc: cannot read '%s': %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        bool dir = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
        fprintf(err, "seqc: cannot read '%s': %s\n", path,
                dir ? "it is a directory" : "not a regular file");
        fclose(f);
        return false;
    }
    if (st.st_size > SEQ_MAX_SOURCE) {
        fprintf(err, "seqc: cannot read '%s': the file is %lld bytes; the limit is %d\n", path,
                (long long)st.st_size, SEQ_MAX_SOURCE);
        fclose(f);
        return false;
    }
    c->src = arena_alloc(&c->arena, (size_t)st.st_size + 1);
    c->len = fread(c->src, 1, (size_t)st.st_size, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(err, "seqc: cannot read '%s': read error\n", path);
        return false;
    }
    diag_init(&c->diag, path, c->src, c->len, err);
    return true;
}

void driver_load_buffer(Compilation *c, const char *name, const char *buf, size_t len, FILE *err)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena);
    c->src = arena_alloc(&c->arena, len + 1);
    memcpy(c->src, buf, len);
    c->len = len;
    diag_init(&c->diag, name, c->src, c->len, err);
}

bool driver_front(Compilation *c)
{
    c->ast = parse_source(&c->arena, &c->diag);
    if (c->diag.errors)
        return false;
    c->ir = sema_build(c->ast, &c->arena, &c->diag);
    if (c->diag.errors == 0 && c->ir)
        ir_check_sizes(c->ir, &c->diag);
    return c->diag.errors == 0;
}

bool driver_plan(Compilation *c, const LowerOptions *lo)
{
    LowerOptions o = *lo;
    o.diag = &c->diag;
    c->expanded = expand_wrappers(c->ir, &c->arena, &c->diag);
    if (c->expanded)
        c->plan = plan_model(c->expanded, c->ir, &c->arena, &o, &c->diag);
    return c->plan != NULL;
}

bool driver_emit(Compilation *c, const LowerOptions *lo, bool inference)
{
    LowerOptions o = *lo;
    o.diag = &c->diag;
    if (inference)
        return infer_emit(c->ir, &c->arena, &o);
    return c->plan && lower_emit(c->plan, &c->arena, &o);
}

void driver_free(Compilation *c) { arena_free(&c->arena); }
