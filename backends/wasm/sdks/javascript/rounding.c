/*
 * rounding.c: the directed rounding QuickJS's number formatting needs, which
 * WebAssembly does not have.
 *
 * JavaScript rounds toFixed, toPrecision and toExponential half away from
 * zero ((0.5).toFixed(0) is "1", (1.125).toFixed(2) is "1.13"). QuickJS
 * (quickjs.c, js_ecvt and js_fcvt) gets that from printf by switching the
 * FPU's rounding mode with fesetround(FE_UPWARD / FE_DOWNWARD) around a
 * snprintf call, first to tell an exact tie from a value merely close to one,
 * then to round the tie. WebAssembly has one rounding mode, to nearest, so
 * wasi-libc's fesetround refuses the others and every tie would round to
 * even ((0.5).toFixed(0) would be "0").
 *
 * scripts/build-js-plugins.sh compiles quickjs.c with
 * -Dfesetround=pocket_fesetround -Dsnprintf=pocket_snprintf, so that its
 * calls come here: pocket_fesetround records the mode, and pocket_snprintf,
 * under a directed mode, formats QuickJS's two number formats ("%.*f" and
 * "%+.*e") from the number's exact decimal expansion (musl's printf writes
 * exact digits at any precision), rounding it toward +infinity or -infinity
 * by hand. Everything else goes to vsnprintf as it is. Nothing is changed in
 * QuickJS's own source.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* wasi-libc's fenv.h defines FE_TONEAREST only; the build defines the other
 * two (FE_DOWNWARD=0x400, FE_UPWARD=0x800, their x86 values) for quickjs.c,
 * and they must agree here. */
#ifndef FE_TONEAREST
#define FE_TONEAREST 0
#endif
#define POCKET_FE_DOWNWARD 0x400
#define POCKET_FE_UPWARD 0x800

/* Digits after the point that hold any double exactly: the smallest
 * subnormal, 2^-1074, has 1074 fractional digits; %e needs at most 767
 * significant digits. */
#define EXACT_FIXED_DIGITS 1100
#define EXACT_EXP_DIGITS 800
/* "-", 309 integer digits, ".", the fraction, NUL (and a little spare). */
#define EXACT_BUF (EXACT_FIXED_DIGITS + 320)

static int rounding = FE_TONEAREST;

int pocket_fesetround(int mode) {
    if (mode != FE_TONEAREST && mode != POCKET_FE_DOWNWARD && mode != POCKET_FE_UPWARD) return -1;
    rounding = mode;
    return 0;
}

/* Adds one unit in the last place of the decimal digits digits[0..len) (a
 * '.' among them is skipped); returns 1 if it carried out of the first. */
static int increment(char *digits, size_t len) {
    for (size_t i = len; i-- > 0;) {
        if (digits[i] == '.') continue;
        if (digits[i] != '9') {
            digits[i]++;
            return 0;
        }
        digits[i] = '0';
    }
    return 1;
}

/* Whether any digit of text is not '0' (up to an 'e' or the end). */
static int any_nonzero(const char *text) {
    for (; *text && *text != 'e'; text++) {
        if (*text >= '1' && *text <= '9') return 1;
    }
    return 0;
}

/* "%.*f" of d with prec digits, rounded toward +inf (up) or -inf. */
static int format_fixed(char *buf, size_t size, int prec, double d, int up) {
    char exact[EXACT_BUF];
    int n = snprintf(exact, sizeof exact, "%.*f", EXACT_FIXED_DIGITS, d);
    if (n < 0 || (size_t)n >= sizeof exact || prec < 0 || prec > 100) return snprintf(buf, size, "%.*f", prec, d);
    int negative = exact[0] == '-';
    char *point = strchr(exact, '.');
    if (!point) return snprintf(buf, size, "%.*f", prec, d); /* inf, nan */
    /* Kept: everything up to prec digits after the point. */
    char *end = prec > 0 ? point + 1 + prec : point;
    int inexact = any_nonzero(point + 1 + prec);
    char *start = exact + negative;
    /* Away from zero when the direction points away from zero. */
    if (inexact && (up != negative)) {
        if (increment(start, (size_t)(end - start))) {
            /* 99.9 -> 100.0: one more leading digit */
            memmove(start + 1, start, (size_t)(end - start));
            *start = '1';
            end++;
        }
    }
    *end = '\0';
    return snprintf(buf, size, "%s", exact);
}

/* "%+.*e" of d with prec digits after the point, rounded toward +inf (up)
 * or -inf. */
static int format_exp(char *buf, size_t size, int prec, double d, int up) {
    char exact[EXACT_EXP_DIGITS + 32];
    int n = snprintf(exact, sizeof exact, "%+.*e", EXACT_EXP_DIGITS, d);
    if (n < 0 || (size_t)n >= sizeof exact || prec < 0 || prec > 100) return snprintf(buf, size, "%+.*e", prec, d);
    char *e = strchr(exact, 'e');
    if (!e) return snprintf(buf, size, "%+.*e", prec, d); /* inf, nan */
    int negative = exact[0] == '-';
    int exponent = 0;
    sscanf(e + 1, "%d", &exponent);
    /* exact is "+d.ddd...e+XX": the first digit, then prec after the point. */
    char *start = exact + 1;
    char *end = prec > 0 ? start + 2 + prec : start + 1;
    int inexact = any_nonzero(end);
    if (inexact && (up != negative)) {
        if (increment(start, (size_t)(end - start))) {
            /* 9.99 -> 10.00: 1.000, one more in the exponent */
            start[0] = '1';
            exponent++;
        }
    }
    *end = '\0';
    return snprintf(buf, size, "%c%se%c%02d", exact[0], start, exponent < 0 ? '-' : '+',
                    exponent < 0 ? -exponent : exponent);
}

int pocket_snprintf(char *buf, size_t size, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n;
    if (rounding != FE_TONEAREST && strcmp(format, "%.*f") == 0) {
        int prec = va_arg(args, int);
        double d = va_arg(args, double);
        n = format_fixed(buf, size, prec, d, rounding == POCKET_FE_UPWARD);
    } else if (rounding != FE_TONEAREST && strcmp(format, "%+.*e") == 0) {
        int prec = va_arg(args, int);
        double d = va_arg(args, double);
        n = format_exp(buf, size, prec, d, rounding == POCKET_FE_UPWARD);
    } else {
        n = vsnprintf(buf, size, format, args);
    }
    va_end(args);
    return n;
}
