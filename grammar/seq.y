/*
 * seq.y: the .seq grammar (pure, reentrant, byte-offset locations).
 *
 * Actions only build AST nodes (ast.h); names, attributes, Keras defaults
 * and shapes are checked later, in sema.c and shape.c. A syntax error skips
 * to the end of the line, so one run reports the errors of many statements.
 */
%require "3.5"
%define api.pure full
%define api.prefix {seqyy}
%define api.token.prefix {TOK_}
%define api.location.type {Span}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {void *scanner}
%parse-param {ParseCtx *ctx}

%code requires {
#include "parse_ctx.h"
}

%code provides {
int seqyylex(SEQYYSTYPE *lval, Span *lloc, void *scanner);
/* Parse one file into ctx->head; returns 0 when no error was reported. */
int seq_parse(ParseCtx *ctx, const char *src, size_t len);
}

%code {
#include <string.h>

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                    \
    do {                                                               \
        if (N) {                                                       \
            (Cur).start = YYRHSLOC(Rhs, 1).start;                      \
            (Cur).end = YYRHSLOC(Rhs, N).end;                          \
        } else {                                                       \
            (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;            \
        }                                                              \
    } while (0)

static void seqyyerror(Span *loc, void *scanner, ParseCtx *ctx, const char *msg);
static void add_stmt(ParseCtx *ctx, AstNode *s);
#define NODE(kind, loc) ast_new(ctx->arena, (kind), (loc))
}

%union {
    const char *str;
    long long ival;
    double fval;
    AstNode *node;
    struct { AstNode *head, *tail; } list;
}

%token NL "end of line"
%token MODEL "'model'" INPUT "'input'" TARGET "'target'" OUTPUT "'output'"
%token LAYER "'layer'" TRAIN "'train'" DECODE "'decode'" TRUE "'true'" FALSE "'false'"
%token KW_INT "'int'" KW_FLOAT "'float'" ARROW "'->'"
%token <str> IDENT "name" STRING "string"
%token <ival> INTEGER "integer"
%token <fval> FLOAT "number"

%type <node> stmt type dim name expr postfix primary arg entry opt_entry
%type <list> dims names items itemlist args arglist entries

%%

program
    : %empty
    | program NL
    | program stmt NL          { if ($2) add_stmt(ctx, $2); }
    | program error NL         { yyerrok; }
    ;

stmt
    : MODEL IDENT              { $$ = NODE(AST_MODEL, @$); $$->str = $2; }
    | INPUT IDENT ':' type     { $$ = $4; $$->kind = AST_INPUT; $$->str = $2; $$->span = @$; }
    | TARGET IDENT ':' type    { $$ = $4; $$->kind = AST_TARGET; $$->str = $2; $$->span = @$; }
    | OUTPUT names             { $$ = NODE(AST_OUTPUT, @$); $$->a = $2.head; }
    | names '=' expr           { $$ = NODE(AST_ASSIGN, @$); $$->a = $1.head; $$->b = $3; }
    | LAYER IDENT '=' expr     { $$ = NODE(AST_LAYER, @$); $$->str = $2; $$->b = $4; }
    | reserved '=' expr        {
                                 /* An error rule with a hint: `output = ...` */
                                 diag_error(ctx->diag, @1, "'%.*s' is a reserved word; it cannot "
                                            "name a tensor", (int)(@1.end - @1.start),
                                            ctx->diag->src + @1.start);
                                 $$ = NULL;
                               }
    | TRAIN '{' entries opt_entry '}' {
                                 $$ = NODE(AST_TRAIN, @$);
                                 $$->a = $4 ? ast_append($3.head, $4) : $3.head;
                               }
    | DECODE '{' entries opt_entry '}' {
                                 $$ = NODE(AST_DECODE, @$);
                                 $$->a = $4 ? ast_append($3.head, $4) : $3.head;
                               }
    ;

reserved
    : MODEL | INPUT | TARGET | OUTPUT | LAYER | TRAIN | DECODE | KW_INT | KW_FLOAT
    ;

/* [3, 7], [T, 10], int[T], float[T, 1]: axes after the implicit batch axis;
 * a target's [T-4, 1] is T shortened by valid convolutions */
type
    : '[' dims ']'             { $$ = NODE(AST_INPUT, @$); $$->a = $2.head; }
    | KW_INT '[' dims ']'      { $$ = NODE(AST_INPUT, @$); $$->a = $3.head; $$->is_int = true; }
    | KW_FLOAT '[' dims ']'    { $$ = NODE(AST_INPUT, @$); $$->a = $3.head; }
    ;

dims
    : dim                      { $$.head = $$.tail = $1; }
    | dims ',' dim             { $$ = $1; $$.tail->next = $3; $$.tail = $3; }
    ;

dim
    : INTEGER                  { $$ = NODE(AST_DIM, @$); $$->ival = $1; }
    | IDENT                    { $$ = NODE(AST_DIM, @$); $$->str = $1; }
    | IDENT '-' INTEGER        { $$ = NODE(AST_DIM, @$); $$->str = $1; $$->ival = -$3; }
    ;

names
    : name                     { $$.head = $$.tail = $1; }
    | names ',' name           { $$ = $1; $$.tail->next = $3; $$.tail = $3; }
    ;

name
    : IDENT                    { $$ = NODE(AST_NAME, @$); $$->str = $1; }
    ;

/* train { loss = mse(p, y)  optimizer = adam(learning_rate=0.01) ... } */
entries
    : %empty                   { $$.head = $$.tail = NULL; }
    | entries NL               { $$ = $1; }
    | entries entry NL         {
                                 $$ = $1;
                                 if ($$.tail) $$.tail->next = $2; else $$.head = $2;
                                 $$.tail = $2;
                               }
    | entries error NL         { $$ = $1; yyerrok; }
    ;

opt_entry
    : %empty                   { $$ = NULL; }
    | entry
    ;

entry
    : IDENT '=' expr           { $$ = NODE(AST_KEYVAL, @$); $$->str = $1; $$->b = $3; }
    ;

/* x -> LSTM(32) -> Dense(1): each stage applied to the one before */
expr
    : postfix
    | expr ARROW postfix       { $$ = NODE(AST_PIPE, @$); $$->a = $1; $$->b = $3; }
    ;

/* LSTM(32) builds a layer; LSTM(32)(x) applies it */
postfix
    : primary
    | postfix '(' args ')'     { $$ = NODE(AST_CALL, @$); $$->b = $1; $$->a = $3.head; }
    ;

primary
    : IDENT                    { $$ = NODE(AST_NAME, @$); $$->str = $1; }
    | INTEGER                  { $$ = NODE(AST_INT, @$); $$->ival = $1; }
    | '-' INTEGER              { $$ = NODE(AST_INT, @$); $$->ival = -$2; }
    | FLOAT                    { $$ = NODE(AST_FLOAT, @$); $$->fval = $1; }
    | '-' FLOAT                { $$ = NODE(AST_FLOAT, @$); $$->fval = -$2; }
    | STRING                   { $$ = NODE(AST_STRING, @$); $$->str = $1; }
    | TRUE                     { $$ = NODE(AST_BOOL, @$); $$->ival = 1; }
    | FALSE                    { $$ = NODE(AST_BOOL, @$); $$->ival = 0; }
    | '[' items ']'            { $$ = NODE(AST_LIST, @$); $$->a = $2.head; }
    | '(' expr ')'             { $$ = $2; }
    ;

items
    : %empty                   { $$.head = $$.tail = NULL; }
    | itemlist
    | itemlist ','
    ;

itemlist
    : expr                     { $$.head = $$.tail = $1; }
    | itemlist ',' expr        { $$ = $1; $$.tail->next = $3; $$.tail = $3; }
    ;

args
    : %empty                   { $$.head = $$.tail = NULL; }
    | arglist
    | arglist ','
    ;

arglist
    : arg                      { $$.head = $$.tail = $1; }
    | arglist ',' arg          { $$ = $1; $$.tail->next = $3; $$.tail = $3; }
    ;

arg
    : expr                     { $$ = NODE(AST_ARG, @$); $$->b = $1; }
    | IDENT '=' expr           { $$ = NODE(AST_ARG, @$); $$->str = $1; $$->b = $3; }
    ;

%%

static void add_stmt(ParseCtx *ctx, AstNode *s)
{
    if (ctx->tail)
        ctx->tail->next = s;
    else
        ctx->head = s;
    ctx->tail = s;
}

/* Bison calls this only for "memory exhausted": the parser's stack is full. */
static void seqyyerror(Span *loc, void *scanner, ParseCtx *ctx, const char *msg)
{
    (void)scanner;
    if (strstr(msg, "exhausted"))
        diag_error(ctx->diag, *loc, "nesting is too deep (the limit is %d levels)",
                   YYMAXDEPTH / 2);
    else
        diag_error(ctx->diag, *loc, "%s", msg);
}

/* "expected ')' or ',' before end of line", like gcc. */
static int yyreport_syntax_error(const yypcontext_t *pc, void *scanner, ParseCtx *ctx)
{
    (void)scanner;
    enum { MAX_EXPECTED = 5 };
    yysymbol_kind_t expected[MAX_EXPECTED];
    int n = yypcontext_expected_tokens(pc, expected, MAX_EXPECTED);
    yysymbol_kind_t got = yypcontext_token(pc);
    char msg[512];
    size_t len = 0;
    if (n <= 0 || n == MAX_EXPECTED) {
        len += (size_t)snprintf(msg, sizeof msg, "unexpected %s", yysymbol_name(got));
    } else {
        len += (size_t)snprintf(msg, sizeof msg, "expected ");
        for (int i = 0; i < n && len < sizeof msg; i++)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s",
                                    i == 0 ? "" : i == n - 1 ? " or " : ", ",
                                    yysymbol_name(expected[i]));
        if (len < sizeof msg)
            snprintf(msg + len, sizeof msg - len, " before %s", yysymbol_name(got));
    }
    diag_error(ctx->diag, *yypcontext_location(pc), "%s", msg);
    /* When a closing bracket would do, show what it would close (clang's
     * "to match this '('"): the usual mistake is a bracket left open. */
    yysymbol_kind_t all[YYNTOKENS];
    int n_all = yypcontext_expected_tokens(pc, all, YYNTOKENS);
    bool close_paren = false, close_brace = false;
    for (int i = 0; i < n_all; i++) {
        const char *name = yysymbol_name(all[i]);
        close_paren |= !strcmp(name, "')'") || !strcmp(name, "']'");
        close_brace |= !strcmp(name, "'}'");
    }
    /* Only across lines: on the same line, the quoted line shows it already. */
    int cap = (int)(sizeof ctx->open_at / sizeof ctx->open_at[0]), here, open_line, col;
    diag_line_col(ctx->diag, yypcontext_location(pc)->start, &here, &col);
    uint32_t at = ctx->nesting > 0 && ctx->nesting <= cap ? ctx->open_at[ctx->nesting - 1]
                                                          : ctx->brace_at;
    diag_line_col(ctx->diag, at, &open_line, &col);
    if (open_line == here) {
        ;
    } else if (close_paren && ctx->nesting > 0 && ctx->nesting <= cap) {
        diag_note(ctx->diag, (Span){at, at + 1}, "to match this '%c'", ctx->diag->src[at]);
        ctx->unclosed_noted = 1;
    } else if (close_brace && ctx->in_brace) {
        diag_note(ctx->diag, (Span){ctx->brace_at, ctx->brace_at + 1}, "to match this '{'");
    }
    return 0;
}
