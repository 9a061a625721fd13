/* store_path.c: the results file on the file system: checks of the output
 * path, its directory, the run's lock, and moving an old file aside without
 * ever overwriting anything. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "store_impl.h"

/* Make dir and its missing parents. */
static int make_dirs(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* The nearest existing ancestor of dir (dir itself if it exists). */
static void existing_ancestor(const char *dir, char *buf, size_t len) {
  snprintf(buf, len, "%s", dir);
  struct stat sb;
  while (stat(buf, &sb) != 0) {
    char *slash = strrchr(buf, '/');
    if (!slash) {
      snprintf(buf, len, ".");
      return;
    }
    if (slash == buf) slash[1] = '\0';
    else *slash = '\0';
  }
}

/* Whether a file can be made in dir: tried (access() says yes to root on
 * a directory it may not write, e.g. read-only mounts, some network file
 * systems), so that validate finds what run would. */
static int can_create_in(const char *dir) {
  char probe[4200];
  snprintf(probe, sizeof probe, "%.4000s/.headspec-probe-%ld", dir, (long)getpid());
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errno == EEXIST;
  close(fd);
  unlink(probe);
  return 1;
}

hs_status hs_store_check_output(const char *out, int dry_run, int *created_dir, hs_err *err) {
  *created_dir = 0;
  char copy[4096], dir[4096]; /* the plan keeps the path shorter */
  struct stat sb;
  if (stat(out, &sb) == 0) {
    if (!S_ISREG(sb.st_mode))
      return hs_err_set(err, HS_EINPUT,
                        "%s exists and is not a regular file (a directory, device or pipe): "
                        "set another 'output'", out);
    if (access(out, R_OK | W_OK) != 0)
      return hs_err_set(err, HS_EIO, "%s: cannot read and write it: %s", out, strerror(errno));
  }
  snprintf(copy, sizeof copy, "%s", out);
  snprintf(dir, sizeof dir, "%s", dirname(copy));
  if (stat(dir, &sb) != 0) {
    char base[4096];
    existing_ancestor(dir, base, sizeof base);
    if (stat(base, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(base, W_OK | X_OK) != 0)
      return hs_err_set(err, HS_EIO, "cannot create the output directory %s: %s is not a "
                        "writable directory", dir, base);
    if (!dry_run && make_dirs(dir) != 0)
      return hs_err_set(err, HS_EIO, "cannot create the output directory %s: %s", dir,
                        strerror(errno));
    *created_dir = 1;
    return HS_OK;
  }
  if (!S_ISDIR(sb.st_mode))
    return hs_err_set(err, HS_EINPUT, "%s: %s is not a directory", out, dir);
  if (access(dir, W_OK | X_OK) != 0 || !can_create_in(dir))
    return hs_err_set(err, HS_EIO, "%s: the directory %s is not writable", out, dir);
  return HS_OK;
}

hs_status hs_store_check_space(const char *out, double bytes, hs_err *err) {
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", out);
  struct statvfs fs;
  if (statvfs(dirname(copy), &fs) != 0) return HS_OK; /* cannot tell: go on */
  double free_bytes = (double)fs.f_bavail * (double)fs.f_frsize;
  if (free_bytes >= bytes) return HS_OK;
  return hs_err_set(err, HS_EIO, "%s: the results file needs about %.3g MB, but its disk has "
                    "%.3g MB free", out, bytes / 1e6, free_bytes / 1e6);
}

/* An existing PATH.old-* that is a hard link to path's file (left by a
 * swap that was killed after linking), into dest. */
static int existing_link(const char *path, char *dest, size_t len) {
  struct stat want, sb;
  if (stat(path, &want) != 0 || want.st_nlink < 2) return 0;
  char copy[4096], dir[4096], base[4096];
  snprintf(copy, sizeof copy, "%s", path);
  snprintf(dir, sizeof dir, "%s", dirname(copy));
  snprintf(copy, sizeof copy, "%s", path);
  snprintf(base, sizeof base, "%s.old-", basename(copy));
  DIR *d = opendir(dir);
  struct dirent *e;
  int found = 0;
  while (d && !found && (e = readdir(d)))
    if (strncmp(e->d_name, base, strlen(base)) == 0) {
      snprintf(dest, len, "%.3900s/%.255s", dir, e->d_name);
      found = stat(dest, &sb) == 0 && sb.st_dev == want.st_dev && sb.st_ino == want.st_ino;
    }
  if (d) closedir(d);
  return found;
}

hs_status hs_store_keep_aside(const char *path, int keep_name, char *moved_to, size_t len,
                              hs_err *err) {
  char stamp[32], dest[4200];
  if (keep_name && existing_link(path, dest, sizeof dest)) {
    snprintf(moved_to, len, "%s", dest);
    return HS_OK;
  }
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
  for (int k = 1; k < 1000; k++) {
    if (k == 1) snprintf(dest, sizeof dest, "%s.old-%s", path, stamp);
    else snprintf(dest, sizeof dest, "%s.old-%s-%d", path, stamp, k);
    /* link() never replaces an existing name, so an older copy is never lost */
    if (link(path, dest) == 0) {
      if (!keep_name && unlink(path) != 0) {
        hs_status st = hs_err_set(err, HS_EIO, "cannot move %s aside: %s", path, strerror(errno));
        unlink(dest);
        return st;
      }
      snprintf(moved_to, len, "%s", dest);
      return HS_OK;
    }
    if (errno == EEXIST) continue;
    /* no hard links here: rename, having checked that the name is free (a
     * kill before the new file takes the name is completed by the next run,
     * hs_store_finish_swap) */
    struct stat sb;
    if (stat(dest, &sb) == 0) continue;
    if (rename(path, dest) == 0) {
      snprintf(moved_to, len, "%s", dest);
      return HS_OK;
    }
    return hs_err_set(err, HS_EIO, "cannot move %s aside to %s: %s", path, dest, strerror(errno));
  }
  return hs_err_set(err, HS_EIO, "cannot move %s aside: too many old copies", path);
}

hs_status hs_store_swap_in(const char *ready, const char *out, int exists, char *moved_to,
                           size_t len, hs_err *err) {
  hs_status st = exists ? hs_store_keep_aside(out, 1, moved_to, len, err) : HS_OK;
  if (!st && getenv("HEADSPEC_TESTING_KILL_IN_SWAP")) raise(SIGKILL); /* tests/store_swap.sh */
  if (!st && rename(ready, out) != 0)
    st = hs_err_set(err, HS_EIO, "cannot rename %s to %s: %s", ready, out, strerror(errno));
  return st;
}

hs_status hs_store_finish_swap(const char *out, int dry_run, hs_store_report *rep, hs_err *err) {
  char creating[4300], ready[4300];
  snprintf(creating, sizeof creating, "%s.creating", out);
  snprintf(ready, sizeof ready, "%s.created", out);
  struct stat sb;
  if (!dry_run) remove(creating); /* a file killed half made: made again */
  if (stat(ready, &sb) != 0) return HS_OK;
  rep->finished_swap = 1;
  if (dry_run) return HS_OK;
  return hs_store_swap_in(ready, out, stat(out, &sb) == 0, rep->moved_to, sizeof rep->moved_to,
                          err);
}

/* ---- the file a path names ------------------------------------------------ */

void hs_store_resolve(const char *out, char *buf, size_t len) {
  char cur[4096], target[4096], copy[4096];
  snprintf(cur, sizeof cur, "%s", out);
  for (int hop = 0; hop < 40; hop++) { /* the kernel's own limit on links followed */
    ssize_t n = readlink(cur, target, sizeof target - 1);
    if (n < 0) break; /* not a link (or absent): cur names the file */
    target[n] = '\0';
    if (target[0] == '/') {
      snprintf(cur, sizeof cur, "%s", target);
    } else { /* relative to the link's directory */
      snprintf(copy, sizeof copy, "%s", cur);
      char dir[4096];
      snprintf(dir, sizeof dir, "%s", dirname(copy));
      snprintf(cur, sizeof cur, "%.2000s/%.2000s", dir, target);
    }
  }
  snprintf(buf, len, "%s", cur);
}

/* ---- the lock ----------------------------------------------------------- */

/* The lock is an fcntl lock on FILE.lock, held by rank 0 for the whole run:
 * the kernel drops it when the process dies, so a killed run never blocks
 * its resume. The file holds the holder's host and pid for the message. */
hs_status hs_store_lock(const char *out, int *fd_out, hs_err *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s.lock", out);
  *fd_out = -1;
  for (int attempt = 0; attempt < 10; attempt++) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return hs_err_set(err, HS_EIO, "cannot create the lock %s: %s", path, strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) != 0) {
      int e = errno;
      if (e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS) {
        /* a file system without locks: go on unlocked */
        fprintf(stderr, "headspec: warning: cannot lock %s (%s); make sure no other run "
                "writes %s\n", path, strerror(e), out);
        *fd_out = fd;
        return HS_OK;
      }
      char holder[256] = "";
      ssize_t got = pread(fd, holder, sizeof holder - 1, 0);
      holder[got > 0 ? got : 0] = '\0';
      holder[strcspn(holder, "\n")] = '\0';
      close(fd);
      return hs_err_set(err, HS_EIO, "%s is being written by another headspec run (%s); "
                        "wait for it to finish or stop it, then run again",
                        out, holder[0] ? holder : "holder unknown");
    }
    /* the file we locked must still be the one at that name (a run that
     * just finished may have removed it) */
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      char host[HS_HOST_LEN] = "?", text[512];
      gethostname(host, sizeof host - 1);
      int n = snprintf(text, sizeof text, "host %s, pid %ld\n", host, (long)getpid());
      if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) { /* informative only */ }
      *fd_out = fd;
      return HS_OK;
    }
    close(fd);
  }
  return hs_err_set(err, HS_EIO, "cannot take the lock %s", path);
}

