/*
 * The IOKit transport's glue (client/transport-iokit.c), run on Linux:
 * the client library compiled with CONFIG_DARWIN against macos/sdk's
 * declarations, linked with the fake IOKit, dispatch and mach below.  The
 * fake plays a registry of dext instances and their user clients, so the
 * tests go through the public client API exactly as QEMU does: lookup by
 * location (the root port found in a fake IORegistry above each instance,
 * its registry ID checked, ambiguity refused), method calls and their IOReturns, BAR and
 * IRQ-page mappings (write-combine only for prefetchable BARs), the async
 * notification becoming an eventfd-like fd, a call that never returns
 * (timeout, behind, fast failure, resync, stale result), and surprise
 * removal hanging up conn_fd.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <IOKit/IOKitLib.h>

#include "../../client/vfio-apple-client.h"

/* ------------------------------------------------------- the fake IOKit -- */

#define NSVC 3

struct fake_svc {
    struct vfa_identity id;
    uint32_t bar_flags[VFA_NUM_BARS];
    char root[64];                  /* the root port's registry name */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct fake_svc svc[NSVC];
    unsigned nsvc;
    unsigned iter_next;
    bool block;                     /* the next DMA_UNMAP call blocks */
    IOReturn unmap_ret;             /* what DMA_UNMAP returns */
    int opens, closes;
    IOOptionBits map_options[VFA_MEM_IRQ_PAGE + 1];
    uint64_t async_ref[kOSAsyncRef64Count];
    IOServiceInterestCallback interest_cb;
    void *interest_refcon;
    void *irq_page;
    int reg_refs;                   /* registry entries handed out, held */
} fk = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

const mach_port_t kIOMainPortDefault = 0;
mach_port_t mach_task_self_ = 1;

static struct fake_svc *svc_of(io_object_t o)
{
    unsigned i = (o % 100) - 1;

    return i < fk.nsvc ? &fk.svc[i] : NULL;
}

CFMutableDictionaryRef IOServiceNameMatching(const char *name)
{
    assert_string_equal(name, "VFIOAppleDriver");
    return (CFMutableDictionaryRef)&fk;
}

kern_return_t IOServiceGetMatchingServices(mach_port_t mainPort,
                                           CFDictionaryRef matching,
                                           io_iterator_t *existing)
{
    fk.iter_next = 0;
    *existing = 999;
    return KERN_SUCCESS;
}

io_object_t IOIteratorNext(io_iterator_t iterator)
{
    return fk.iter_next < fk.nsvc ? ++fk.iter_next : IO_OBJECT_NULL;
}

/*
 * The IOService plane above service i (1...): the endpoint IOPCIDevice
 * (REG_LEVEL * 1 + i) > IOPP > the root port IOPCIDevice > the PCIe
 * controller's driver > apcie, the top of this fake.
 */
#define REG_LEVEL       1000
#define REG_ENDPOINT    1
#define REG_ROOT        3
#define REG_TOP         5
#define REG_ID(i)       (0x100000a00ull + (i))

static bool is_reg(io_object_t o)
{
    return o > REG_LEVEL && o / REG_LEVEL <= REG_TOP &&
           o % REG_LEVEL >= 1 && o % REG_LEVEL <= fk.nsvc;
}

kern_return_t IOObjectRelease(io_object_t object)
{
    if (is_reg(object)) {
        assert_true(fk.reg_refs > 0);
        fk.reg_refs--;
    }
    return KERN_SUCCESS;
}

kern_return_t IORegistryEntryGetParentEntry(io_registry_entry_t entry,
                                            const char *plane,
                                            io_registry_entry_t *parent)
{
    unsigned level = entry / REG_LEVEL, i = entry % REG_LEVEL;

    assert_string_equal(plane, kIOServicePlane);
    assert_true(i >= 1 && i <= fk.nsvc);
    if (level >= REG_TOP) {
        return kIOReturnNoDevice;
    }
    *parent = (level + 1) * REG_LEVEL + i;
    fk.reg_refs++;
    return KERN_SUCCESS;
}

