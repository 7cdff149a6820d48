/*
 * pocket_js.c: the C half of Pocket's JavaScript SDK.
 *
 * A JavaScript plugin is this file, the QuickJS engine and the plugin's own
 * source, compiled to one WASI preview 1 reactor (wasm32-wasi) by
 * scripts/build-js-plugins.sh. This file exports Pocket's WASM ABI, version 1
 * (docs/wasm-abi.md): pocket_abi_version, pocket_abi_features, pocket_alloc,
 * pocket_free, pocket_describe and pocket_exec. It runs the SDK's JavaScript
 * half (pocket.js, embedded below), then the plugin's source, in one QuickJS
 * context per instance, and hands pocket.js the `pocket` imports as C
 * functions. Everything about JSON, the description and the node's result is
 * done in pocket.js; this file moves bytes between the host and JavaScript.
 *
 * The plugin's source comes from a second object, which the build script
 * generates per plugin: it defines pocket_plugin_source (the source, followed
 * by a NUL byte, which QuickJS's parser needs), pocket_plugin_source_len (its
 * length without the NUL) and pocket_plugin_file (the name errors show).
 *
 * Memory. QuickJS allocates with the C library's malloc, so JavaScript lives
 * in the module's linear memory, under the plugin's `memory` limit: past it,
 * memory.grow fails, malloc returns NULL and QuickJS throws "out of memory".
 * An engine that ran out of memory may be left half-way through changing
 * itself, so then this file ends the call through the host's `panic`: the
 * host discards the instance and the next call gets a fresh one.
 *
 * Time. A JavaScript loop is a loop of the QuickJS interpreter, so the
 * plugin's `fuel` and `timeout` stop it like any WASM code: the call traps,
 * the host discards the instance and the next call gets a fresh one.
 *
 * Stack. QuickJS checks its own recursion against JS_STACK_BUDGET (an
 * InternalError in JavaScript, "stack overflow"), which is less than the
 * module's C stack (-Wl,-z,stack-size in the build script), so a deep
 * JavaScript recursion is an error the node reports, not a crash. The stack
 * is first in linear memory: C that overflowed it anyway would trap (an
 * access below address 0), not write over data.
 *
 * Buffers. Every pointer and length the host passes is checked against
 * linear memory before it is read; every text handed to the host is checked
 * to fit its i32 length; text built here grows as needed (Buffer), so no
 * buffer of a fixed size is ever written past.
 */

#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"

/* How much of the C stack JavaScript may use: the build links a 1 MiB stack,
 * and the rest is headroom for the C code QuickJS runs between its checks
 * (the parser, regular expressions, printf). */
#define JS_STACK_BUDGET (768 * 1024)
/* The longest error message this file writes itself (a message from the
 * engine, cut at this many bytes). */
#define MAX_ERROR_BYTES 4096

/* ------------------------------------------------------------------------ */
/* The host's imports (module `pocket`, docs/wasm-abi.md)                    */

#define POCKET_IMPORT(name) __attribute__((import_module("pocket"), import_name(name)))

POCKET_IMPORT("log") void host_log(int32_t level, const char *ptr, int32_t len);
POCKET_IMPORT("config_get") int64_t host_config_get(const char *key, int32_t key_len);
POCKET_IMPORT("kv_get") int64_t host_kv_get(const char *key, int32_t key_len);
POCKET_IMPORT("kv_set") int32_t host_kv_set(const char *key, int32_t key_len, const char *value, int32_t value_len);
POCKET_IMPORT("http_request") int64_t host_http_request(const char *request, int32_t len);
POCKET_IMPORT("plugin_call") int64_t host_plugin_call(const char *request, int32_t len);
POCKET_IMPORT("panic") __attribute__((noreturn)) void host_panic(const char *message, int32_t len);

/* A packed result that means "failed" (docs/wasm-abi.md). */
#define PACKED_FAILED ((int64_t)-1)

/* ------------------------------------------------------------------------ */
/* What the build embeds                                                     */

/* The plugin's source and its file name (the generated object). */
extern const char pocket_plugin_source[];
extern const size_t pocket_plugin_source_len;
extern const char pocket_plugin_file[];

/* The SDK's JavaScript half, with a NUL after it for QuickJS's parser. */
static const char sdk_source[] = {
#embed "pocket.js"
    , 0};
