/* store_vlen.c: variable-length strings read from the file's bytes, not
 * through libhdf5's reader (store_impl.h).
 *
 * Why: libhdf5 trusts the global heap that holds these strings (it has no
 * checksum, and its reader only asserts what it finds), so one flipped byte
 * there makes H5Dread copy past its buffers and crash. Here the dataset's
 * heap IDs and every collection they point into are read with pread and
 * checked before a byte is used; a damaged string is an error, never a
 * crash. The layout is the HDF5 file format's (version 1 global heap
 * collections, 8-byte addresses and lengths, as every file of this format
 * has; checked).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

enum { HEAP_ID = 16, COLLECTION_HEAD = 16, OBJECT_HEAD = 16, MIN_COLLECTION = 4096 };
#define MAX_COLLECTION (1u << 28) /* far above what libhdf5 makes for strings */

typedef struct collection {
  uint64_t addr, size;
  unsigned char *bytes;
  uint64_t *offset, *length; /* of object k's data, by index; length UINT64_MAX: none */
  uint32_t n_objects;
} collection;

typedef struct heap_reader {
  int fd;
  uint64_t file_size;
  collection *c;
  int n, cap;
} heap_reader;

static uint64_t le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void free_collection(collection *c) {
  free(c->bytes), free(c->offset), free(c->length);
}

/* Read and check the collection at addr: signature, version, size within
 * the file, and a chain of objects that fills it exactly. */
static int parse_collection(heap_reader *h, uint64_t addr, collection *c, int strict) {
  memset(c, 0, sizeof *c);
  unsigned char head[COLLECTION_HEAD];
  if (addr > h->file_size || h->file_size - addr < COLLECTION_HEAD ||
      pread(h->fd, head, sizeof head, (off_t)addr) != (ssize_t)sizeof head ||
      memcmp(head, "GCOL", 4) != 0 || head[4] != 1)
    return -1;
  c->addr = addr;
  c->size = le(head + 8, 8);
  if (c->size < MIN_COLLECTION || c->size > MAX_COLLECTION || c->size > h->file_size - addr)
    return -1;
  /* an upper bound on the indices (2 bytes in the file) */
  c->n_objects = c->size / OBJECT_HEAD < 65536 ? (uint32_t)(c->size / OBJECT_HEAD) : 65536;
  c->bytes = malloc(c->size);
  c->offset = malloc(sizeof *c->offset * c->n_objects);
  c->length = malloc(sizeof *c->length * c->n_objects);
  if (!c->bytes || !c->offset || !c->length ||
      pread(h->fd, c->bytes, c->size, (off_t)addr) != (ssize_t)c->size) {
    free_collection(c);
    return -1;
  }
  for (uint32_t k = 0; k < c->n_objects; k++) c->length[k] = UINT64_MAX;
  uint64_t p = COLLECTION_HEAD, last = 0;
  while (c->size - p >= OBJECT_HEAD) { /* a tail shorter than a header is unused */
    uint64_t index = le(c->bytes + p, 2), len = le(c->bytes + p + 8, 8);
    if (index == 0) { /* free space: the rest of the collection */
      if (len > c->size - p) break;
      return 0;
    }
    uint64_t need = OBJECT_HEAD + ((len + 7) & ~(uint64_t)7);
    if (len > c->size || need > c->size - p || index >= c->n_objects ||
        c->length[index] != UINT64_MAX)
      break;
    if (strict && index != ++last) break; /* written once, so numbered in order */
    c->offset[index] = p + OBJECT_HEAD;
    c->length[index] = len;
    p += need;
  }
  if (c->size - p < OBJECT_HEAD) return 0;
  free_collection(c);
  return -1;
}

static collection *find_collection(heap_reader *h, uint64_t addr) {
  int lo = 0, hi = h->n;
  while (lo < hi) { /* sorted by address */
    int mid = (lo + hi) / 2;
    if (h->c[mid].addr < addr) lo = mid + 1;
    else hi = mid;
  }
  if (lo < h->n && h->c[lo].addr == addr) return &h->c[lo];
  if (h->n == h->cap) {
    int cap = h->cap ? 2 * h->cap : 16;
    collection *grown = realloc(h->c, sizeof *grown * (size_t)cap);
    if (!grown) return NULL;
    h->c = grown, h->cap = cap;
  }
  collection c;
  if (parse_collection(h, addr, &c, 0)) return NULL;
  memmove(h->c + lo + 1, h->c + lo, sizeof *h->c * (size_t)(h->n - lo));
  h->c[lo] = c;
  h->n++;
  return &h->c[lo];
}

/* One heap ID (length, collection address, object index) to a string. */
static char *read_string(heap_reader *h, const unsigned char *id) {
  uint64_t len = le(id, 4), addr = le(id + 4, 8), index = le(id + 12, 4);
  if (len == 0) return strdup("");
  collection *c = find_collection(h, addr);
  if (!c || index == 0 || index >= c->n_objects || c->length[index] != len) return NULL;
  const char *s = (const char *)c->bytes + c->offset[index];
  if (memchr(s, '\0', len)) return NULL; /* our strings have none */
  char *copy = malloc(len + 1);
  if (copy) memcpy(copy, s, len), copy[len] = '\0';
  return copy;
}