boolean_t IOObjectConformsTo(io_object_t object, const char *className)
{
    unsigned level = object / REG_LEVEL;

    assert_string_equal(className, "IOPCIDevice");
    return is_reg(object) && (level == REG_ENDPOINT || level == REG_ROOT);
}

kern_return_t IORegistryEntryGetName(io_registry_entry_t entry,
                                     io_name_t name)
{
    assert_true(is_reg(entry));
    snprintf(name, sizeof(io_name_t), "%s", entry / REG_LEVEL == REG_ROOT ?
             fk.svc[entry % REG_LEVEL - 1].root : "IOPP");
    return KERN_SUCCESS;
}

kern_return_t IORegistryEntryGetRegistryEntryID(io_registry_entry_t entry,
                                                uint64_t *entryID)
{
    assert_true(is_reg(entry));
    *entryID = REG_ID(entry % REG_LEVEL) +
               (entry / REG_LEVEL - REG_ENDPOINT) * 0x10;
    return KERN_SUCCESS;
}

kern_return_t IOServiceOpen(io_service_t service, task_port_t owningTask,
                            uint32_t type, io_connect_t *connect)
{
    fk.opens++;
    *connect = 100 + service;
    return KERN_SUCCESS;
}

kern_return_t IOServiceClose(io_connect_t connect)
{
    fk.closes++;
    return KERN_SUCCESS;
}

kern_return_t IOConnectCallMethod(mach_port_t connection, uint32_t selector,
                                  const uint64_t *input, uint32_t inputCnt,
                                  const void *inputStruct,
                                  size_t inputStructCnt, uint64_t *output,
                                  uint32_t *outputCnt, void *outputStruct,
                                  size_t *outputStructCnt)
{
    struct fake_svc *s = svc_of(connection);
    IOReturn r = kIOReturnSuccess;

    assert_non_null(s);
    /* The transport offers the method table's room for scalar outputs. */
    assert_true(*outputCnt <= VFA_MAX_SCALARS);
    switch (selector) {
    case VFA_SEL_GET_IDENTITY:
        assert_non_null(outputStruct);
        assert_int_equal(*outputStructCnt, sizeof(s->id));
        memcpy(outputStruct, &s->id, sizeof(s->id));
        *outputCnt = 0;
        break;
    case VFA_SEL_OPEN:
        assert_int_equal(inputCnt, 2);
        output[0] = VFA_ABI_MAJOR;
        output[1] = VFA_ABI_MINOR;
        *outputCnt = 2;
        break;
    case VFA_SEL_BAR_INFO:
        output[0] = s->bar_flags[input[0]];
        output[1] = 1 << 20;
        output[2] = input[0];
        output[3] = 0;
        *outputCnt = 4;
        break;
    case VFA_SEL_CONFIG_READ:
        output[0] = 0x1234;
        *outputCnt = 1;
        break;
    case VFA_SEL_DMA_UNMAP:
        pthread_mutex_lock(&fk.lock);
        while (fk.block) {
            pthread_cond_wait(&fk.cond, &fk.lock);
        }
        r = fk.unmap_ret;
        pthread_mutex_unlock(&fk.lock);
        *outputCnt = 0;
        break;
    default:
        *outputCnt = 0;
        break;
    }
    if (outputStructCnt && selector != VFA_SEL_GET_IDENTITY) {
        *outputStructCnt = 0;
    }
    return r;
}

kern_return_t IOConnectCallAsyncScalarMethod(mach_port_t connection,
                                             uint32_t selector,
                                             mach_port_t wake_port,
                                             uint64_t *reference,
                                             uint32_t referenceCnt,
                                             const uint64_t *input,
                                             uint32_t inputCnt,
                                             uint64_t *output,
                                             uint32_t *outputCnt)
{
    assert_int_equal(selector, VFA_SEL_NOTIFY_REGISTER);
    assert_int_equal(referenceCnt, kOSAsyncRef64Count);
    assert_int_equal(wake_port, 77);
    memcpy(fk.async_ref, reference, sizeof(fk.async_ref));
    *outputCnt = 0;
    return kIOReturnSuccess;
}