/* The name pocket.js's frames carry in stack traces. */
static const char sdk_file[] = "<pocket sdk>";

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static void panic_text(const char *message) { host_panic(message, (int32_t)strlen(message)); }

/* Whether [ptr, ptr + len) lies inside linear memory. */
static int in_memory(uint32_t ptr, uint32_t len) {
    uint64_t size = (uint64_t)__builtin_wasm_memory_size(0) * 65536u;
    return (uint64_t)ptr + (uint64_t)len <= size;
}

static int64_t pack(const void *ptr, size_t len) {
    return (int64_t)(((uint64_t)(uintptr_t)ptr << 32) | (uint64_t)(uint32_t)len);
}

/* A growable byte buffer; `failed` once an allocation failed (then every
 * further write is dropped and the text must not be used). */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} Buffer;

static void buffer_reserve(Buffer *b, size_t more) {
    if (b->failed) return;
    if (more > SIZE_MAX - b->len) {
        b->failed = 1;
        return;
    }
    size_t need = b->len + more;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc(b->data, cap);
    if (!data) {
        b->failed = 1;
        return;
    }
    b->data = data;
    b->cap = cap;
}

static void buffer_write(Buffer *b, const char *bytes, size_t len) {
    buffer_reserve(b, len);
    if (b->failed) return;
    memcpy(b->data + b->len, bytes, len);
    b->len += len;
}

/* The length of the well-formed UTF-8 sequence at s[0..len), or 0 if there
 * is none (a stray byte, an overlong form, a surrogate, past U+10FFFF, cut). */
static size_t utf8_sequence(const unsigned char *s, size_t len) {
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return n;
}

/* QuickJS writes a lone surrogate, which UTF-8 cannot hold, in its 3-byte
 * CESU-8 form (ED A0..BF 80..BF), and the host refuses text that is not
 * UTF-8: each becomes U+FFFD (EF BF BD, 3 bytes too), in place. Only a
 * string with a non-ASCII character can hold one, and JS_ToCStringLen gives
 * such a string as a copy of its own, which may be written. */
static void replace_lone_surrogates(const char *text, size_t len) {
    unsigned char *s = (unsigned char *)(uintptr_t)text;
    for (size_t i = 0; i + 2 < len; i++) {
        if (s[i] == 0xED && s[i + 1] >= 0xA0 && s[i + 1] <= 0xBF) {
            s[i] = 0xEF, s[i + 1] = 0xBF, s[i + 2] = 0xBD;
            i += 2;
        }
    }
}

/* `{"error":"<message>"}` in a buffer from malloc, the message escaped as
 * JSON, cut at MAX_ERROR_BYTES, and anything that is not UTF-8 (a lone
 * surrogate QuickJS wrote as CESU-8) replaced by U+FFFD; NULL if memory ran
 * out. */
static char *error_json(const char *message, size_t len, size_t *out_len) {
    static const char hex[] = "0123456789abcdef";
    Buffer b = {0};
    if (len > MAX_ERROR_BYTES) len = MAX_ERROR_BYTES;
    buffer_reserve(&b, len + 32);
    buffer_write(&b, "{\"error\":\"", 10);
    const unsigned char *s = (const unsigned char *)message;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            char escaped[2] = {'\\', (char)c};
            buffer_write(&b, escaped, 2);
            i++;
        } else if (c < 0x20) {
            char escaped[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buffer_write(&b, escaped, 6);
            i++;
        } else {
            size_t n = utf8_sequence(s + i, len - i);
            if (n == 0) {
                buffer_write(&b, "\\ufffd", 6);
                i++;
            } else {
                buffer_write(&b, (const char *)s + i, n);
                i += n;
            }
        }
    }
    buffer_write(&b, "\"}", 2);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *out_len = b.len;
    return b.data;
}

/* ------------------------------------------------------------------------ */
/* QuickJS's allocator: the C library's, noting when memory ran out          */

static int out_of_memory;

static void *js_malloc_hook(JSMallocState *s, size_t size) {
    if (size > s->malloc_limit - s->malloc_size) return NULL; /* QuickJS's own limit (none is set) */
    void *ptr = malloc(size);
    if (!ptr) {
        out_of_memory = 1;
        return NULL;
    }
    s->malloc_count++;
    s->malloc_size += malloc_usable_size(ptr);
    return ptr;
}

