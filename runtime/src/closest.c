/*
 * closest.c: "did you mean": the candidate nearest a misspelt name. One
 * implementation for the whole project: libseqrt's command line (unknown
 * options and commands) and seqc (layer, attribute and option names; its
 * seq_closest is this function) both call it.
 */
#include <string.h>
#include <strings.h>

#include "closest.h"

/* Levenshtein distance, capped: names are short (<= 64 bytes compared). */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 1 << 20;
    int row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            if (up + 1 < best) best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *seqrt_closest(const char *s, const char *const *cands, int n)
{
    const char *best = NULL;
    int best_d = 1 << 20, limit = (int)strlen(s) / 3 + 1;
    for (int i = 0; i < n; i++) {
        if (!cands[i]) continue;
        /* Case slips (lstm for LSTM) count as one edit. */
        int d = strcasecmp(s, cands[i]) == 0 ? 1 : edit_distance(s, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best_d <= limit ? best : NULL;
}