kern_return_t IOConnectMapMemory64(io_connect_t connect, uint32_t memoryType,
                                   task_port_t intoTask,
                                   mach_vm_address_t *atAddress,
                                   mach_vm_size_t *ofSize,
                                   IOOptionBits options)
{
    void *p = NULL;

    assert_true(options & kIOMapAnywhere);
    assert_false(options & kIOMapReadOnly);
    if (memoryType > VFA_MEM_IRQ_PAGE) {
        return VFA_IORETURN(VFA_E_INVAL);
    }
    fk.map_options[memoryType] = options;
    assert_int_equal(posix_memalign(&p, VFA_PAGE_SIZE, VFA_PAGE_SIZE), 0);
    memset(p, 0, VFA_PAGE_SIZE);
    if (memoryType == VFA_MEM_IRQ_PAGE) {
        ((struct vfa_irq_page *)p)->magic = VFA_IRQ_PAGE_MAGIC;
        fk.irq_page = p;
    }
    *atAddress = (mach_vm_address_t)(uintptr_t)p;
    *ofSize = VFA_PAGE_SIZE;
    return kIOReturnSuccess;
}

kern_return_t IOConnectUnmapMemory64(io_connect_t connect,
                                     uint32_t memoryType,
                                     task_port_t fromTask,
                                     mach_vm_address_t atAddress)
{
    free((void *)(uintptr_t)atAddress);
    return kIOReturnSuccess;
}

IONotificationPortRef IONotificationPortCreate(mach_port_t mainPort)
{
    return (IONotificationPortRef)&fk;
}

void IONotificationPortDestroy(IONotificationPortRef notify)
{
}

mach_port_t IONotificationPortGetMachPort(IONotificationPortRef notify)
{
    return 77;
}

void IONotificationPortSetDispatchQueue(IONotificationPortRef notify,
                                        dispatch_queue_t queue)
{
}

kern_return_t IOServiceAddInterestNotification(IONotificationPortRef notifyPort,
                                               io_service_t service,
                                               const char *interestType,
                                               IOServiceInterestCallback callback,
                                               void *refCon,
                                               io_object_t *notification)
{
    assert_string_equal(interestType, kIOGeneralInterest);
    fk.interest_cb = callback;
    fk.interest_refcon = refCon;
    *notification = 555;
    return KERN_SUCCESS;
}

dispatch_queue_t dispatch_queue_create(const char *label,
                                       dispatch_queue_attr_t attr)
{
    return (dispatch_queue_t)&fk;
}

void dispatch_sync_f(dispatch_queue_t queue, void *context,
                     dispatch_function_t work)
{
    work(context);
}

void dispatch_release(dispatch_object_t object)
{
}

/* The dext completing the NOTIFY_REGISTER reference (the port's queue). */
static void fake_notify(IOReturn result)
{
    IOAsyncCallback cb = (IOAsyncCallback)(uintptr_t)
                         fk.async_ref[kIOAsyncCalloutFuncIndex];

    assert_non_null(cb);
    cb((void *)(uintptr_t)fk.async_ref[kIOAsyncCalloutRefconIndex], result,
       NULL, 0);
}

/* ------------------------------------------------------------- fixture -- */

/* The dext reports its function's registry ID; the root is the plane's. */
static void add_svc(uint8_t bus, const char *root, uint16_t vendor)
{
    struct fake_svc *s = &fk.svc[fk.nsvc++];

    memset(s, 0, sizeof(*s));
    s->id.vendor_id = vendor;
    s->id.device_id = 0x1;
    s->id.bus = bus;
    snprintf(s->id.location, sizeof(s->id.location), "regid:0x%llx",
             (unsigned long long)REG_ID(fk.nsvc));
    snprintf(s->root, sizeof(s->root), "%s", root);
    s->bar_flags[0] = VFA_BAR_PRESENT | VFA_BAR_MAPPABLE | VFA_BAR_MEM64;
    s->bar_flags[2] = VFA_BAR_PRESENT | VFA_BAR_MAPPABLE | VFA_BAR_MEM64 |
                      VFA_BAR_PREFETCHABLE;
}