static void js_free_hook(JSMallocState *s, void *ptr) {
    if (!ptr) return;
    s->malloc_count--;
    s->malloc_size -= malloc_usable_size(ptr);
    free(ptr);
}

static void *js_realloc_hook(JSMallocState *s, void *ptr, size_t size) {
    if (!ptr) return size ? js_malloc_hook(s, size) : NULL;
    size_t old = malloc_usable_size(ptr);
    if (size == 0) {
        js_free_hook(s, ptr);
        return NULL;
    }
    if (size > old && size - old > s->malloc_limit - s->malloc_size) return NULL;
    void *moved = realloc(ptr, size);
    if (!moved) {
        out_of_memory = 1;
        return NULL;
    }
    s->malloc_size = s->malloc_size - old + malloc_usable_size(moved);
    return moved;
}

static size_t js_usable_size_hook(const void *ptr) { return malloc_usable_size((void *)ptr); }

static const JSMallocFunctions allocator = {
    js_malloc_hook,
    js_free_hook,
    js_realloc_hook,
    js_usable_size_hook,
};

/* ------------------------------------------------------------------------ */
/* The engine, started once per instance (in _initialize)                   */

static JSRuntime *rt;
static JSContext *ctx;
/* pocket.js's describe, exec, settle and errorText. */
static JSValue sdk_describe = JS_UNDEFINED, sdk_exec = JS_UNDEFINED, sdk_settle = JS_UNDEFINED,
               sdk_error_text = JS_UNDEFINED;
/* 0: not started; 1: started; -1: failed, start_message says why. */
static int started;
/* Why the start failed: the text (NUL-terminated) and, for pocket_exec, the
 * error response (both from malloc, kept for every later call). */
static char *start_message, *start_error;
static size_t start_message_len, start_error_len;

/* The pending exception as a node's error (pocket.js's errorText: the
 * message and where it was thrown), in a C string from JS_ToCStringLen that
 * the caller frees with JS_FreeCString; NULL if it cannot be had. */
static const char *exception_text(size_t *len) {
    JSValue e = JS_GetException(ctx);
    JSValue text = JS_UNDEFINED;
    if (JS_IsFunction(ctx, sdk_error_text)) text = JS_Call(ctx, sdk_error_text, JS_UNDEFINED, 1, &e);
    const char *c_text = JS_ToCStringLen(ctx, len, JS_IsString(text) ? text : e);
    if (c_text) replace_lone_surrogates(c_text, *len);
    else JS_FreeValue(ctx, JS_GetException(ctx)); /* converting it threw: drop that */
    JS_FreeValue(ctx, text);
    JS_FreeValue(ctx, e);
    return c_text;
}

/* Fails the start: start_message is `prefix` and `message` (or "out of
 * memory" without one). */
static void fail_start(const char *prefix, const char *message, size_t len) {
    Buffer b = {0};
    buffer_write(&b, prefix, strlen(prefix));
    if (message) buffer_write(&b, message, len);
    else buffer_write(&b, "out of memory", 13);
    buffer_write(&b, "", 1); /* the NUL */
    if (!b.failed) {
        start_message = b.data;
        start_message_len = b.len - 1;
        start_error = error_json(start_message, start_message_len, &start_error_len);
    } else {
        free(b.data);
    }
    started = -1;
}

static void fail_start_with_exception(const char *prefix) {
    if (out_of_memory) {
        /* The exception is "out of memory", or null when even that could
         * not be allocated: say so either way. */
        static const char message[] =
            "out of memory (the plugin's `memory` limit is too small for the JavaScript engine)";
        JS_FreeValue(ctx, JS_GetException(ctx));
        fail_start(prefix, message, sizeof message - 1);
        return;
    }
    size_t len = 0;
    const char *text = exception_text(&len);
    fail_start(prefix, text, len);
    if (text) JS_FreeCString(ctx, text);
}

