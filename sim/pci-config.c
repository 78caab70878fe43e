/*
 * Config-space building blocks shared by the device models (pci-config.h).
 * The values are those of a plausible PCIe endpoint; the dext core's
 * policy, not these masks, decides what a client may write.
 */
#include "pci-config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void sim_cfg_header(uint8_t *c, uint8_t *w, const struct sim_pci_ids *ids, uint32_t bar0_size,
                    uint32_t rom_size, uint8_t first_cap)
{
    memset(c, 0, SIM_CONFIG_SIZE);
    memset(w, 0, SIM_CONFIG_SIZE);

    sim_put16(c, 0x00, ids->vendor);
    sim_put16(c, 0x02, ids->device);
    sim_put16(w, 0x04, SIM_PCI_COMMAND_MEMORY | SIM_PCI_COMMAND_MASTER | SIM_PCI_COMMAND_INTX_DIS);
    sim_put16(c, 0x06, 0x0010);                     /* capability list */
    sim_put8(c, 0x08, ids->revision);
    sim_put8(c, 0x09, ids->class_code & 0xff);
    sim_put8(c, 0x0a, (ids->class_code >> 8) & 0xff);
    sim_put8(c, 0x0b, ids->class_code >> 16);
    sim_put8(w, 0x0c, 0xff);                        /* cache line size */
    sim_put8(c, 0x0e, 0x00);                        /* type 0, single function */

    sim_put32(c, 0x10, 0x4);                        /* BAR0: memory, 64-bit */
    sim_put32(w, 0x10, ~(bar0_size - 1) & 0xfffffff0u);
    sim_put32(w, 0x14, 0xffffffffu);
    sim_put16(c, 0x2c, ids->subsys_vendor);
    sim_put16(c, 0x2e, ids->subsys);
    if (rom_size)
        sim_put32(w, 0x30, ~(rom_size - 1) | 1u);   /* ROM BAR + enable */
    sim_put8(c, 0x34, first_cap);
    sim_put8(w, 0x3c, 0xff);                        /* interrupt line */
    sim_put8(c, 0x3d, 0x01);                        /* INTA# (unused: no INTx on Apple) */
}

void sim_cfg_add_pm(uint8_t *c, uint8_t *w, unsigned pos, unsigned next)
{
    sim_put8(c, pos, 0x01);
    sim_put8(c, pos + 1, (uint8_t)next);
    sim_put16(c, pos + 2, 0x0003);
    sim_put16(c, pos + 4, 0x0008);                  /* No_Soft_Reset */
    sim_put16(w, pos + 4, 0x0003);
}

void sim_cfg_add_msix(uint8_t *c, uint8_t *w, unsigned pos, unsigned next, unsigned vectors,
                      uint32_t table_off, uint32_t pba_off)
{
    sim_put8(c, pos, 0x11);
    sim_put8(c, pos + 1, (uint8_t)next);
    sim_put16(c, pos + 2, (uint16_t)(vectors - 1));
    sim_put16(w, pos + 2, 0xc000);
    sim_put32(c, pos + 4, table_off | 0);           /* BIR 0 */
    sim_put32(c, pos + 8, pba_off | 0);
}

void sim_cfg_add_pcie(uint8_t *c, uint8_t *w, unsigned pos, unsigned next)
{
    sim_put8(c, pos, 0x10);
    sim_put8(c, pos + 1, (uint8_t)next);
    sim_put16(c, pos + 2, 0x0002);                  /* version 2, endpoint */
    sim_put32(c, pos + 4, 1u << 28 | 1u << 15);     /* DevCap: FLR, RBER; MPS 128 */
    sim_put16(c, pos + SIM_PCIE_DEVCTL, 0x2810);    /* RO enable, MRRS 512 */
    sim_put16(w, pos + SIM_PCIE_DEVCTL, 0x7cff | SIM_PCIE_DEVCTL_FLR);
    sim_put32(c, pos + 0x0c, 0x00400043);           /* LinkCap: Gen3 x4, port 0 */
    sim_put16(w, pos + 0x10, 0x01c3);               /* LinkCtl */
    sim_put16(c, pos + 0x12, 0x1043);               /* LinkSta: Gen3 x4, slot clock */
    sim_put32(c, pos + 0x24, 0x00000010);           /* DevCap2: completion timeout disable */
    sim_put16(w, pos + 0x28, 0x041f);               /* DevCtl2 */
    sim_put32(c, pos + 0x2c, 0x0000000e);           /* LinkCap2: 2.5-8 GT/s */
}

bool sim_cfg_write(uint8_t *c, const uint8_t *w, unsigned pcie_pos, uint32_t off, unsigned len,
                   uint32_t val)
{
    unsigned devctl = pcie_pos + SIM_PCIE_DEVCTL;

    for (unsigned i = 0; i < len; i++) {
        uint8_t m = w[off + i], b = (val >> (8 * i)) & 0xff;
        c[off + i] = (c[off + i] & ~m) | (b & m);
    }
    if (off <= devctl + 1 && off + len > devctl + 1 &&
        (sim_get(c, devctl, 2) & SIM_PCIE_DEVCTL_FLR)) {
        sim_put16(c, devctl, sim_get(c, devctl, 2) & ~SIM_PCIE_DEVCTL_FLR);
        return true;
    }
    return false;
}

void sim_msix_table_reset(uint8_t *table, unsigned vectors)
{
    memset(table, 0, (size_t)vectors * SIM_MSIX_ENTRY_SIZE);
    for (unsigned v = 0; v < vectors; v++)
        table[v * SIM_MSIX_ENTRY_SIZE + 12] = 1;    /* vector control: masked */
}

uint32_t sim_cfg_read_op(pthread_mutex_t *lock, const uint8_t *c, uint32_t off, unsigned len)
{
    if (!sim_cfg_access_ok(off, len))
        return 0xffffffffu;
    pthread_mutex_lock(lock);
    uint32_t v = sim_get(c, off, len);
    pthread_mutex_unlock(lock);
    return v;
}

void sim_cfg_write_op(struct sim_device *dev, pthread_mutex_t *lock, uint8_t *c, const uint8_t *w,
                      unsigned pcie_pos, uint32_t off, unsigned len, uint32_t val)
{
    if (!sim_cfg_access_ok(off, len))
        return;
    pthread_mutex_lock(lock);
    bool flr = sim_cfg_write(c, w, pcie_pos, off, len, val);
    pthread_mutex_unlock(lock);
    /* After the unlock: reset takes the model's lock itself. */
    if (flr)
        dev->ops->reset(dev);
}

int sim_bar_renew(struct sim_bar *b, const char *name, pthread_mutex_t *lock,
                  void (*moved)(void *opaque, void *mem), void *opaque)
{
    void *mem, *old_mem;
    int fd = sim_shared_mem_create(name, b->size, &mem), old_fd;

    if (fd < 0)
        return fd;
    pthread_mutex_lock(lock);
    old_mem = b->mem;
    old_fd = b->memfd;
    b->mem = mem;
    b->memfd = fd;
    moved(opaque, mem);
    pthread_mutex_unlock(lock);
    munmap(old_mem, b->size);
    close(old_fd);
    return 0;
}

void sim_bar_release(struct sim_bar *b)
{
    if (b->mem)
        munmap(b->mem, b->size);
    if (b->memfd >= 0)
        close(b->memfd);
    b->mem = NULL;
    b->memfd = -1;
}