static int setup(void **state)
{
    fk.nsvc = 0;
    fk.block = false;
    fk.unmap_ret = kIOReturnSuccess;
    fk.opens = fk.closes = 0;
    fk.reg_refs = 0;
    memset(fk.async_ref, 0, sizeof(fk.async_ref));
    memset(fk.map_options, 0xff, sizeof(fk.map_options));
    add_svc(1, "pcic0-bridge", 0x144d);
    add_svc(1, "pcic2-bridge", 0x1002);
    add_svc(3, "pcic2-bridge", 0x10de);
    return 0;
}

static struct vfa_client *connect_ok(uint8_t bus, const char *root)
{
    struct vfa_client *c = NULL;
    char err[512];

    if (vfa_client_connect_device(0, bus, 0, 0, root, &c, err, sizeof(err))) {
        fail_msg("connect: %s", err);
    }
    assert_int_equal(vfa_client_transport(c), VFA_TRANSPORT_IOKIT);
    return c;
}

/* ---------------------------------------------------------------- tests -- */

static void test_lookup(void **state)
{
    struct vfa_client *c = NULL;
    struct vfa_identity id;
    char err[512];

    /* bus 1 exists below two root ports: refused, both listed. */
    assert_int_equal(vfa_client_connect_device(0, 1, 0, 0, NULL, &c, err,
                                               sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "ambiguous"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic0-bridge (144d:0001)"));
    assert_non_null(strstr(err, "0000:01:00.0@pcic2-bridge (1002:0001)"));
    assert_int_equal(fk.opens, fk.closes);  /* every probe closed */

    assert_int_equal(vfa_client_connect_device(0, 9, 0, 0, NULL, &c, err,
                                               sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "not served"));

    c = connect_ok(1, "pcic2-bridge");
    assert_int_equal(fk.opens - fk.closes, 1);  /* only the chosen one */
    assert_int_equal(vfa_get_identity(c, &id), 0);
    assert_int_equal(id.vendor_id, 0x1002);
    /* The dext said regid:0x...; the client sees the root port it checked. */
    assert_string_equal(id.location, "pcic2-bridge");
    vfa_client_disconnect(c);
    assert_int_equal(fk.opens, fk.closes);
    assert_int_equal(fk.reg_refs, 0);       /* every registry entry released */
}

/* An instance whose registry ID is not its IOPCIDevice's: refused. */
static void test_lookup_regid_mismatch(void **state)
{
    struct vfa_client *c = NULL;
    char err[1024];

    snprintf(fk.svc[2].id.location, sizeof(fk.svc[2].id.location),
             "regid:0x%llx", (unsigned long long)REG_ID(1));
    assert_int_equal(vfa_client_connect_device(0, 3, 0, 0, NULL, &c, err,
                                               sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "not served"));
    assert_non_null(strstr(err, "refused: the dext's instance for "
                            "0000:03:00.0 (10de:0001)"));
    assert_non_null(strstr(err, "but its IOPCIDevice is regid:0x100000a03"));
    /* Nor is a location that is no registry ID taken as a root port. */
    snprintf(fk.svc[2].id.location, sizeof(fk.svc[2].id.location),
             "pcic2-bridge");
    assert_int_equal(vfa_client_connect_device(0, 3, 0, 0, NULL, &c, err,
                                               sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "not regid:0x<id>"));
    /* The others are still served. */
    vfa_client_disconnect(connect_ok(1, "pcic0-bridge"));
    assert_int_equal(fk.opens, fk.closes);
    assert_int_equal(fk.reg_refs, 0);
}

/* Two roots with one name: the registry ID tells them apart. */
static void test_lookup_same_root_name(void **state)
{
    struct vfa_client *c = NULL;
    struct vfa_identity id;
    char err[512];

    snprintf(fk.svc[1].root, sizeof(fk.svc[1].root), "pcic0-bridge");
    assert_int_equal(vfa_client_connect_device(0, 1, 0, 0, "pcic0-bridge", &c,
                                               err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "0000:01:00.0@regid:0x100000a01 (144d:0001)"));
    assert_non_null(strstr(err, "0000:01:00.0@regid:0x100000a02 (1002:0001)"));
    c = connect_ok(1, "regid:0x100000a02");
    assert_int_equal(vfa_get_identity(c, &id), 0);
    assert_int_equal(id.vendor_id, 0x1002);
    vfa_client_disconnect(c);
    assert_int_equal(fk.reg_refs, 0);
}

static void test_calls_and_status(void **state)
{
    struct vfa_client *c = connect_ok(3, NULL);
    uint32_t v;

    assert_int_equal(vfa_session_open(c), 0);
    assert_int_equal(vfa_config_read(c, 0, 4, &v), 0);
    assert_int_equal(v, 0x1234);
    /* The dext's own error: a status, the connection stands. */
    fk.unmap_ret = VFA_IORETURN(VFA_E_NOENT);
    assert_int_equal(vfa_dma_unmap(c, 42), -ENOENT);
    assert_false(vfa_client_behind(c));
    /* A dead port: the connection is lost, and stays so. */
    fk.unmap_ret = kIOReturnNotAttached;
    assert_int_equal(vfa_dma_unmap(c, 42), -ENODEV);
    assert_int_equal(vfa_config_read(c, 0, 4, &v), -ENODEV);
    vfa_client_disconnect(c);
}

static void test_mappings(void **state)
{
    struct vfa_client *c = connect_ok(3, NULL);
    void *bar0, *bar2, *irq;
    uint64_t size;
    uint32_t flags;

    assert_int_equal(vfa_session_open(c), 0);
    assert_int_equal(vfa_map_memory(c, VFA_MEM_BAR(0), &bar0, &size, &flags),
                     0);
    assert_int_equal(fk.map_options[0] & kIOMapCacheMask, kIOMapDefaultCache);
    assert_false(flags & VFA_BAR_PREFETCHABLE);
    assert_int_equal(vfa_map_memory(c, VFA_MEM_BAR(2), &bar2, &size, &flags),
                     0);
    assert_int_equal(fk.map_options[2] & kIOMapCacheMask,
                     kIOMapWriteCombineCache);
    assert_true(flags & VFA_BAR_PREFETCHABLE);
    assert_int_equal(vfa_map_memory(c, VFA_MEM_IRQ_PAGE, &irq, &size, NULL),
                     0);
    assert_int_equal(fk.map_options[VFA_MEM_IRQ_PAGE] & kIOMapCacheMask,
                     kIOMapDefaultCache);
    assert_int_equal(((struct vfa_irq_page *)irq)->magic, VFA_IRQ_PAGE_MAGIC);
    /* A type the dext refuses: its status. */
    assert_int_equal(vfa_map_memory(c, 40, &irq, &size, NULL), -EINVAL);
    assert_int_equal(vfa_unmap_memory(c, bar0, VFA_PAGE_SIZE), 0);
    assert_int_equal(vfa_unmap_memory(c, bar0, VFA_PAGE_SIZE), -EINVAL);
    vfa_client_disconnect(c);      /* unmaps BAR2 and the IRQ page */
}

static bool readable(int fd, short *revents)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    *revents = 0;
    if (poll(&p, 1, 0) != 1) {
        return false;
    }
    *revents = p.revents;
    return true;
}

static void test_notifications(void **state)
{
    struct vfa_client *c = connect_ok(3, NULL);
    short ev;
    int fd;

    assert_int_equal(vfa_session_open(c), 0);
    fd = vfa_notify_fd(c);
    assert_true(fd >= 0);
    assert_false(readable(fd, &ev));
    /* Several completions before the reader looks: one token. */
    fake_notify(kIOReturnSuccess);
    fake_notify(kIOReturnSuccess);
    fake_notify(kIOReturnSuccess);
    assert_true(readable(fd, &ev));
    assert_int_equal(vfa_notify_ack(c), 0);
    assert_false(readable(fd, &ev));
    assert_int_equal(vfa_notify_ack(c), 0);     /* nothing: EAGAIN is 0 */
    fake_notify(kIOReturnSuccess);
    assert_true(readable(fd, &ev));
    assert_int_equal(vfa_notify_ack(c), 0);
    vfa_client_disconnect(c);
}

static void *release_later(void *arg)
{
    usleep(200 * 1000);
    pthread_mutex_lock(&fk.lock);
    fk.block = false;
    pthread_cond_broadcast(&fk.cond);
    pthread_mutex_unlock(&fk.lock);
    return NULL;
}

/* transport.h's timeout contract, through IOKit's blocking calls. */
static void test_timeout_behind_resync(void **state)
{
    struct vfa_client *c = connect_ok(3, NULL);
    struct vfa_client_stats st;
    struct pollfd p;
    pthread_t th;
    uint32_t v;
    int cfd;

    assert_int_equal(vfa_session_open(c), 0);
    cfd = vfa_client_conn_fd(c);
    assert_true(cfd >= 0);
    vfa_client_set_timeout(c, 50);
    fk.block = true;
    assert_int_equal(vfa_dma_unmap(c, 7), -ETIMEDOUT);
    assert_true(vfa_client_behind(c));
    /* Behind: refused at once, nothing reaches the dext. */
    assert_int_equal(vfa_config_read(c, 0, 4, &v), -ETIMEDOUT);
    assert_int_equal(vfa_client_resync(c, 0), -ETIMEDOUT);
    pthread_create(&th, NULL, release_later, NULL);
    /* The late result makes conn_fd readable ... */
    p = (struct pollfd){ .fd = cfd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_true(p.revents & POLLIN);
    pthread_join(th, NULL);
    /* ... and resync takes it, and drops it. */
    assert_int_equal(vfa_client_resync(c, 5000), 0);
    assert_false(vfa_client_behind(c));
    p.revents = 0;
    assert_int_equal(poll(&p, 1, 0), 0);
    vfa_client_get_stats(c, &st);
    assert_int_equal(st.stale_replies, 1);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.fast_failures, 1);
    assert_int_equal(vfa_config_read(c, 0, 4, &v), 0);
    assert_int_equal(v, 0x1234);
    vfa_client_disconnect(c);
}

/* Surprise removal: conn_fd hangs up, every call fails -ENODEV. */
static void test_termination(void **state)
{
    struct vfa_client *c = connect_ok(3, NULL);
    struct pollfd p;
    uint32_t v;

    assert_int_equal(vfa_session_open(c), 0);
    p = (struct pollfd){ .fd = vfa_client_conn_fd(c), .events = 0 };
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_non_null(fk.interest_cb);
    fk.interest_cb(fk.interest_refcon, 3, 0xe0000100u /* another message */,
                   NULL);
    assert_int_equal(vfa_config_read(c, 0, 4, &v), 0);
    fk.interest_cb(fk.interest_refcon, 3, kIOMessageServiceIsTerminated,
                   NULL);
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_true(p.revents & POLLHUP);
    assert_int_equal(vfa_config_read(c, 0, 4, &v), -ENODEV);
    vfa_client_disconnect(c);
}

/* Shared memory: the range itself, 16 KiB multiples, no round trip. */
static void test_share(void **state)
{
    struct vfa_client *c = connect_ok(3, NULL);
    struct vfa_shared_mem *m;
    void *p = NULL;

    assert_int_equal(posix_memalign(&p, VFA_PAGE_SIZE, 4 * VFA_PAGE_SIZE), 0);
    assert_int_equal(vfa_share_memory(c, p, 4 * VFA_PAGE_SIZE, -1, 0, &m), 0);
    assert_ptr_equal(vfa_shared_mem_dma_va(m), p);
    assert_int_equal(vfa_unshare_memory(c, m), 0);
    assert_int_equal(vfa_share_memory(c, (char *)p + 4096, VFA_PAGE_SIZE, -1,
                                      0, &m), -EINVAL);
    free(p);
    vfa_client_disconnect(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_lookup, setup),
        cmocka_unit_test_setup(test_lookup_regid_mismatch, setup),
        cmocka_unit_test_setup(test_lookup_same_root_name, setup),
        cmocka_unit_test_setup(test_calls_and_status, setup),
        cmocka_unit_test_setup(test_mappings, setup),
        cmocka_unit_test_setup(test_notifications, setup),
        cmocka_unit_test_setup(test_timeout_behind_resync, setup),
        cmocka_unit_test_setup(test_termination, setup),
        cmocka_unit_test_setup(test_share, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