/* The C functions pocket.js gets as `host`. */
static JSValue js_host_log(JSContext *, JSValueConst, int, JSValueConst *);
static JSValue js_host_config(JSContext *, JSValueConst, int, JSValueConst *);
static JSValue js_host_kv_get(JSContext *, JSValueConst, int, JSValueConst *);
static JSValue js_host_kv_set(JSContext *, JSValueConst, int, JSValueConst *);
static JSValue js_host_http(JSContext *, JSValueConst, int, JSValueConst *);
static JSValue js_host_plugin_call(JSContext *, JSValueConst, int, JSValueConst *);

static const JSCFunctionListEntry host_functions[] = {
    JS_CFUNC_DEF("log", 2, js_host_log),
    JS_CFUNC_DEF("config", 1, js_host_config),
    JS_CFUNC_DEF("kvGet", 1, js_host_kv_get),
    JS_CFUNC_DEF("kvSet", 2, js_host_kv_set),
    JS_CFUNC_DEF("http", 1, js_host_http),
    JS_CFUNC_DEF("pluginCall", 1, js_host_plugin_call),
};

/* Starts QuickJS, runs pocket.js and then the plugin's source: 1 when it is
 * ready, -1 when it failed (start_message says why, for every later call). */
static int start(void) {
    if (started) return started;
    rt = JS_NewRuntime2(&allocator, NULL);
    if (!rt) {
        fail_start("cannot start QuickJS: ", NULL, 0);
        return started;
    }
    JS_SetMaxStackSize(rt, JS_STACK_BUDGET);
    ctx = JS_NewContext(rt);
    if (!ctx) {
        fail_start("cannot start QuickJS: ", NULL, 0);
        return started;
    }

    /* pocket.js is one function expression: call it with the host functions. */
    JSValue factory = JS_Eval(ctx, sdk_source, sizeof sdk_source - 1, sdk_file, JS_EVAL_TYPE_GLOBAL);
    if (JS_IsException(factory)) {
        fail_start_with_exception("the SDK's pocket.js failed: ");
        return started;
    }
    JSValue host = JS_NewObject(ctx);
    JS_SetPropertyFunctionList(ctx, host, host_functions, sizeof host_functions / sizeof host_functions[0]);
    JS_SetPropertyStr(ctx, host, "file", JS_NewString(ctx, pocket_plugin_file));
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue exports = JS_Call(ctx, factory, global, 1, &host);
    JS_FreeValue(ctx, global);
    JS_FreeValue(ctx, host);
    JS_FreeValue(ctx, factory);
    if (JS_IsException(exports)) {
        fail_start_with_exception("the SDK's pocket.js failed: ");
        return started;
    }
    sdk_describe = JS_GetPropertyStr(ctx, exports, "describe");
    sdk_exec = JS_GetPropertyStr(ctx, exports, "exec");
    sdk_settle = JS_GetPropertyStr(ctx, exports, "settle");
    sdk_error_text = JS_GetPropertyStr(ctx, exports, "errorText");
    JS_FreeValue(ctx, exports);

    /* The plugin's own code, which calls pocket.register. */
    JSValue result = JS_Eval(ctx, pocket_plugin_source, pocket_plugin_source_len, pocket_plugin_file,
                             JS_EVAL_TYPE_GLOBAL);
    if (JS_IsException(result)) {
        fail_start_with_exception("the plugin's code failed: ");
        return started;
    }
    JS_FreeValue(ctx, result);
    started = 1;
    return started;
}

/* Starts the engine in the reactor's _initialize (wasi-libc runs
 * constructors there), which the host runs once per instance, before any
 * other call, under a fuel and time budget of its own: starting QuickJS and
 * running the plugin's top-level code is not charged to the instance's
 * first node call. A failure is kept in start_message for the calls. */
__attribute__((constructor)) static void start_early(void) { start(); }

/* Runs the job queue dry (what promises wait on). */
static void run_jobs(void) {
    JSContext *job_ctx;
    while (JS_ExecutePendingJob(rt, &job_ctx) != 0) {
        /* A job that threw was an unhandled rejection: nothing waits on it. */
    }
}

/* Ends the call through the host's panic if QuickJS ran out of memory: its
 * heap may be inconsistent, so this instance must not serve another call. */
static void check_memory(void) {
    if (out_of_memory) {
        panic_text("out of memory: the JavaScript heap reached the plugin's `memory` limit");
    }
}

