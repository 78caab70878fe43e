# Stage 2 of the bookworm root file system (scripts/guest-rootfs.sh) on
# arm64: debootstrap's second stage, then the guest kernel's headers as
# packages.  Run once; the test keeps the image.
# inroot: a command of the root's own (env execs it there; busybox's
# chroot would run its own applet of the same name, dpkg or sh, instead).
# A file, not a function, so that sh -c finds it too.
cat >/bin/inroot <<'EOS'
#!/bin/sh
exec chroot /mnt /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
EOS
chmod +x /bin/inroot
require stage2-disk wait_for /dev/vda 20
mkdir -p /mnt
require stage2-mounted mount -t ext4 /dev/vda /mnt
step_log=/mnt/root/stage2.log
require stage2-debootstrap sh -c "inroot /debootstrap/debootstrap --second-stage >$step_log 2>&1 || { tail -20 $step_log; exit 1; }"
# What the root's programs expect (dkms: /proc mounted, /dev/fd for bash's
# process substitution).
mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -o bind /dev /mnt/dev
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# What debootstrap left half done (it forces dependencies), if anything.
inroot dpkg --audit | head -20
require stage2-kernel-headers sh -c "inroot sh -c 'dpkg -i /root/kernel-debs/*.deb' >>$step_log 2>&1 || { tail -20 $step_log; exit 1; }"
rm -rf /mnt/root/kernel-debs
require stage2-dkms-present inroot dkms --version
require stage2-headers-linked inroot test -e "/lib/modules/$(uname -r)/build/Makefile"
for d in dev sys proc; do umount /mnt/$d; done
umount /mnt
sync
note rootfs_ready=1
