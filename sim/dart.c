/*
 * DART model: see dart.h for the behaviour it reproduces.
 *
 * Data structures
 *  - Every segment of every live mapping is a node in an AVL tree keyed by
 *    its first IOVA.  Segments never overlap, so "the segment holding IOVA x"
 *    is the node with the greatest key <= x: O(log n) per device access.
 *  - Mappings are a second AVL tree keyed by their handle (unmap by id).
 *  - IOVA space is a sorted array of free extents, in DART pages, allocated
 *    first-fit.  First-fit reuses freed space early, which is what makes the
 *    space fragment over time as on the real DART; the array stays small
 *    unless the space is badly fragmented, and then O(n) memmove is cheap.
 *
 * Locking: one rwlock.  map/unmap take it for writing; device transfers
 * take it for reading and copy while holding it, so once dart_unmap()
 * returns no transfer can still be touching that mapping's memory.
 * Counters bumped under the read lock use atomics.
 */
#include "dart.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT       14
#define PAGE_MASK        ((uint64_t)DART_PAGE_SIZE - 1)

/* ---------------------------------------------------------------- AVL -- */

struct avl {
    struct avl *l, *r;
    uint64_t key;
    int h;
};

static int avl_h(const struct avl *n) { return n ? n->h : 0; }

static void avl_fix(struct avl *n)
{
    int hl = avl_h(n->l), hr = avl_h(n->r);
    n->h = (hl > hr ? hl : hr) + 1;
}

static struct avl *avl_rot_right(struct avl *n)
{
    struct avl *l = n->l;
    n->l = l->r;
    l->r = n;
    avl_fix(n);
    avl_fix(l);
    return l;
}

static struct avl *avl_rot_left(struct avl *n)
{
    struct avl *r = n->r;
    n->r = r->l;
    r->l = n;
    avl_fix(n);
    avl_fix(r);
    return r;
}

static struct avl *avl_balance(struct avl *n)
{
    avl_fix(n);
    int bf = avl_h(n->l) - avl_h(n->r);
    if (bf > 1) {
        if (avl_h(n->l->l) < avl_h(n->l->r))
            n->l = avl_rot_left(n->l);
        return avl_rot_right(n);
    }
    if (bf < -1) {
        if (avl_h(n->r->r) < avl_h(n->r->l))
            n->r = avl_rot_right(n->r);
        return avl_rot_left(n);
    }
    return n;
}

/* Keys are unique by construction (IOVA starts, handles). */
static struct avl *avl_insert(struct avl *root, struct avl *n)
{
    if (!root) {
        n->l = n->r = NULL;
        n->h = 1;
        return n;
    }
    if (n->key < root->key)
        root->l = avl_insert(root->l, n);
    else
        root->r = avl_insert(root->r, n);
    return avl_balance(root);
}

static struct avl *avl_pop_min(struct avl *root, struct avl **min)
{
    if (!root->l) {
        *min = root;
        return root->r;
    }
    root->l = avl_pop_min(root->l, min);
    return avl_balance(root);
}

static struct avl *avl_remove(struct avl *root, uint64_t key)
{
    if (!root)
        return NULL;
    if (key < root->key) {
        root->l = avl_remove(root->l, key);
    } else if (key > root->key) {
        root->r = avl_remove(root->r, key);
    } else {
        struct avl *l = root->l, *r = root->r, *m;
        if (!r)
            return l;
        r = avl_pop_min(r, &m);
        m->l = l;
        m->r = r;
        return avl_balance(m);
    }
    return avl_balance(root);
}

/* Node with the greatest key <= key, or NULL. */
static struct avl *avl_floor(struct avl *n, uint64_t key)
{
    struct avl *best = NULL;
    while (n) {
        if (n->key == key)
            return n;
        if (n->key < key) {
            best = n;
            n = n->r;
        } else {
            n = n->l;
        }
    }
    return best;
}

static struct avl *avl_find(struct avl *n, uint64_t key)
{
    n = avl_floor(n, key);
    return n && n->key == key ? n : NULL;
}

/* ------------------------------------------------------------ mappings -- */

/*
 * One IOVA segment.  The device may touch every byte of the 16 KiB pages it
 * covers ([node.key, node.key + pages * PAGE)), not only the client's bytes:
 * that is the granule the hardware translates.
 */
struct dseg {
    struct avl node;            /* key: page-aligned IOVA of the first page */
    uint64_t pages;
    uint8_t *host;              /* host address of the first page */
};

