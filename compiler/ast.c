/* ast.c: node construction and a dump for --dump=ast. */
#include "ast.h"

#include <stdio.h>

#include "util.h"

AstNode *ast_new(Arena *ar, AstKind kind, Span span)
{
    AstNode *n = ARENA_NEW(ar, AstNode);
    n->kind = kind;
    n->span = span;
    return n;
}

AstNode *ast_append(AstNode *head, AstNode *item)
{
    if (!head)
        return item;
    AstNode *p = head;
    while (p->next)
        p = p->next;
    p->next = item;
    return head;
}

int ast_count(const AstNode *list)
{
    int n = 0;
    for (; list; list = list->next)
        n++;
    return n;
}

const char *ast_kind_name(AstKind k)
{
    static const char *const names[] = {
        "model", "input", "target", "output", "assign", "layer", "train", "keyval",
        "name",  "int",   "float",  "string", "bool",   "list",  "call",  "arg",
        "pipe",  "dim",   "decode",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void dump_list(const AstNode *n, FILE *out, const char *sep)
{
    for (; n; n = n->next) {
        ast_dump(n, out);
        if (n->next)
            fputs(sep, out);
    }
}

void ast_dump(const AstNode *n, FILE *out)
{
    if (!n)
        return;
    switch (n->kind) {
    case AST_MODEL: fprintf(out, "model %s\n", n->str); break;
    case AST_INPUT:
    case AST_TARGET:
        fprintf(out, "%s %s : %s[", n->kind == AST_INPUT ? "input" : "target", n->str,
                n->is_int ? "int" : "");
        dump_list(n->a, out, ", ");
        fputs("]\n", out);
        break;
    case AST_OUTPUT: fputs("output ", out); dump_list(n->a, out, ", "); fputc('\n', out); break;
    case AST_ASSIGN:
        dump_list(n->a, out, ", ");
        fputs(" = ", out);
        ast_dump(n->b, out);
        fputc('\n', out);
        break;
    case AST_LAYER: fprintf(out, "layer %s = ", n->str); ast_dump(n->b, out); fputc('\n', out); break;
    case AST_TRAIN:
    case AST_DECODE:
        fputs(n->kind == AST_TRAIN ? "train {\n" : "decode {\n", out);
        for (const AstNode *e = n->a; e; e = e->next) {
            fputs("    ", out);
            ast_dump(e, out);
        }
        fputs("}\n", out);
        break;
    case AST_KEYVAL: fprintf(out, "%s = ", n->str); ast_dump(n->b, out); fputc('\n', out); break;
    case AST_NAME: fputs(n->str, out); break;
    case AST_INT: fprintf(out, "%lld", n->ival); break;
    case AST_FLOAT: fprintf(out, "%s", SEQ_NUM(n->fval)); break;
    case AST_STRING: fprintf(out, "\"%s\"", n->str); break;
    case AST_BOOL: fputs(n->ival ? "true" : "false", out); break;
    case AST_LIST: fputc('[', out); dump_list(n->a, out, ", "); fputc(']', out); break;
    case AST_CALL: ast_dump(n->b, out); fputc('(', out); dump_list(n->a, out, ", "); fputc(')', out); break;
    case AST_ARG:
        if (n->str)
            fprintf(out, "%s=", n->str);
        ast_dump(n->b, out);
        break;
    case AST_PIPE: ast_dump(n->a, out); fputs(" -> ", out); ast_dump(n->b, out); break;
    case AST_DIM:
        if (n->str && n->ival)
            fprintf(out, "%s%+lld", n->str, n->ival);
        else if (n->str)
            fputs(n->str, out);
        else
            fprintf(out, "%lld", n->ival);
        break;
    }
}