/* ------------------------------------------------------------------------ */
/* Host calls, as pocket.js sees them                                        */

/* The packed buffer a host function handed back, as a JS string (its memory
 * freed); null for "nothing"; false for "failed" (pocket.js throws then, so
 * that the error has the plugin's stack). */
static JSValue take(JSContext *c, int64_t packed) {
    if (packed == PACKED_FAILED) return JS_FALSE;
    if (packed == 0) return JS_NULL;
    uint32_t ptr = (uint32_t)((uint64_t)packed >> 32), len = (uint32_t)packed;
    /* Not a buffer the host could have had from pocket_alloc: not ours to free. */
    if (ptr == 0 || !in_memory(ptr, len)) return JS_FALSE;
    JSValue text = JS_NewStringLen(c, (const char *)(uintptr_t)ptr, len);
    free((void *)(uintptr_t)ptr);
    return text;
}

/* Argument `i` as a UTF-8 C string (freed with JS_FreeCString) whose length
 * fits the imports' i32, or NULL with an exception pending. */
static const char *text_arg(JSContext *c, int argc, JSValueConst *argv, int i, size_t *len) {
    if (i >= argc) {
        JS_ThrowTypeError(c, "missing argument");
        return NULL;
    }
    const char *text = JS_ToCStringLen(c, len, argv[i]);
    if (!text) return NULL;
    if (*len > INT32_MAX) {
        JS_FreeCString(c, text);
        JS_ThrowRangeError(c, "text too long for the host");
        return NULL;
    }
    replace_lone_surrogates(text, *len);
    return text;
}

static JSValue js_host_log(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    int32_t level;
    size_t len;
    if (argc < 1 || JS_ToInt32(c, &level, argv[0]) < 0) return JS_EXCEPTION;
    const char *text = text_arg(c, argc, argv, 1, &len);
    if (!text) return JS_EXCEPTION;
    host_log(level, text, (int32_t)len);
    JS_FreeCString(c, text);
    return JS_UNDEFINED;
}

/* A host function taking one text and answering a packed buffer. */
static JSValue call_with_text(JSContext *c, int argc, JSValueConst *argv, int64_t (*function)(const char *, int32_t)) {
    size_t len;
    const char *text = text_arg(c, argc, argv, 0, &len);
    if (!text) return JS_EXCEPTION;
    int64_t packed = function(text, (int32_t)len);
    JS_FreeCString(c, text);
    return take(c, packed);
}

static JSValue js_host_config(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    return call_with_text(c, argc, argv, host_config_get);
}

static JSValue js_host_kv_get(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    return call_with_text(c, argc, argv, host_kv_get);
}

static JSValue js_host_http(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    return call_with_text(c, argc, argv, host_http_request);
}

static JSValue js_host_plugin_call(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    return call_with_text(c, argc, argv, host_plugin_call);
}

static JSValue js_host_kv_set(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    size_t key_len, value_len;
    const char *key = text_arg(c, argc, argv, 0, &key_len);
    if (!key) return JS_EXCEPTION;
    const char *value = text_arg(c, argc, argv, 1, &value_len);
    if (!value) {
        JS_FreeCString(c, key);
        return JS_EXCEPTION;
    }
    int32_t code = host_kv_set(key, (int32_t)key_len, value, (int32_t)value_len);
    JS_FreeCString(c, key);
    JS_FreeCString(c, value);
    return JS_NewInt32(c, code);
}

/* ------------------------------------------------------------------------ */
/* The ABI's exports                                                         */

#define POCKET_EXPORT(name) __attribute__((export_name(name)))

POCKET_EXPORT("pocket_abi_version") int32_t pocket_abi_version(void) { return 1; }

/* Both optional features: the host may keep the request buffer (this file
 * copies a request into a JavaScript string and never frees it), and
 * pocket_exec's response is this module's to free (at the next call). */
POCKET_EXPORT("pocket_abi_features") int32_t pocket_abi_features(void) { return 3; }

POCKET_EXPORT("pocket_alloc") int32_t pocket_alloc(int32_t len) {
    if (len < 0) return 0;
    return (int32_t)(uintptr_t)malloc(len ? (size_t)len : 1);
}

