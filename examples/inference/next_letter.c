/*
 * next_letter.c: the trained "goodbye!" model inside an ordinary program,
 * through its inference library (seqc emit --inference): no BLAS, no
 * runtime, no allocation. It reads letters from the command line one at a
 * time, as a stream, and after each prints the letter the model expects
 * three places later (the seed's task), with its probability.
 *
 *   next_letter goodbye
 */
#include <stdio.h>
#include <string.h>

#include "goodbye_infer.h"

extern const float goodbye_weights[goodbye_INFER_PARAMS];

static const char alphabet[] = "!bdegoy"; /* sorted set of "goodbye!" */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s LETTERS (from \"%s\")\n", argv[0], alphabet);
        return 2;
    }
    goodbye_infer model;
    goodbye_infer_init(&model, goodbye_weights);
    for (const char *c = argv[1]; *c; c++) {
        const char *at = strchr(alphabet, *c);
        if (!at) {
            fprintf(stderr, "'%c' is not one of \"%s\"\n", *c, alphabet);
            return 1;
        }
        float x[goodbye_INFER_IN_x] = {0}, p[goodbye_INFER_OUT_0];
        x[at - alphabet] = 1;
        goodbye_infer_step(&model, x, p);
        int best = 0;
        for (int k = 1; k < goodbye_INFER_OUT_0; k++)
            if (p[k] > p[best])
                best = k;
        printf("%c -> %c (%.2f)\n", *c, alphabet[best], p[best]);
    }
    return 0;
}
