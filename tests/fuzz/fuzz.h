/*
 * fuzz.h - shared declarations of kb's fuzz targets (tests/fuzz/fuzz_*.c).
 *
 * Each target defines LLVMFuzzerTestOneInput() and checks properties, not
 * only "no crash": a violated property calls fuzz_fail(), which aborts so
 * libFuzzer (make fuzz) and the replay driver (make test) both report it.
 */
#ifndef KB_FUZZ_H
#define KB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print "fuzz: property violated: WHAT" and abort(). */
void fuzz_fail(const char *what) __attribute__((noreturn));

#define FUZZ_CHECK(cond) do { if (!(cond)) fuzz_fail(#cond); } while (0)

#endif