struct dmap {
    struct avl node;            /* key: handle */
    uint64_t alloc_base;        /* IOVA page number of the reservation */
    uint64_t alloc_pages;       /* reservation incl. holes and guard page */
    uint64_t pages;             /* pages counted against the budget */
    unsigned nsegs;
    struct dseg segs[];
};

struct extent {
    uint64_t start, pages;      /* in DART page numbers */
};

struct dart {
    pthread_rwlock_t lock;
    struct dart_config cfg;

    struct avl *segs;           /* struct dseg by IOVA */
    struct avl *maps;           /* struct dmap by handle */
    uint64_t next_id;
    uint64_t map_attempts;      /* for fail_every_nth_map */

    struct extent *free;
    size_t nfree, free_cap;

    int fault_next;             /* atomic */

    pthread_mutex_t log_lock;   /* fault ring; faults happen under rdlock */
    struct dart_fault log[DART_FAULT_LOG_SIZE];
    uint64_t log_head;          /* number of faults ever logged */

    struct dart_stats st;       /* transfer counters are atomics */
};

static uint64_t dart_space_pages(const struct dart_config *c)
{
    /*
     * Twice the byte budget plus a guard page and the deliberate holes of
     * every possible live mapping: enough that budgets, not IOVA space,
     * normally run out first, yet small enough that a pathological pattern
     * can still fragment the space, as reported for the real DART.
     */
    uint64_t holes = c->fragment > 1 ? c->fragment : 1;
    return 2 * (c->budget_bytes >> PAGE_SHIFT) + (uint64_t)c->max_mappings * (holes + 1) + 64;
}

struct dart *dart_create(const struct dart_config *cfg)
{
    struct dart *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    if (cfg)
        d->cfg = *cfg;
    if (!d->cfg.budget_bytes)
        d->cfg.budget_bytes = DART_DEFAULT_BUDGET;
    if (!d->cfg.max_mappings)
        d->cfg.max_mappings = DART_DEFAULT_MAX_MAPS;
    if (d->cfg.fragment > DART_MAX_SEGMENTS)
        d->cfg.fragment = DART_MAX_SEGMENTS;

    d->free_cap = 16;
    d->free = malloc(d->free_cap * sizeof(*d->free));
    if (!d->free) {
        free(d);
        return NULL;
    }
    if (!d->cfg.iova_base_set)
        d->cfg.iova_base = DART_DEFAULT_IOVA_BASE;
    /* Page numbers, so the end of the space is checked without overflow;
     * page 0 is never handed out (see dart.h). */
    uint64_t first = d->cfg.iova_base >> PAGE_SHIFT, pages = dart_space_pages(&d->cfg);
    if (!first)
        first = 1;
    if ((d->cfg.iova_base & PAGE_MASK) || pages > (UINT64_MAX >> PAGE_SHIFT) - first) {
        free(d->free);
        free(d);
        return NULL;
    }
    d->free[0].start = first;
    d->free[0].pages = pages;
    d->nfree = 1;
    d->next_id = 1;
    pthread_rwlock_init(&d->lock, NULL);
    pthread_mutex_init(&d->log_lock, NULL);
    return d;
}

static void free_map_tree(struct avl *n)
{
    if (!n)
        return;
    free_map_tree(n->l);
    free_map_tree(n->r);
    free(n);                    /* node is the first member of struct dmap */
}

void dart_destroy(struct dart *d)
{
    if (!d)
        return;
    free_map_tree(d->maps);
    pthread_rwlock_destroy(&d->lock);
    pthread_mutex_destroy(&d->log_lock);
    free(d->free);
    free(d);
}

/* First-fit allocation of `pages` IOVA pages; returns page number or 0. */
static uint64_t iova_alloc(struct dart *d, uint64_t pages)
{
    for (size_t i = 0; i < d->nfree; i++) {
        struct extent *e = &d->free[i];
        if (e->pages < pages)
            continue;
        uint64_t start = e->start;
        e->start += pages;
        e->pages -= pages;
        if (!e->pages) {
            memmove(e, e + 1, (d->nfree - i - 1) * sizeof(*e));
            d->nfree--;
        }
        return start;
    }
    return 0;
}

