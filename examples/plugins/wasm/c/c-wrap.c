/*
 * c-wrap: a Pocket WASM plugin in C, written from docs/wasm-abi.md alone
 * (no Pocket code), with no C library. Built by scripts/build-c-plugin.sh:
 *
 *   clang --target=wasm32 -nostdlib -O2 -mbulk-memory -Wl,--no-entry -o c-wrap.wasm c-wrap.c
 *
 * (-mbulk-memory: copies become memory.copy instead of calls to a memcpy
 * that a program without a C library does not have.)
 *
 * Node `wrap` answers {"wrapped": <its input>, "label": <config label>};
 * node `refuse` always fails. Both log a line through the host's `log`.
 */

typedef unsigned int u32;
typedef unsigned long long u64;

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(name) __attribute__((import_module("pocket"), import_name(name)))

IMPORT("log") void host_log(int level, const char *ptr, int len);

/* ---- memory: a bump allocator over a static heap, reset when all is freed */

static unsigned char heap[1 << 20];
static u32 top = 0;
static int live = 0;

EXPORT("pocket_alloc") int pocket_alloc(int len) {
    u32 size = ((u32)len + 7u) & ~7u;
    if (len < 0 || size > sizeof(heap) - top) return 0;
    unsigned char *p = heap + top;
    top += size;
    live += 1;
    return (int)(u32)p;
}

EXPORT("pocket_free") void pocket_free(int ptr, int len) {
    (void)ptr;
    (void)len;
    if (--live <= 0) {
        live = 0;
        top = 0;
    }
}

static u32 length(const char *s) {
    u32 n = 0;
    while (s[n]) n++;
    return n;
}

/* (ptr << 32) | len: how the ABI hands a buffer over. */
static long long pack(const void *ptr, u32 len) {
    return (long long)(((u64)(u32)ptr << 32) | (u64)len);
}

/* A copy of `len` bytes at `src` in a fresh buffer from pocket_alloc,
 * which the host frees with pocket_free. */
static long long give(const char *src, u32 len) {
    char *out = (char *)pocket_alloc((int)len);
    if (!out) return 0;
    for (u32 i = 0; i < len; i++) out[i] = src[i];
    return pack(out, len);
}

/* ---- the ABI's exports */

EXPORT("pocket_abi_version") int pocket_abi_version(void) { return 1; }

static const char DESCRIPTION[] =
    "{\"name\":\"c-wrap\",\"version\":\"1.0.0\","
    "\"description\":\"A plugin in C: wraps its input\",\"author\":\"Pocket examples\","
    "\"permissions\":[\"log\"],"
    "\"nodes\":["
    "{\"type\":\"wrap\",\"description\":\"Answers {wrapped: input, label: config.label}\","
    "\"config_schema\":{\"type\":\"object\",\"properties\":"
    "{\"label\":{\"type\":\"string\",\"default\":\"c\"}}},"
    "\"examples\":["
    "{\"input\":{\"a\":[1,2,{\"b\":\"}\"}]},\"output\":{\"wrapped\":{\"a\":[1,2,{\"b\":\"}\"}]},\"label\":\"c\"}},"
    "{\"input\":\"x\",\"config\":{\"label\":\"mine\"},\"output\":{\"wrapped\":\"x\",\"label\":\"mine\"}}]},"
    "{\"type\":\"refuse\",\"description\":\"Always fails\","
    "\"examples\":[{\"input\":null,\"error\":\"refused by C\"}]}]}";

EXPORT("pocket_describe") long long pocket_describe(void) {
    return give(DESCRIPTION, sizeof(DESCRIPTION) - 1);
}

/* The end of the JSON value starting at `p` (compact JSON, as the host
 * writes it): strings with escapes, nested objects and arrays, scalars. */
static const char *skip_value(const char *p, const char *end) {
    int depth = 0;
    do {
        if (p >= end) return end;
        char c = *p++;
        if (c == '"') {
            while (p < end && *p != '"') p += (*p == '\\') ? 2 : 1;
            p++;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (depth == 0) {
            while (p < end && *p != ',' && *p != '}' && *p != ']') p++;
        }
    } while (depth > 0);
    return p;
}

static int starts_with(const char *p, const char *end, const char *prefix) {
    u32 n = length(prefix);
    if ((u32)(end - p) < n) return 0;
    for (u32 i = 0; i < n; i++)
        if (p[i] != prefix[i]) return 0;
    return 1;
}

/* Appends `len` bytes to the response being built in `out` at `*at`. */
static void put(char *out, u32 *at, const char *src, u32 len) {
    for (u32 i = 0; i < len; i++) out[(*at)++] = src[i];
}

static void put_text(char *out, u32 *at, const char *text) { put(out, at, text, length(text)); }

static long long fail(const char *message) {
    static char response[256];
    u32 at = 0;
    put_text(response, &at, "{\"error\":\"");
    put_text(response, &at, message);
    put_text(response, &at, "\"}");
    return give(response, at);
}

/* The request is {"node":<string>,"config":<object>,"input":<value>}, in
 * that order, compact (docs/wasm-abi.md, "A call"). */
EXPORT("pocket_exec") long long pocket_exec(int ptr, int len) {
    const char *p = (const char *)ptr, *end = p + len;
    if (!starts_with(p, end, "{\"node\":")) return fail("unexpected request");
    const char *node = p + 8;
    const char *node_end = skip_value(node, end);
    if (!starts_with(node_end, end, ",\"config\":")) return fail("unexpected request");
    const char *config = node_end + 10;
    const char *config_end = skip_value(config, end);
    if (!starts_with(config_end, end, ",\"input\":")) return fail("unexpected request");
    const char *input = config_end + 9;
    const char *input_end = end - 1; /* before the closing brace */

    static const char called[] = "c-wrap called";
    host_log(2, called, sizeof(called) - 1);

    if (starts_with(node, node_end, "\"refuse\"")) return fail("refused by C");
    if (!starts_with(node, node_end, "\"wrap\"")) return fail("unknown node type");

    /* config.label: the value after "label": in the config object (the host
     * filled in its default), a JSON string copied as it is. */
    const char *label = "\"c\"";
    u32 label_len = 3;
    for (const char *q = config; q < config_end; q++) {
        if (starts_with(q, config_end, "\"label\":")) {
            label = q + 8;
            label_len = (u32)(skip_value(label, config_end) - label);
            break;
        }
    }
    u32 size = 64 + (u32)(input_end - input) + label_len;
    char *out = (char *)pocket_alloc((int)size);
    if (!out) return fail("out of memory");
    u32 at = 0;
    put_text(out, &at, "{\"output\":{\"wrapped\":");
    put(out, &at, input, (u32)(input_end - input));
    put_text(out, &at, ",\"label\":");
    put(out, &at, label, label_len);
    put_text(out, &at, "}}");
    return pack(out, at);
}
