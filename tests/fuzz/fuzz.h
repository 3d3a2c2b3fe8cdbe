/*
 * Shared pieces of the libFuzzer harnesses: each harness turns the
 * fuzzer's bytes into the input one parser meets from outside, and
 * checks what must hold for any input (no crash, no leak, and the
 * properties named in each harness).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

/* The input as a C string: parsers that take one stop at the first NUL. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char	*s;

	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
