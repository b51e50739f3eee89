// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stand-in host process that reports a chosen LLVM version through the
 * same C entry point libLLVM exports (LLVMGetVersion), then loads the hvo
 * plugin the way clang-tidy's -load does.  Lets ctest prove that the plugin
 * refuses a host with another LLVM without installing another clang-tidy.
 *
 * usage: hvo-fake-llvm-host PLUGIN MAJOR MINOR PATCH
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned fake_major, fake_minor, fake_patch;

/* Exported (the executable is linked with ENABLE_EXPORTS). */
void LLVMGetVersion(unsigned *major, unsigned *minor, unsigned *patch)
{
	*major = fake_major;
	*minor = fake_minor;
	*patch = fake_patch;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s PLUGIN MAJOR MINOR PATCH\n", argv[0]);
		return 2;
	}
	fake_major = (unsigned)strtoul(argv[2], NULL, 10);
	fake_minor = (unsigned)strtoul(argv[3], NULL, 10);
	fake_patch = (unsigned)strtoul(argv[4], NULL, 10);
	if (!dlopen(argv[1], RTLD_LAZY | RTLD_GLOBAL)) {
		fprintf(stderr, "fake host: dlopen failed: %s\n", dlerror());
		return 1;
	}
	printf("fake host: plugin loaded\n");
	return 0;
}
