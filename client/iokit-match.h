/*
 * The decisions of the IOKit transport that do not need IOKit, kept here
 * so that they are unit-tested on Linux (tests/unit/test_client_iokit_*):
 * which dext instance serves a host location, which root port a function
 * is below, how an IOReturn becomes a transport result, how a memory type
 * is mapped.  transport-iokit.c is
 * only the glue between these and IOKit's calls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VFIO_APPLE_CLIENT_IOKIT_MATCH_H
#define VFIO_APPLE_CLIENT_IOKIT_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio-apple/dext-abi.h"

/*
 * The registry name of the dext's service (its IOUserClass, which the
 * dext's Info.plist personality names).  Client and dext must agree: the
 * DriverKit extension in dext/macos registers under this name.
 */
#define VFA_IOKIT_SERVICE_NAME  "VFIOAppleDriver"

/* A host PCI function, and optionally the root port it sits below. */
struct vfa_host_loc {
    uint32_t domain;
    uint8_t bus, dev, fn;
    char root_port[64];         /* "" = any root port */
};

/*
 * Parse "[domain:]bus:dev.fn[@root-port]" (hex numbers, as lspci and the
 * vfio-apple command print them; the root port as the IORegistry names it,
 * e.g. pcic0-bridge, or "regid:0x<id>", the function's registry ID).  0
 * or -EINVAL with the reason in @err.
 */
int vfa_iokit_parse_location(const char *s, struct vfa_host_loc *out,
                             char *err, size_t errlen);

/* "0000:03:00.0" or "0000:03:00.0@<root port>" into @buf. */
void vfa_iokit_format_location(const struct vfa_host_loc *l, char *buf,
                               size_t len);

/* What one dext instance said it serves (from its GET_IDENTITY). */
struct vfa_iokit_candidate {
    struct vfa_host_loc loc;    /* root_port: found by vfa_iokit_root_port */
    uint64_t regid;             /* the IOPCIDevice's registry ID; 0 unknown */
    uint16_t vendor_id, device_id;
};

/*
 * A root port given as "regid:0x<hex>" names the function by its
 * IORegistry entry ID instead: what GET_IDENTITY's `location` carries,
 * and the way to tell apart two functions whose roots share a name.
 */
#define VFA_IOKIT_REGID_PREFIX "regid:"

/* "regid:0x<1 to 16 hex digits>" into *id: 0, or -EINVAL. */
int vfa_iokit_parse_regid(const char *s, uint64_t *id);

/*
 * The location that selects candidate @i of @c alone, into @l: its BDF and
 * root port name, or "regid:0x<id>" in the name's place when another
 * candidate has the same BDF and root port name (two roots of one name).
 */
void vfa_iokit_unique_location(const struct vfa_iokit_candidate *c, size_t n,
                               size_t i, struct vfa_host_loc *l);

/*
 * Pick the candidate serving @want.  The BDF must match; a root port in
 * @want must match too (its name, or with "regid:0x<id>" the function's
 * registry ID).  Without one, a BDF that several root ports have (Apple
 * Silicon numbers each root's buses from the same base) is refused.
 * Returns the index, or -ENOENT (nothing serves it; @err lists what the
 * dext serves), -EEXIST (ambiguous; @err lists the candidates with the
 * host-root-port value that selects each, vfa_iokit_unique_location) or
 * -EINVAL (a malformed "regid:").
 */
int vfa_iokit_choose(const struct vfa_iokit_candidate *c, size_t n,
                     const struct vfa_host_loc *want, char *err,
                     size_t errlen);

/* --- the root port, from the IORegistry --- */

/*
 * The IOService plane as the root-port walk reads it: callbacks over
 * opaque handles, 0 meaning none.  transport-iokit.c passes IOKit's calls
 * (io_registry_entry_t handles); the unit tests pass a fake tree.
 */
struct vfa_iokit_registry_ops {
    /* @obj's first parent in the IOService plane, a new reference; 0 if none */
    uintptr_t (*parent)(void *ctx, uintptr_t obj);
    /* whether @obj is an IOPCIDevice (or of a subclass) */
    bool (*is_pci_device)(void *ctx, uintptr_t obj);
    /* @obj's registry name into @buf (@len bytes): 0, or -1 */
    int (*name)(void *ctx, uintptr_t obj, char *buf, size_t len);
    /* @obj's registry entry ID: 0, or -1 */
    int (*registry_id)(void *ctx, uintptr_t obj, uint64_t *id);
    /* drop a reference parent() returned */
    void (*release)(void *ctx, uintptr_t obj);
};