POCKET_EXPORT("pocket_free") void pocket_free(int32_t ptr, int32_t len) {
    (void)len;
    free((void *)(uintptr_t)ptr);
}

/* pocket_exec's last response, which this module frees at its next call
 * (pocket_abi_features' second bit): a C string QuickJS gave (JS_ToCString),
 * a buffer from malloc, or start_error (kept). */
static enum { RESPONSE_NONE, RESPONSE_JS, RESPONSE_MALLOC } last_kind;
static const char *last_response;

static void release_last_response(void) {
    if (last_kind == RESPONSE_JS) JS_FreeCString(ctx, last_response);
    else if (last_kind == RESPONSE_MALLOC) free((void *)last_response);
    last_kind = RESPONSE_NONE;
    last_response = NULL;
}

/* Answers an error response built here; a panic if even that cannot be had. */
static int64_t respond_error(const char *message, size_t len) {
    size_t json_len;
    char *json = error_json(message, len, &json_len);
    if (!json) panic_text("out of memory while reporting an error");
    last_kind = RESPONSE_MALLOC;
    last_response = json;
    return pack(json, json_len);
}

static int64_t respond_error_text(const char *message) { return respond_error(message, strlen(message)); }

/* Answers the pending exception as the node's error. */
static int64_t respond_exception(void) {
    size_t len = 0;
    const char *text = exception_text(&len);
    check_memory();
    if (!text) return respond_error_text("the plugin failed (its exception cannot be shown)");
    int64_t packed = respond_error(text, len);
    JS_FreeCString(ctx, text);
    return packed;
}

POCKET_EXPORT("pocket_describe") int64_t pocket_describe(void) {
    release_last_response();
    if (start() < 0) {
        /* The load fails with why. */
        if (start_message) host_panic(start_message, (int32_t)start_message_len);
        panic_text("the plugin failed to start (out of memory)");
    }
    JS_UpdateStackTop(rt);
    JSValue description = JS_Call(ctx, sdk_describe, JS_UNDEFINED, 0, NULL);
    check_memory();
    if (JS_IsException(description)) {
        size_t len = 0;
        const char *text = exception_text(&len);
        if (text) host_panic(text, len > MAX_ERROR_BYTES ? MAX_ERROR_BYTES : (int32_t)len);
        panic_text("pocket_describe failed");
    }
    size_t len;
    const char *text = JS_ToCStringLen(ctx, &len, description);
    JS_FreeValue(ctx, description);
    if (!text) panic_text("out of memory while describing the plugin");
    /* The host frees what pocket_describe returns, with pocket_free: a copy. */
    char *copy = malloc(len ? len : 1);
    if (!copy) panic_text("out of memory while describing the plugin");
    memcpy(copy, text, len);
    JS_FreeCString(ctx, text);
    return pack(copy, len);
}

POCKET_EXPORT("pocket_exec") int64_t pocket_exec(int32_t ptr, int32_t len) {
    release_last_response();
    if (len < 0 || !in_memory((uint32_t)ptr, (uint32_t)len)) {
        return respond_error_text("bad request: outside linear memory");
    }
    if (start() < 0) {
        /* start_error is kept for every call: not this call's to free. */
        return start_error ? pack(start_error, start_error_len) : respond_error_text("the plugin failed to start (out of memory)");
    }
    JS_UpdateStackTop(rt);

    JSValue request = JS_NewStringLen(ctx, (const char *)(uintptr_t)(uint32_t)ptr, (size_t)len);
    if (JS_IsException(request)) return respond_exception();
    JSValue response = JS_Call(ctx, sdk_exec, JS_UNDEFINED, 1, &request);
    JS_FreeValue(ctx, request);
    if (JS_IsNull(response)) {
        /* The node returned a promise: run what it waits on, then take
         * what it settled into. */
        run_jobs();
        response = JS_Call(ctx, sdk_settle, JS_UNDEFINED, 0, NULL);
    }
    run_jobs();
    check_memory();
    if (JS_IsException(response)) return respond_exception();

    size_t response_len;
    const char *text = JS_ToCStringLen(ctx, &response_len, response);
    JS_FreeValue(ctx, response);
    if (!text) return respond_exception();
    check_memory();
    last_kind = RESPONSE_JS;
    last_response = text;
    return pack(text, response_len);
}
