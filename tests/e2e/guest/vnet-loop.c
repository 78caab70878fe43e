/*
 * vnet-loop: sends frames of varied sizes on an Ethernet interface whose
 * device loops every frame back (the simulator's virtio-net model), and
 * checks that each one comes back intact and in order.
 *
 *   vnet-loop IFACE COUNT [SEED]
 *
 * Runs in the test guest (a static aarch64 binary in the initramfs).  The
 * interface is brought up here.  Frames go out through an AF_PACKET raw
 * socket, addressed to the interface's own MAC with a local experimental
 * EtherType (0x88b5, IEEE 802), so nothing in the kernel but this socket
 * takes them.  Each frame carries its sequence number and a payload
 * derived from it, so the receiver regenerates and compares every byte.
 * Sizes run over 60..1514 bytes (edge sizes first, then pseudo-random),
 * sent in bursts of 1..32 frames, and every 50th burst of 400: more than
 * the driver's rings hold (256), so its transmit queue fills and stops and
 * the device outruns the receive refills.  Each burst is received in full
 * before the next is sent, into a socket buffer sized for the largest.
 *
 * Prints one summary line:
 *   vnet-loop: sent=N bytes=B received=R intact=I corrupt=C lost=L
 *              reordered=O bursts=K ms=T
 * and exits 0 only if every frame came back intact and in order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_TEST  0x88b5
#define MIN_FRAME       60
#define MAX_FRAME       1514
#define MAX_BURST       32
#define BIG_BURST       400
#define BIG_EVERY       50
#define MAGIC           0x5646414cu     /* "VFAL" */
#define TIMEOUT_MS      5000

/* Payload layout after the 14-byte Ethernet header. */
struct tag {
    uint32_t magic, seq, len, seed;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static unsigned frame_len(uint32_t seq, uint32_t seed)
{
    static const unsigned edges[] = { 60, 61, 62, 63, 64, 65, 127, 128, 129, 255, 256, 511,
                                      512, 1023, 1024, 1499, 1500, 1512, 1513, 1514 };
    if (seq < sizeof(edges) / sizeof(edges[0]))
        return edges[seq];
    return MIN_FRAME + (unsigned)(mix((uint64_t)seed << 32 | seq) % (MAX_FRAME - MIN_FRAME + 1));
}

/* The frame for seq: headers, tag, then bytes that depend on seq and position. */
static unsigned build(uint8_t *f, const uint8_t mac[6], uint32_t seq, uint32_t seed)
{
    unsigned len = frame_len(seq, seed);
    struct tag t = { htonl(MAGIC), htonl(seq), htonl(len), htonl(seed) };

    memcpy(f, mac, 6);
    memcpy(f + 6, mac, 6);
    f[12] = ETHERTYPE_TEST >> 8;
    f[13] = ETHERTYPE_TEST & 0xff;
    memcpy(f + 14, &t, sizeof(t));
    uint64_t x = mix((uint64_t)seq * 0x9e3779b97f4a7c15ull ^ seed);
    for (unsigned i = 14 + sizeof(t); i < len; i++) {
        if (i % 8 == 0)
            x = mix(x + i);
        f[i] = (uint8_t)(x >> (8 * (i % 8)));
    }
    return len;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int iface_up(int s, const char *name, int *ifindex, uint8_t mac[6])
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return perror("SIOCGIFFLAGS"), -1;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return perror("SIOCSIFFLAGS"), -1;
    if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
        return perror("SIOCGIFINDEX"), -1;
    *ifindex = ifr.ifr_ifindex;
    if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
        return perror("SIOCGIFHWADDR"), -1;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s IFACE COUNT [SEED]\n", argv[0]);
        return 2;
    }
    const char *ifname = argv[1];
    uint32_t count = (uint32_t)strtoul(argv[2], NULL, 0);
    uint32_t seed = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 1;
    int s = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE_TEST));
    int ifindex, one = 1, rcvbuf = 16 << 20;
    uint8_t mac[6], out[MAX_FRAME], in[MAX_FRAME + 64], want[MAX_FRAME];

    if (s < 0)
        return perror("socket(AF_PACKET)"), 1;
    if (iface_up(s, ifname, &ifindex, mac))
        return 1;
    /* Our own transmissions would otherwise come back to us through the tap. */
    if (setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
        perror("PACKET_IGNORE_OUTGOING (filtering by packet type instead)");
    /* Past net.core.rmem_max (we run as root): a big burst must fit whole. */
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE_TEST),
                               .sll_ifindex = ifindex, .sll_halen = 6 };
    memcpy(sll.sll_addr, mac, 6);
    if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        return perror("bind"), 1;
    printf("vnet-loop: %s ifindex %d mac %02x:%02x:%02x:%02x:%02x:%02x, %u frames, seed %u\n",
           ifname, ifindex, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], count, seed);
    fflush(stdout);

    uint64_t bytes = 0;
    uint32_t sent = 0, received = 0, intact = 0, corrupt = 0, lost = 0, reordered = 0, bursts = 0;
    long t0 = now_ms();

    while (sent < count) {
        uint32_t burst = bursts % BIG_EVERY == BIG_EVERY - 1 ? BIG_BURST :
                         1 + (uint32_t)(mix(0xb0b0ull << 32 | (bursts ^ seed)) % MAX_BURST);
        uint32_t first = sent, expect;
        if (burst > count - sent)
            burst = count - sent;
        bursts++;
        for (uint32_t i = 0; i < burst; i++) {
            unsigned len = build(out, mac, sent, seed);
            for (;;) {
                if (sendto(s, out, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len)
                    break;
                /* A full transmit queue pushes back; anything else is fatal. */
                if (errno != ENOBUFS && errno != EAGAIN)
                    return perror("sendto"), 1;
                usleep(1000);
            }
            sent++;
            bytes += len;
        }
        /* Receive the whole burst: frames first..sent-1, in order. */
        expect = first;
        long deadline = now_ms() + TIMEOUT_MS;
        while (expect < sent) {
            struct pollfd p = { s, POLLIN, 0 };
            long left = deadline - now_ms();
            if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                break;
            struct sockaddr_ll from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(s, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
            if (n < 0 || from.sll_pkttype == PACKET_OUTGOING)
                continue;
            received++;
            struct tag t;
            if (n < (ssize_t)(14 + sizeof(t))) {
                corrupt++;
                continue;
            }
            memcpy(&t, in + 14, sizeof(t));
            uint32_t seq = ntohl(t.seq);
            if (ntohl(t.magic) != MAGIC || seq < first || seq >= sent) {
                corrupt++;
                continue;
            }
            unsigned len = build(want, mac, seq, seed);
            if ((size_t)n != len || memcmp(in, want, len)) {
                corrupt++;
                continue;
            }
            if (seq != expect) {
                reordered++;
                if (seq < expect)
                    continue;
                lost += seq - expect;
            }
            intact++;
            expect = seq + 1;
        }
        lost += sent - expect;
    }
    long ms = now_ms() - t0;
    printf("vnet-loop: sent=%u bytes=%llu received=%u intact=%u corrupt=%u lost=%u "
           "reordered=%u bursts=%u ms=%ld\n", sent, (unsigned long long)bytes, received, intact,
           corrupt, lost, reordered, bursts, ms);
    return intact == count && !corrupt && !lost && !reordered ? 0 : 1;
}
