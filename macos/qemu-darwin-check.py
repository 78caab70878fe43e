#!/usr/bin/env python3
"""What can be checked on Linux about QEMU patches 0010 (hw/vfio on Darwin)
and 0011 (HVF: RAM-device regions not executable), against the pinned
source and the project's Linux QEMU build (scripts/qemu-build.sh's; this
script only reads it, never rebuilds):

1. Linux is unaffected: with Linux's host symbols, minikconf gives the same
   config-devices for aarch64, x86_64, s390x and ppc64 before and after
   the patches; and every file of hw/vfio, hw/vfio-user and hw/vfio-apple
   preprocesses to the same output with the Linux build's own flags.
2. The Darwin half compiles as far as Linux can tell: hw/vfio, hw/vfio-apple
   and the client (with its IOKit transport), and accel/hvf/hvf-all.c, are
   syntax-checked with CONFIG_LINUX undefined, CONFIG_DARWIN defined, only
   include/darwin-compat (not linux-headers) on the include path, and
   macos/sdk's IOKit and Hypervisor declarations.  Linux's libc stands in
   for macOS's: a real Darwin build still needs a Mac.
3. With Darwin's host symbol, Kconfig enables exactly VFIO, VFIO_PCI and
   VFIO_APPLE (no IOMMUFD, no VFIO_USER).

  macos/qemu-darwin-check.py [--pristine DIR] [--build DIR]
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = '/var/cache/vfio-apple'
DARWIN_PATCHES = ('0010-', '0011-')
TARGETS = ('aarch64', 'x86_64', 's390x', 'ppc64')
LINUX_KCONFIG = ('CONFIG_LINUX=y CONFIG_FDT=y CONFIG_PIXMAN=y CONFIG_VHOST_USER=y '
                 'CONFIG_VHOST_KERNEL=y CONFIG_VHOST_VDPA=y CONFIG_VIRTFS=y '
                 'CONFIG_TPM=y CONFIG_IVSHMEM=y CONFIG_KVM=y CONFIG_TCG=y '
                 'CONFIG_OPENGL=y CONFIG_SPICE=y CONFIG_MULTIPROCESS_ALLOWED=y '
                 'CONFIG_VFIO_USER_SERVER_ALLOWED=y').split()
DARWIN_KCONFIG = 'CONFIG_DARWIN=y CONFIG_FDT=y CONFIG_PIXMAN=y CONFIG_TCG=y CONFIG_HVF=y'.split()


def make_tree(pristine, dest, with_darwin):
    shutil.copytree(pristine, dest, symlinks=True)
    for p in sorted(os.listdir(os.path.join(TOP, 'qemu/patches'))):
        if not with_darwin and p.startswith(DARWIN_PATCHES):
            continue
        subprocess.run(['git', 'apply', '-p1', os.path.join(TOP, 'qemu/patches', p)],
                       cwd=dest, check=True)
    overlay = os.path.join(TOP, 'qemu')
    for root, _, files in os.walk(overlay):
        rel = os.path.relpath(root, overlay)
        if rel.split(os.sep)[0] in ('patches', 'messages'):
            continue
        for f in files:
            if rel == '.' and f in ('series', 'README.md'):
                continue
            if not with_darwin and rel.startswith('include/darwin-compat'):
                continue
            os.makedirs(os.path.join(dest, rel), exist_ok=True)
            shutil.copyfile(os.path.join(root, f), os.path.join(dest, rel, f))


def kconfig(tree, target, syms):
    out = subprocess.run(
        [sys.executable, 'scripts/minikconf.py', '--defconfig', '/dev/null', '/dev/null',
         'configs/devices/%s-softmmu/default.mak' % target, 'Kconfig'] + syms +
        ['CONFIG_%s=y' % target.upper(), 'CONFIG_TARGET_BIG_ENDIAN=n'],
        cwd=tree, capture_output=True, text=True, check=True)
    return out.stdout


def commands(build, pattern):
    seen = {}
    for c in json.load(open(os.path.join(build, 'compile_commands.json'))):
        if re.search(pattern, c['file']) and c['file'] not in seen:
            seen[c['file']] = c
    return list(seen.values())


def base_args(c, darwin):
    args, out, skip = shlex.split(c['command']), [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in ('-o', '-MF', '-MQ'):
            skip = True
            continue
        if a in ('-MD', '-c') or a == c['file']:
            continue
        if darwin and a == '-isystem' and 'linux-headers' in args[i + 1]:
            skip = True
            continue
        if darwin and a.startswith('-isystem') and 'linux-headers' in a:
            continue
        out.append(a)
    return out


def retree(args, src, tree):
    return [a.replace(src, tree).replace('../src', tree) for a in args]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--pristine', default=CACHE + '/src/qemu-10.2.2+ds-1')
    ap.add_argument('--build', default=CACHE + '/qemu/debian-10.2.2+ds-1/build')
    o = ap.parse_args()
    src = os.path.join(os.path.dirname(o.build), 'src')
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        before, after = os.path.join(tmp, 'before'), os.path.join(tmp, 'after')
        make_tree(o.pristine, before, False)
        make_tree(o.pristine, after, True)

        for t in TARGETS:
            same = kconfig(before, t, LINUX_KCONFIG) == kconfig(after, t, LINUX_KCONFIG)
            print('%s linux %s-softmmu config-devices: %s' %
                  ('ok  ' if same else 'FAIL', t, 'identical' if same else 'differ'))
            fails += not same

        cmds = commands(o.build, r'/hw/vfio(-apple|-user)?/[^/]+\.c$')
        differ = []
        for c in cmds:
            outs = []
            for tree in (before, after):
                r = subprocess.run(retree(base_args(c, False), src, tree) +
                                   ['-E', '-P', os.path.join(tree, os.path.relpath(
                                       os.path.join(c['directory'], c['file']), src))],
                                   cwd=c['directory'], capture_output=True, text=True)
                outs.append(r.stdout.replace(tree, 'T') if r.returncode == 0 else None)
            if outs[0] is None or outs[0] != outs[1]:
                differ.append(c['file'])
        print('%s linux preprocessing of %d vfio files: %s' %
              ('ok  ' if not differ else 'FAIL', len(cmds),
               'identical' if not differ else 'differ: ' + ' '.join(differ)))
        fails += bool(differ)

        # Darwin mode: config-host.h with CONFIG_LINUX off, CONFIG_DARWIN on.
        sim = os.path.join(tmp, 'darwin-config')
        os.mkdir(sim)
        with open(os.path.join(o.build, 'config-host.h')) as f:
            cfg = f.read()
        cfg = re.sub(r'^#define CONFIG_LINUX$', '#undef CONFIG_LINUX', cfg, flags=re.M)
        cfg = re.sub(r'^#undef CONFIG_DARWIN$', '#define CONFIG_DARWIN', cfg, flags=re.M)
        with open(os.path.join(sim, 'config-host.h'), 'w') as f:
            f.write(cfg)
        darwin_inc = ['-isystem', os.path.join(after, 'include/darwin-compat'),
                      '-idirafter', os.path.join(TOP, 'macos/sdk')]
        checked = []
        for c in commands(o.build, r'/hw/vfio(-apple)?/([^/]+|client/[^/]+)\.c$'):
            rel = os.path.relpath(os.path.join(c['directory'], c['file']), src)
            if rel.endswith(('iommufd.c', 'cpr-iommufd.c')):
                continue            # IOMMUFD depends on LINUX (patch 0010)
            checked.append((c, rel))
        client = [c for c, rel in checked if rel.endswith('client/client.c')]
        for extra in ('hw/vfio-apple/client/transport-iokit.c',
                      'hw/vfio-apple/client/iokit-match.c',
                      'hw/vfio-apple/client/iokit-callq.c'):
            checked.append((client[0], extra))
        phys = commands(o.build, r'/system/physmem\.c$')[0]
        checked.append((phys, 'accel/hvf/hvf-all.c'))
        bad = []
        for c, rel in checked:
            r = subprocess.run([shlex.split(c['command'])[0], '-iquote', sim] +
                               retree(base_args(c, True)[1:], src, after) + darwin_inc +
                               ['-fsyntax-only', os.path.join(after, rel)],
                               cwd=c['directory'], capture_output=True, text=True)
            if r.returncode:
                bad.append(rel)
                print(r.stderr[:2000], file=sys.stderr)
        print('%s darwin-mode syntax check of %d files (hw/vfio, hw/vfio-apple, the '
              'client, accel/hvf/hvf-all.c)%s' % ('ok  ' if not bad else 'FAIL', len(checked),
                                                  '' if not bad else ': ' + ' '.join(bad)))
        fails += bool(bad)

        got = sorted(l for l in kconfig(after, 'aarch64', DARWIN_KCONFIG).split()
                     if re.match(r'CONFIG_(VFIO|IOMMUFD)', l))
        want = ['CONFIG_VFIO=y', 'CONFIG_VFIO_APPLE=y', 'CONFIG_VFIO_PCI=y']
        print('%s darwin aarch64 VFIO symbols: %s' % ('ok  ' if got == want else 'FAIL',
                                                       ' '.join(got)))
        fails += got != want
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