/* Most parent() calls one walk makes (a Thunderbolt chain needs ~12). */
#define VFA_IOKIT_WALK_MAX      32
/* The longest registry name IOKit returns, NUL included (io_name_t). */
#define VFA_IOKIT_NAME_MAX      128

/*
 * The root port above the dext's @service, into @root (@rootlen bytes).
 * The service's provider must be an IOPCIDevice whose registry ID is
 * @regid, the one the dext reported: a function that is not the one the
 * dext says it serves is refused.  The root port is the topmost
 * IOPCIDevice above it: up to where the chain leaves the PCI tree.
 * 0, or -ENODEV (the registry is not as expected: detached, no PCI
 * parent, the walk too long), -EPERM (registry ID mismatch) or
 * -ENAMETOOLONG, with the reason in @err.  Releases every reference it
 * takes; @service stays the caller's.
 */
int vfa_iokit_root_port(const struct vfa_iokit_registry_ops *ops, void *ctx,
                        uintptr_t service, uint64_t regid, char *root,
                        size_t rootlen, char *err, size_t errlen);

/*
 * transport-iokit.c (macOS only): what every dext instance serves, up
 * to @max of them into @out (*n filled), for tools that list devices.
 * 0 or -ENODEV with @err saying why (this process refused, an instance
 * stuck, none usable).  On 0, @err is empty or says why an instance was
 * left out (its identity did not check out against the IORegistry).
 */
int vfa_iokit_list(struct vfa_iokit_candidate *out, size_t max, size_t *n,
                   char *err, size_t errlen);

/* --- IOReturn --- */

/*
 * The IOReturn values the transport tells apart (IOKit/IOReturn.h; the
 * mach ones from mach/message.h).  Defined here as numbers so the portable
 * code and its tests need no Apple header; transport-iokit.c checks them
 * against the SDK's names at compile time.
 */
#define VFA_KIO_RETURN_SUCCESS          0x00000000u
#define VFA_KIO_RETURN_ERROR            0xe00002bcu
#define VFA_KIO_RETURN_NO_MEMORY        0xe00002bdu
#define VFA_KIO_RETURN_NO_RESOURCES     0xe00002beu
#define VFA_KIO_RETURN_IPC_ERROR        0xe00002bfu
#define VFA_KIO_RETURN_NO_DEVICE        0xe00002c0u
#define VFA_KIO_RETURN_NOT_PRIVILEGED   0xe00002c1u
#define VFA_KIO_RETURN_BAD_ARGUMENT     0xe00002c2u
#define VFA_KIO_RETURN_EXCLUSIVE_ACCESS 0xe00002c5u
#define VFA_KIO_RETURN_UNSUPPORTED      0xe00002c7u
#define VFA_KIO_RETURN_BUSY             0xe00002d5u
#define VFA_KIO_RETURN_TIMEOUT          0xe00002d6u
#define VFA_KIO_RETURN_OFFLINE          0xe00002d7u
#define VFA_KIO_RETURN_NOT_ATTACHED     0xe00002d9u
#define VFA_KIO_RETURN_NOT_PERMITTED    0xe00002e2u
#define VFA_KIO_RETURN_ABORTED          0xe00002ebu
#define VFA_MACH_SEND_INVALID_DEST      0x10000003u
#define VFA_MACH_RCV_PORT_DIED          0x10004003u

/*
 * What an IOReturn from IOConnectCall*Method / IOConnectMapMemory64 means
 * for the transport: 0 with *status the method's enum vfa_err (the dext's
 * VFA_IORETURN(code), or IOKit's own refusal translated), or -ENODEV when
 * the connection is gone (the dext died, the device was removed: nothing
 * later will get through).
 */
int vfa_iokit_result(uint32_t ior, uint32_t *status);

/*
 * The scalar outputs to offer for selector @sel: the method table's
 * maximum (dext-abi.h), which the dext's IOUserClientMethodDispatch checks
 * the caller's count against; VFA_MAX_SCALARS for a selector this client
 * does not know (the dext answers VFA_E_NOSYS).
 */
uint32_t vfa_iokit_out_room(uint32_t sel);

/* --- memory mapping --- */

enum vfa_iokit_cache {
    VFA_IOKIT_CACHE_DEFAULT,        /* the memory's own (device: uncached) */
    VFA_IOKIT_CACHE_WRITE_COMBINE,  /* prefetchable BARs */
};

/*
 * How to map memory type @type with the BAR's VFA_BAR_* @bar_flags (0 for
 * the IRQ page): -EINVAL for a type the ABI does not define, -ENOENT for a
 * BAR that is absent or not mappable, else the cache mode.  Mappings are
 * always read/write and never executable (dext-abi.h).
 */
int vfa_iokit_map_cache(uint32_t type, uint32_t bar_flags);

#endif
