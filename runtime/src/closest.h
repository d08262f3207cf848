/*
 * closest.h: "did you mean" for libseqrt's messages and for seqc's
 * diagnostics (the compiler builds closest.c too). Never installed.
 */
#ifndef SEQRT_CLOSEST_H
#define SEQRT_CLOSEST_H

/* The candidate nearest `s` by edit distance (a case slip counts as one
 * edit) if close enough to be a likely typo, else NULL. NULL entries of
 * cands are skipped. */
const char *seqrt_closest(const char *s, const char *const *cands, int n);

#endif
