# PART B of the macOS compile check: the macOS user-space code (the IOKit
# transport of the client, the installer app), compiled on Linux against
# the declaration headers in macos/sdk/ (written from Apple's documentation,
# the API subset our code calls; macos/APIS-host.md lists them).
#
# macos/macos.mk (the `make macos-check` target) compiles MACOS_HOST_SRCS
# with MACOS_HOST_CFLAGS.  They are C for the build host's target with its
# libc (DESIGN.md section 6: a macOS target would pick up Linux's
# /usr/include), with CONFIG_DARWIN defined as QEMU's config-host.h does on
# a Mac (the sources select their macOS code by it).  The installer is Objective-C for the
# real macOS target with nothing but macos/sdk on the include path
# (MACOS_OBJC_SRCS, MACOS_OBJC_FLAGS).  `make macos-host-check` runs both on
# its own.
MACOS_HOST_SRCS += client/transport-iokit.c client/client.c \
	client/iokit-match.c client/iokit-callq.c client/transport-socket.c \
	cli/host-macos.c
MACOS_HOST_CFLAGS += -std=gnu11 -D_GNU_SOURCE -DCONFIG_DARWIN -fsyntax-only \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes \
	-Iinclude -Iclient/compat -Imacos/sdk

MACOS_OBJC_SRCS += installer/main.m
MACOS_OBJC_FLAGS += -x objective-c -fsyntax-only -target arm64-apple-macos13 \
	-nostdinc -fobjc-arc -Wall -Wextra -Werror -Wno-unused-parameter \
	-Imacos/sdk

MACOS_CLANG ?= clang

.PHONY: macos-host-check
macos-host-check:
	@set -e; for f in $(MACOS_HOST_SRCS); do \
		echo "  macos-host  $$f"; \
		$(MACOS_CLANG) $(MACOS_HOST_CFLAGS) $$f; \
	done; for f in $(MACOS_OBJC_SRCS); do \
		[ -f "$$f" ] || continue; \
		echo "  macos-objc  $$f"; \
		$(MACOS_CLANG) $(MACOS_OBJC_FLAGS) $$f; \
	done
