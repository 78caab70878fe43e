// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_apple_hello: smallest possible module proving the guest module
 * cross-build pipeline (scripts/guest-modules.sh, scripts/mkinitramfs.sh).
 *
 * On load it logs "vfio_apple_hello: loaded, answer=<answer>" and exposes
 * the read-only parameter /sys/module/vfio_apple_hello/parameters/answer,
 * which a guest scenario can compare with what it passed to insmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

static int answer = 42;
module_param(answer, int, 0444);
MODULE_PARM_DESC(answer, "Value echoed in the load message and in sysfs");

static int __init vfio_apple_hello_init(void)
{
	pr_info("loaded, answer=%d\n", answer);
	return 0;
}

static void __exit vfio_apple_hello_exit(void)
{
	pr_info("unloaded\n");
}

module_init(vfio_apple_hello_init);
module_exit(vfio_apple_hello_exit);

MODULE_DESCRIPTION("vfio-apple guest module build pipeline test");
MODULE_AUTHOR("vfio-apple");
MODULE_LICENSE("GPL");