void hs_store_unlock(const char *out, int fd) {
  if (fd < 0) return;
  char path[4200];
  snprintf(path, sizeof path, "%s.lock", out);
  unlink(path); /* while still holding it: a waiting run then retries */
  close(fd);
}

/* ---- dropping old copies ------------------------------------------------ */

/* Whether what follows "FILE.old-" is a stamp hs_store_keep_aside writes:
 * YYYYmmdd-HHMMSS, perhaps with -K. Any other FILE.old-* (a user's
 * FILE.old-notes, the copies of a FILE.old-x.h5) is not ours to delete. */
static int is_copy_stamp(const char *s) {
  static const char pattern[] = "dddddddd-dddddd";
  for (const char *c = pattern; *c; c++, s++)
    if (*c == 'd' ? !isdigit((unsigned char)*s) : *s != *c) return 0;
  if (*s == '\0') return 1;
  if (*s++ != '-' || !isdigit((unsigned char)*s)) return 0;
  while (isdigit((unsigned char)*s)) s++;
  return *s == '\0';
}

hs_status hs_store_clean(const char *given, FILE *report, hs_err *err) {
  char out[4096]; /* the file the path names: its lock and its old copies */
  hs_store_resolve(given, out, sizeof out);
  int lock = -1;
  hs_status st = hs_store_lock(out, &lock, err); /* not while a run grows or swaps it */
  if (st) return st;
  char copy[4096], dir[4096], base[4096], path[4400];
  snprintf(copy, sizeof copy, "%s", out);
  snprintf(dir, sizeof dir, "%s", dirname(copy));
  snprintf(copy, sizeof copy, "%s", out);
  snprintf(base, sizeof base, "%s.old-", basename(copy));
  struct stat cur, sb;
  int have_cur = stat(out, &cur) == 0;
  DIR *d = opendir(dir);
  if (!d) st = hs_err_set(err, HS_EIO, "cannot read the directory %s: %s", dir, strerror(errno));
  long n = 0;
  double bytes = 0;
  for (struct dirent *e; !st && (e = readdir(d));) {
    if (strncmp(e->d_name, base, strlen(base)) != 0 || !is_copy_stamp(e->d_name + strlen(base)))
      continue;
    /* named as out is: "grow.h5.old-..." beside "grow.h5", not "./grow.h5.old-..." */
    snprintf(path, sizeof path, "%s%s%s", strchr(out, '/') ? dir : "", strchr(out, '/') ? "/" : "",
             e->d_name);
    if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
    if (have_cur && sb.st_dev == cur.st_dev && sb.st_ino == cur.st_ino) {
      /* the current file's second name (a swap under way): not a copy */
      fprintf(report, "kept %s: it is %s itself (a grow's swap under way)\n", path, out);
      continue;
    }
    if (unlink(path) != 0) {
      st = hs_err_set(err, HS_EIO, "cannot delete %s: %s", path, strerror(errno));
      break;
    }
    fprintf(report, "deleted %s (%.3g MB)\n", path, sb.st_size / 1e6);
    n++, bytes += (double)sb.st_size;
  }
  if (d) closedir(d);
  if (!st)
    fprintf(report, "%s: %ld old cop%s deleted, %.3g MB freed\n", out, n, n == 1 ? "y" : "ies",
            bytes / 1e6);
  hs_store_unlock(out, lock);
  return st;
}