/* Gives pages back, merging with neighbours.  -ENOMEM only if it must grow. */
static int iova_free(struct dart *d, uint64_t start, uint64_t pages)
{
    size_t lo = 0, hi = d->nfree;
    while (lo < hi) {                   /* first extent starting after us */
        size_t mid = (lo + hi) / 2;
        if (d->free[mid].start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool join_prev = lo > 0 && d->free[lo - 1].start + d->free[lo - 1].pages == start;
    bool join_next = lo < d->nfree && start + pages == d->free[lo].start;

    if (join_prev && join_next) {
        d->free[lo - 1].pages += pages + d->free[lo].pages;
        memmove(&d->free[lo], &d->free[lo + 1], (d->nfree - lo - 1) * sizeof(*d->free));
        d->nfree--;
    } else if (join_prev) {
        d->free[lo - 1].pages += pages;
    } else if (join_next) {
        d->free[lo].start = start;
        d->free[lo].pages += pages;
    } else {
        if (d->nfree == d->free_cap) {
            size_t cap = d->free_cap * 2;
            struct extent *n = realloc(d->free, cap * sizeof(*n));
            if (!n)
                return -ENOMEM;
            d->free = n;
            d->free_cap = cap;
        }
        memmove(&d->free[lo + 1], &d->free[lo], (d->nfree - lo) * sizeof(*d->free));
        d->free[lo].start = start;
        d->free[lo].pages = pages;
        d->nfree++;
    }
    return 0;
}

/*
 * Reserves IOVA space for a mapping of `pages` pages split in `nsegs`
 * chunks: one page of hole between chunks (so deliberate fragments are
 * really discontiguous) and one guard page at the end (so a device overrun
 * faults instead of reaching the next mapping).
 */
static uint64_t reserve(struct dart *d, uint64_t pages, unsigned nsegs, uint64_t *total)
{
    *total = pages + nsegs;
    return iova_alloc(d, *total);
}

/* Lays the chunks of mapping m out from IOVA page `base`. */
static void layout(struct dmap *m, uint64_t base, uint8_t *host_page)
{
    uint64_t per = m->pages / m->nsegs, extra = m->pages % m->nsegs;
    uint64_t iova_pg = base, done = 0;
    for (unsigned i = 0; i < m->nsegs; i++) {
        uint64_t n = per + (i < extra ? 1 : 0);
        m->segs[i].node.key = iova_pg << PAGE_SHIFT;
        m->segs[i].pages = n;
        m->segs[i].host = host_page + (done << PAGE_SHIFT);
        done += n;
        iova_pg += n + 1;
    }
}

static bool collides(const struct dmap *m)
{
    for (unsigned i = 0; i < m->nsegs; i++)
        if (m->segs[i].node.key == (uint64_t)(uintptr_t)m->segs[i].host)
            return true;
    return false;
}

int dart_map(struct dart *d, void *host, uint64_t len,
             struct dart_segment *segs, unsigned max_segs, unsigned *nsegs,
             uint64_t *map_id)
{
    uintptr_t h = (uintptr_t)host;
    if (!len || !segs || !nsegs || !map_id || !max_segs || h + len < h || h + len - 1 > UINTPTR_MAX - PAGE_MASK)
        return -EINVAL;

    uint64_t first = h & ~PAGE_MASK;
    uint64_t pages = ((h + len + PAGE_MASK) & ~PAGE_MASK) - first;
    pages >>= PAGE_SHIFT;

    unsigned want = 1;
    if (d->cfg.fragment > 1)
        want = d->cfg.fragment;
    if (want > pages)
        want = (unsigned)pages;
    unsigned lim = max_segs < DART_MAX_SEGMENTS ? max_segs : DART_MAX_SEGMENTS;
    if (want > lim)
        want = lim;             /* fragmentation is our choice: never exceed the caller */

    struct dmap *m = calloc(1, sizeof(*m) + want * sizeof(m->segs[0]));
    if (!m)
        return -ENOMEM;
    m->pages = pages;
    m->nsegs = want;

    pthread_rwlock_wrlock(&d->lock);
    int ret = 0;
    d->map_attempts++;
    if (d->cfg.fail_every_nth_map && d->map_attempts % d->cfg.fail_every_nth_map == 0) {
        ret = -EIO;
    } else if (d->st.live_mappings >= d->cfg.max_mappings) {
        ret = -EMFILE;
    } else if (pages > (d->cfg.budget_bytes >> PAGE_SHIFT) ||
               d->st.mapped_bytes + (pages << PAGE_SHIFT) > d->cfg.budget_bytes) {
        ret = -ENOSPC;
    } else {
        uint64_t total, base = reserve(d, pages, want, &total);
        if (!base) {
            ret = -ENOSPC;      /* IOVA space fragmented */
        } else {
            layout(m, base, (uint8_t *)(uintptr_t)first);
            if (collides(m)) {
                /* Keep the colliding range reserved so the retry lands elsewhere. */
                uint64_t total2, base2 = reserve(d, pages, want, &total2);
                iova_free(d, base, total);
                base = base2;
                total = total2;
                if (base)
                    layout(m, base, (uint8_t *)(uintptr_t)first);
                else
                    ret = -ENOSPC;
            }
            if (!ret) {
                m->alloc_base = base;
                m->alloc_pages = total;
            }
        }
    }
    if (ret) {
        d->st.map_failures++;
        pthread_rwlock_unlock(&d->lock);
        free(m);
        return ret;
    }

    m->node.key = d->next_id++;
    d->maps = avl_insert(d->maps, &m->node);
    for (unsigned i = 0; i < m->nsegs; i++)
        d->segs = avl_insert(d->segs, &m->segs[i].node);

    d->st.maps++;
    d->st.live_mappings++;
    if (d->st.live_mappings > d->st.peak_live_mappings)
        d->st.peak_live_mappings = d->st.live_mappings;
    d->st.mapped_bytes += pages << PAGE_SHIFT;
    if (d->st.mapped_bytes > d->st.peak_mapped_bytes)
        d->st.peak_mapped_bytes = d->st.mapped_bytes;

    /* Client view: the first segment starts at host's offset, the last ends at len. */
    uint64_t left = len;
    for (unsigned i = 0; i < m->nsegs; i++) {
        uint64_t off = i == 0 ? (h & PAGE_MASK) : 0;
        uint64_t room = (m->segs[i].pages << PAGE_SHIFT) - off;
        segs[i].iova = m->segs[i].node.key + off;
        segs[i].len = left < room ? left : room;
        left -= segs[i].len;
    }
    *nsegs = m->nsegs;
    *map_id = m->node.key;
    pthread_rwlock_unlock(&d->lock);
    return 0;
}

/* Called with the write lock held. */
static void unmap_locked(struct dart *d, struct dmap *m)
{
    for (unsigned i = 0; i < m->nsegs; i++)
        d->segs = avl_remove(d->segs, m->segs[i].node.key);
    d->maps = avl_remove(d->maps, m->node.key);
    /*
     * The free list only grows when an extent cannot merge; if even that
     * allocation fails the pages are leaked from IOVA space (never reused
     * while possibly live), which is the safe direction.
     */
    (void)iova_free(d, m->alloc_base, m->alloc_pages);
    d->st.unmaps++;
    d->st.live_mappings--;
    d->st.mapped_bytes -= m->pages << PAGE_SHIFT;
    free(m);
}

int dart_unmap(struct dart *d, uint64_t map_id)
{
    pthread_rwlock_wrlock(&d->lock);
    struct avl *n = avl_find(d->maps, map_id);
    if (!n) {
        pthread_rwlock_unlock(&d->lock);
        return -ENOENT;
    }
    unmap_locked(d, (struct dmap *)n);
    pthread_rwlock_unlock(&d->lock);
    return 0;
}

unsigned dart_unmap_all(struct dart *d)
{
    unsigned n = 0;
    pthread_rwlock_wrlock(&d->lock);
    while (d->maps) {
        unmap_locked(d, (struct dmap *)d->maps);
        n++;
    }
    pthread_rwlock_unlock(&d->lock);
    return n;
}

/* ----------------------------------------------------------- transfers -- */

static void log_fault(struct dart *d, uint64_t iova, uint64_t len, int is_write)
{
    pthread_mutex_lock(&d->log_lock);
    d->log_head++;
    struct dart_fault *f = &d->log[(d->log_head - 1) % DART_FAULT_LOG_SIZE];
    f->iova = iova;
    f->len = len;
    f->is_write = is_write;
    f->seq = d->log_head;
    __atomic_add_fetch(&d->st.faults, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&d->log_lock);
}

static struct dseg *seg_at(struct dart *d, uint64_t iova)
{
    struct avl *n = avl_floor(d->segs, iova);
    if (!n)
        return NULL;
    struct dseg *s = (struct dseg *)n;
    return iova - s->node.key < (s->pages << PAGE_SHIFT) ? s : NULL;
}

/*
 * Checks that all of [iova, iova + len) is mapped (it may cross from one
 * segment into an IOVA-adjacent one), then copies.  Read lock held.
 */
static int transfer(struct dart *d, uint64_t iova, uint8_t *buf, size_t len, int is_write)
{
    if (__atomic_exchange_n(&d->fault_next, 0, __ATOMIC_ACQ_REL))
        return -EFAULT;
    if (!len)
        return 0;
    if (iova + len < iova)
        return -EFAULT;

    for (uint64_t cur = iova, end = iova + len; cur < end;) {
        struct dseg *s = seg_at(d, cur);
        if (!s)
            return -EFAULT;
        cur = s->node.key + (s->pages << PAGE_SHIFT);
    }
    for (uint64_t cur = iova, end = iova + len; cur < end;) {
        struct dseg *s = seg_at(d, cur);
        uint64_t off = cur - s->node.key;
        uint64_t n = (s->pages << PAGE_SHIFT) - off;
        if (n > end - cur)
            n = end - cur;
        if (is_write)
            memcpy(s->host + off, buf, n);
        else
            memcpy(buf, s->host + off, n);
        buf += n;
        cur += n;
    }
    return 0;
}

static void note_range(struct dart *d, uint64_t iova, uint64_t end)
{
    uint64_t cur = __atomic_load_n(&d->st.iova_lo, __ATOMIC_RELAXED);

    while ((cur == 0 || iova < cur) &&
           !__atomic_compare_exchange_n(&d->st.iova_lo, &cur, iova, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    cur = __atomic_load_n(&d->st.iova_hi, __ATOMIC_RELAXED);
    while (end > cur &&
           !__atomic_compare_exchange_n(&d->st.iova_hi, &cur, end, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static int access_dart(struct dart *d, uint64_t iova, uint8_t *buf, size_t len, int is_write)
{
    pthread_rwlock_rdlock(&d->lock);
    int r = transfer(d, iova, buf, len, is_write);
    pthread_rwlock_unlock(&d->lock);
    if (r) {
        log_fault(d, iova, len, is_write);
        return r;
    }
    if (len)
        note_range(d, iova, iova + len);
    if (is_write) {
        __atomic_add_fetch(&d->st.dma_writes, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&d->st.bytes_written, len, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&d->st.dma_reads, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&d->st.bytes_read, len, __ATOMIC_RELAXED);
    }
    return 0;
}

int dart_read(struct dart *d, uint64_t iova, void *buf, size_t len)
{
    return access_dart(d, iova, buf, len, 0);
}

int dart_write(struct dart *d, uint64_t iova, const void *buf, size_t len)
{
    return access_dart(d, iova, (uint8_t *)(uintptr_t)buf, len, 1);
}

void dart_fault_next_transfer(struct dart *d)
{
    __atomic_store_n(&d->fault_next, 1, __ATOMIC_RELEASE);
}

void dart_get_stats(struct dart *d, struct dart_stats *out)
{
    pthread_rwlock_rdlock(&d->lock);
    out->maps = d->st.maps;
    out->unmaps = d->st.unmaps;
    out->map_failures = d->st.map_failures;
    out->mapped_bytes = d->st.mapped_bytes;
    out->peak_mapped_bytes = d->st.peak_mapped_bytes;
    out->live_mappings = d->st.live_mappings;
    out->peak_live_mappings = d->st.peak_live_mappings;
    out->faults = __atomic_load_n(&d->st.faults, __ATOMIC_RELAXED);
    out->dma_reads = __atomic_load_n(&d->st.dma_reads, __ATOMIC_RELAXED);
    out->dma_writes = __atomic_load_n(&d->st.dma_writes, __ATOMIC_RELAXED);
    out->bytes_read = __atomic_load_n(&d->st.bytes_read, __ATOMIC_RELAXED);
    out->bytes_written = __atomic_load_n(&d->st.bytes_written, __ATOMIC_RELAXED);
    out->iova_lo = __atomic_load_n(&d->st.iova_lo, __ATOMIC_RELAXED);
    out->iova_hi = __atomic_load_n(&d->st.iova_hi, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&d->lock);
}

size_t dart_fault_log(struct dart *d, struct dart_fault *out, size_t max)
{
    pthread_mutex_lock(&d->log_lock);
    uint64_t have = d->log_head < DART_FAULT_LOG_SIZE ? d->log_head : DART_FAULT_LOG_SIZE;
    if (max > have)
        max = have;
    /* Oldest of the newest `max`, so the result ends with the latest fault. */
    for (size_t i = 0; i < max; i++) {
        uint64_t seq = d->log_head - max + i;          /* 0-based */
        out[i] = d->log[seq % DART_FAULT_LOG_SIZE];
    }
    pthread_mutex_unlock(&d->log_lock);
    return max;
}
