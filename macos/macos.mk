# `make macos-check`: the compile check that keeps the macOS-only code
# honest on Linux (issue 11, section 3).  Every macOS-only file is compiled
# with Debian's clang against the declaration headers in macos/sdk (written
# from Apple's documentation) and the project's own headers, so a change of
# the ABI or the portable core that the macOS code no longer agrees with
# fails here.  tests/macos/run.sh does the work and prints one PASS/FAIL
# line per file; it is also the `macos` group of scripts/test.sh.
#
# Lists (each compiled with its flags):
#   MACOS_DEXT_SRCS   the DriverKit shell's C++ (dext/macos/*.cpp): arm64
#                     Apple target, freestanding, nothing but macos/sdk,
#                     the clang resource headers and the project's headers
#                     on the include path (DESIGN.md section 6)
#   MACOS_IIG_SRCS    its IIG sources, as C++ under dext/macos/iig-shim.h
#   MACOS_CORE_SRCS   the portable core as the dext builds it: C for the
#                     Apple target against DriverKit's libc subset
#   MACOS_HOST_SRCS   user-space macOS C (PART B appends in macos/host.mk;
#                     flags MACOS_HOST_CFLAGS, the build host's target)
#   MACOS_OBJC_SRCS   Objective-C (PART B; flags MACOS_OBJC_FLAGS)
MACOS_CLANG   ?= clang
MACOS_CLANGXX ?= clang++
MACOS_RESOURCE_INC = $(shell $(MACOS_CLANG) -print-resource-dir 2>/dev/null)/include

# Warnings as Xcode's defaults have them too (64-to-32 truncation).
MACOS_APPLE_TARGET := -target arm64-apple-macos13 -fsyntax-only -nostdinc -ffreestanding \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wshorten-64-to-32
MACOS_DK_INC = -isystem $(MACOS_RESOURCE_INC) -Imacos/sdk/DriverKit/usr/include -Imacos/sdk

MACOS_DEXT_SRCS += $(sort $(wildcard dext/macos/*.cpp))
MACOS_DEXT_CXXFLAGS += $(MACOS_APPLE_TARGET) -nostdinc++ -std=c++17 -Wc++20-extensions $(MACOS_DK_INC) \
	-Iinclude -Idext/core -Idext/macos -Idext/macos/iig-out
MACOS_IIG_SRCS += $(sort $(wildcard dext/macos/*.iig))
MACOS_IIG_CXXFLAGS += -x c++ -include dext/macos/iig-shim.h $(MACOS_APPLE_TARGET) \
	-nostdinc++ -std=c++17 $(MACOS_DK_INC)
MACOS_CORE_SRCS += $(sort $(wildcard dext/core/*.c))
MACOS_CORE_CFLAGS += -x c -std=gnu11 $(MACOS_APPLE_TARGET) $(MACOS_DK_INC) -Iinclude

.PHONY: macos-check macos-vars
macos-check:
	@tests/macos/run.sh

# For tests/macos/run.sh: the lists and flags as shell assignments.
macos-vars:
	@printf "%s='%s'\n" \
		MACOS_CLANG "$(MACOS_CLANG)" MACOS_CLANGXX "$(MACOS_CLANGXX)" \
		MACOS_DEXT_SRCS "$(MACOS_DEXT_SRCS)" MACOS_DEXT_CXXFLAGS "$(MACOS_DEXT_CXXFLAGS)" \
		MACOS_IIG_SRCS "$(MACOS_IIG_SRCS)" MACOS_IIG_CXXFLAGS "$(MACOS_IIG_CXXFLAGS)" \
		MACOS_CORE_SRCS "$(MACOS_CORE_SRCS)" MACOS_CORE_CFLAGS "$(MACOS_CORE_CFLAGS)" \
		MACOS_HOST_SRCS "$(MACOS_HOST_SRCS)" MACOS_HOST_CFLAGS "$(MACOS_HOST_CFLAGS)" \
		MACOS_OBJC_SRCS "$(MACOS_OBJC_SRCS)" MACOS_OBJC_FLAGS "$(MACOS_OBJC_FLAGS)"
