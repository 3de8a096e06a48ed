/* util.c - fuzz_fail(), shared by every fuzz target. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz: property violated: %s\n", what);
	abort();
}
