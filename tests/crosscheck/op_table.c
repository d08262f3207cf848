/*
 * op_table: prints the compiler's table of layer kinds, one per line,
 *   NAME <tab> MASK RULE <tab> MASK NOTE <tab> step or - <tab> STEP NOTE
 * (notes empty when the kind has none), for padding_equivalence.py, which
 * checks that every layer kind has a padded-batch case or says why it
 * cannot have one, and op_table_coverage.py, which checks each kind's docs,
 * gradient check, mask case and streaming test.
 */
#include <stdio.h>

#include "ops.h"

int main(void)
{
    int n;
    const OpInfo *const *ops = op_all(&n);
    for (int i = 0; i < n; i++)
        printf("%s\t%s\t%s\t%s\t%s\n", ops[i]->name, op_mask_rule_name(ops[i]->mask),
               ops[i]->mask_note ? ops[i]->mask_note : "", ops[i]->step ? "step" : "-",
               ops[i]->step_note ? ops[i]->step_note : "");
    return 0;
}
