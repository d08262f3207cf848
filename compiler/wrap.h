/*
 * wrap.h: fold one line of generated C to SEQ_WRAP_COLUMNS. The printer
 * (emit.c) passes it every line it completes, so emitters write whole
 * statements and the file still reads within the width: arguments after
 * ", " aligned under the open parenthesis, a trailing comment moved above
 * its statement, a long comment split into comments of its own, a string
 * literal split into adjacent literals. Preprocessor lines are left alone.
 */
#ifndef SEQ_WRAP_H
#define SEQ_WRAP_H

#include <stddef.h>

#define SEQ_WRAP_COLUMNS 100

/* The folded text of `line` (len bytes, no newline): one or more lines
 * joined by '\n', no trailing newline, malloc'd; NULL when the line stays
 * as it is: it fits, or has no place to break. */
char *seq_wrap_c_line(const char *line, size_t len);

#endif
