/* vfio-apple CLI: QEMU and simulator command lines (see cmdline.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "json-out.h"
#include "opts.h"

const struct cli_host_profile cli_profile_linux = {
    .name = "linux", .accel = "tcg", .cpu = "max", .memfd = true,
};
const struct cli_host_profile cli_profile_macos = {
    .name = "macos", .accel = "hvf", .cpu = "host", .memfd = false,
};

char *cli_device_json(const struct cli_dma_plan *plan, const struct cli_target *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct jw w;

    if (!f)
        return NULL;
    jw_init(&w, f, false);
    jw_obj(&w, NULL);
    jw_str(&w, "driver", "vfio-apple-pci");
    jw_str(&w, "id", CLI_DEV_ID);
    jw_str(&w, "bus", CLI_PORT_ID);
    if (t->socket) {
        jw_obj(&w, "socket");
        jw_str(&w, "type", "unix");
        jw_str(&w, "path", t->socket);
        jw_obj_end(&w);
    } else {
        jw_str(&w, "host", t->host);
        if (t->root_port)
            jw_str(&w, "host-root-port", t->root_port);
    }
    if (plan->mode == CLI_MODE_COMPANION)
        jw_str(&w, "addr", "0.1");     /* the companion is function 0 */
    jw_str(&w, "dma-mode", cli_mode_name(plan->mode));
    jw_u64(&w, "window-size", plan->window_size);
    jw_obj_end(&w);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* A value inside QEMU's key=value,... options: commas doubled. */
static char *qemu_opt_escape(const char *s)
{
    char *out = malloc(2 * strlen(s) + 1), *p = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        if (*s == ',')
            *p++ = ',';
        *p++ = *s;
    }
    *p = 0;
    return out;
}

int cli_build_qemu(const struct cli_run_opts *o, const struct cli_dma_plan *plan,
                   const struct cli_target *t, const struct cli_host_profile *prof,
                   const char *qemu, const char *qmp, struct strv *out,
                   char *err, size_t errlen)
{
    char *dev;

    bool companion = plan->mode == CLI_MODE_COMPANION;

    if (companion && !plan->window_size) {
        snprintf(err, errlen, "companion mode needs a window of at least 16 KiB (the DMA "
                 "budget is too small)");
        return -EINVAL;
    }
    if (!t->socket && !t->host) {
        snprintf(err, errlen, "no device to pass through (neither a socket nor a host function)");
        return -EINVAL;
    }
    strv_add(out, qemu);
    strv_add(out, "-name");
    strv_add(out, "vfio-apple");
    /* Companion mode describes nothing to the guest: no vfio-apple=on. */
    strv_add(out, "-machine");
    strv_addf(out, "virt%s%s", companion ? "" : ",vfio-apple=on",
              prof->memfd ? ",memory-backend=vfa-ram" : "");
    strv_add(out, "-accel");
    strv_add(out, prof->accel);
    strv_add(out, "-cpu");
    strv_add(out, prof->cpu);
    strv_add(out, "-smp");
    strv_addf(out, "%u", o->cpus);
    strv_add(out, "-m");
    if (o->mem % (1ull << 20))      /* a plain number would be MiB */
        strv_addf(out, "%" PRIu64 "K", o->mem >> 10);
    else
        strv_addf(out, "%" PRIu64 "M", o->mem >> 20);
    if (prof->memfd) {
        strv_add(out, "-object");
        strv_addf(out, "memory-backend-memfd,id=vfa-ram,size=%" PRIu64 ",share=on", o->mem);
    }
    strv_add(out, "-display");
    strv_add(out, "none");
    strv_add(out, "-serial");
    strv_add(out, "mon:stdio");
    strv_add(out, "-no-reboot");
    /* The default NIC needs a firmware blob; add one with -- -nic ... */
    strv_add(out, "-nic");
    strv_add(out, "none");
    if (qmp) {
        strv_add(out, "-qmp");
        strv_addf(out, "unix:%s,server=on,wait=off", qmp);
    }
    strv_add(out, "-device");
    strv_add(out, "pcie-root-port,id=" CLI_PORT_ID ",chassis=1");
    dev = cli_device_json(plan, t);
    if (!dev) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    strv_add(out, "-device");
    strv_add(out, dev);
    free(dev);
    if (companion) {
        /*
         * Function 0 of the device's slot, so that a guest enumerates it
         * first; JSON like the device's, which QEMU creates in the same
         * pass (device= must name an existing device).
         */
        strv_add(out, "-device");
        strv_add(out, "{\"driver\": \"apple-dma-pci\", \"id\": \"" CLI_COMPANION_ID
                 "\", \"device\": \"" CLI_DEV_ID "\", \"bus\": \"" CLI_PORT_ID
                 "\", \"addr\": \"0.0\", \"multifunction\": true}");
    }
    if (o->firmware) {
        /* edk2 loads -kernel from fw_cfg; the guest then takes ACPI. */
        strv_add(out, "-bios");
        strv_add(out, o->firmware);
    }
    strv_add(out, "-kernel");
    strv_add(out, o->kernel);
    if (o->initrd) {
        strv_add(out, "-initrd");
        strv_add(out, o->initrd);
    }
    strv_add(out, "-append");
    if (o->append)
        strv_addf(out, "console=ttyAMA0 %s", o->append);
    else
        strv_add(out, "console=ttyAMA0");
    if (o->disk) {
        strv_add(out, "-drive");
        char *f = qemu_opt_escape(o->disk);

        strv_addf(out, "file=%s,if=none,id=vfa-disk0,format=raw", f ? f : "");
        free(f);
        strv_add(out, "-device");
        /*
         * Firmware connects drivers only to the devices in the boot order
         * when there is one, and otherwise to all of them: the passthrough
         * device too, with DMA addresses outside the window.
         */
        strv_add(out, o->firmware ? "virtio-blk-pci,drive=vfa-disk0,bootindex=0"
                                  : "virtio-blk-pci,drive=vfa-disk0");
    }
    for (int i = 0; i < o->extra_argc; i++)
        strv_add(out, o->extra_argv[i]);
    if (out->oom) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

void cli_build_sim(const char *sim, const char *sock, const struct cli_run_opts *o,
                   struct strv *out)
{
    strv_add(out, sim);
    strv_add(out, "--socket");
    strv_add(out, sock);
    strv_add(out, "--device");
    strv_add(out, o->sim);
    for (unsigned i = 0; i < o->nsim_opts; i++)
        strv_add(out, o->sim_opts[i]);
}
