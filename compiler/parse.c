/* parse.c: drive the reentrant scanner and the pure parser over one buffer. */
#include "parse.h"

#include "parse_ctx.h"
#include "seq.tab.h"
#include "seq.lex.h"
#include "util.h"

AstNode *parse_source(Arena *a, Diag *d)
{
    ParseCtx ctx = {.diag = d, .arena = a, .at_line_start = 1};
    yyscan_t scanner;
    if (seqyylex_init_extra(&ctx, &scanner) != 0)
        seq_die("cannot start the scanner");
    YY_BUFFER_STATE buf = seqyy_scan_bytes(d->src, (int)d->len, scanner);
    seqyyparse(scanner, &ctx);
    seqyy_delete_buffer(buf, scanner);
    seqyylex_destroy(scanner);
    return ctx.head;
}