/* The contiguous storage of a variable-length string dataset of n elements:
 * its file offset, if the file and the dataset are what we expect. */
static int string_storage(hid_t file, hid_t d, long n, haddr_t *offset) {
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d), dcpl = H5Dget_create_plist(d),
        fcpl = H5Fget_create_plist(file);
  size_t addr_size = 0, len_size = 0;
  if (fcpl >= 0) H5Pget_sizes(fcpl, &addr_size, &len_size);
  hssize_t points = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  int ok = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0 &&
           points == n && dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS &&
           addr_size == 8 && len_size == 8 &&
           H5Dget_storage_size(d) == (hsize_t)n * HEAP_ID;
  *offset = ok ? H5Dget_offset(d) : HADDR_UNDEF;
  if (fcpl >= 0) H5Pclose(fcpl);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  return ok && *offset != HADDR_UNDEF ? 0 : -1;
}

void hs_vlen_free(char **s, long n) {
  for (long i = 0; s && i < n; i++) free(s[i]);
  free(s);
}

hs_status hs_vlen_read(hid_t file, const char *name, long n, char ***out, const char *path,
                       hs_err *err) {
  *out = NULL;
  haddr_t offset;
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  int bad = d < 0 || string_storage(file, d, n, &offset);
  if (d >= 0) H5Dclose(d);
  if (bad)
    return hs_err_set(err, HS_EIO, "%s: /%s is not a stored list of %ld strings", path, name, n);
  char file_name[4200];
  heap_reader h = {.fd = -1};
  struct stat sb;
  if (H5Fget_name(file, file_name, sizeof file_name) > 0)
    h.fd = open(file_name, O_RDONLY | O_CLOEXEC);
  if (h.fd < 0 || fstat(h.fd, &sb) != 0) {
    if (h.fd >= 0) close(h.fd);
    return hs_err_set(err, HS_EIO, "%s: cannot read it", path);
  }
  h.file_size = (uint64_t)sb.st_size;
  char **s = calloc((size_t)n, sizeof *s);
  hs_status st = s ? HS_OK : hs_err_set(err, HS_ENOMEM, "out of memory");
  enum { BLOCK = 4096 };
  unsigned char ids[BLOCK * HEAP_ID];
  for (long i0 = 0; !st && i0 < n; i0 += BLOCK) {
    long k = n - i0 < BLOCK ? n - i0 : BLOCK;
    if (offset > h.file_size ||
        pread(h.fd, ids, (size_t)k * HEAP_ID, (off_t)(offset + (uint64_t)i0 * HEAP_ID)) !=
            (ssize_t)(k * HEAP_ID)) {
      st = hs_err_set(err, HS_EIO, "%s: cannot read /%s (damaged)", path, name);
      break;
    }
    for (long i = 0; !st && i < k; i++)
      if (!(s[i0 + i] = read_string(&h, ids + i * HEAP_ID)))
        st = hs_err_set(err, HS_EIO, "%s: /%s[%ld]: its string storage is damaged", path, name,
                        i0 + i);
  }
  for (int c = 0; c < h.n; c++) free_collection(&h.c[c]);
  free(h.c);
  close(h.fd);
  if (st) hs_vlen_free(s, n);
  else *out = s;
  return st;
}

hs_status hs_vlen_scan(const char *path, hs_err *err) {
  heap_reader h = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
  struct stat sb;
  if (h.fd < 0 || fstat(h.fd, &sb) != 0) {
    if (h.fd >= 0) close(h.fd);
    return hs_err_set(err, HS_EIO, "%s: cannot read it", path);
  }
  h.file_size = (uint64_t)sb.st_size;
  enum { CHUNK = 1 << 20 };
  unsigned char *buf = malloc(CHUNK + 8);
  hs_status st = buf ? HS_OK : hs_err_set(err, HS_ENOMEM, "out of memory");
  for (uint64_t at = 0; !st && at < h.file_size; at += CHUNK) {
    ssize_t got = pread(h.fd, buf, CHUNK + 4, (off_t)at);
    for (ssize_t i = 0; !st && i + 5 <= got; i++) {
      unsigned char *m = memchr(buf + i, 'G', (size_t)(got - i));
      if (!m) break;
      i = m - buf;
      if (i + 5 > got || memcmp(m, "GCOL\1", 5) != 0) continue;
      collection c;
      if (parse_collection(&h, at + (uint64_t)i, &c, 1))
        st = hs_err_set(err, HS_EIO, "%s: the string heap at byte %llu is damaged", path,
                        (unsigned long long)(at + (uint64_t)i));
      else free_collection(&c);
    }
  }
  free(buf);
  close(h.fd);
  return st;
}
