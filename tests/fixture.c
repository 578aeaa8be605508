/* The fixed federation shared by the tests; see fixture.h. */
#include "fixture.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h" /* the codec, for fixture_forge */

static cdx_identity *s_ident(const char *id, cdx_role role, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    cdx_identity *ident = NULL;
    if (cdx_identity_from_seed(&ident, id, role, seed) != CDX_OK) {
        fprintf(stderr, "fixture: cannot make %s\n", id);
        exit(2);
    }
    return ident;
}

static void s_add(cdx_roster *r, const cdx_identity *ident, uint64_t from, uint64_t until,
                  uint64_t revoked)
{
    cdx_member m;
    cdx_identity_card(ident, &m);
    m.valid_from_ms = from;
    m.valid_until_ms = until;
    m.revoked_at_ms = revoked;
    if (cdx_roster_add_member(r, &m, NULL) != CDX_OK) {
        fprintf(stderr, "fixture: cannot add %s\n", m.id);
        exit(2);
    }
}

void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->ee = s_ident("EE", CDX_ROLE_STATE, 1);
    f->fr = s_ident("FR", CDX_ROLE_STATE, 2);
    f->de = s_ident("DE", CDX_ROLE_STATE, 3);
    f->broker = s_ident("broker.alpha", CDX_ROLE_BROKER, 4);
    f->lv = s_ident("LV", CDX_ROLE_STATE, 5);
    f->lt = s_ident("LT", CDX_ROLE_STATE, 6);
    f->xx = s_ident("XX", CDX_ROLE_STATE, 7);
    f->beta = s_ident("broker.beta", CDX_ROLE_BROKER, 8);
    cdx_errbuf eb = {0};
    if (cdx_roster_new(&f->roster, "test-federation", 2, FIXTURE_T0) != CDX_OK)
        exit(2);
    s_add(f->roster, f->ee, 0, 0, 0);
    s_add(f->roster, f->fr, 0, 0, 0);
    s_add(f->roster, f->de, 0, 0, 0);
    s_add(f->roster, f->broker, 0, 0, 0);
    s_add(f->roster, f->beta, 0, 0, 0);
    s_add(f->roster, f->lv, 0, 0, FIXTURE_T0 + FIXTURE_HOUR);
    s_add(f->roster, f->lt, FIXTURE_T0 + FIXTURE_DAY, FIXTURE_T0 + 2 * FIXTURE_DAY, 0);
    cdx_identity *admins[] = {f->ee, f->fr, f->de};
    for (int i = 0; i < 3; i++) {
        cdx_member m;
        cdx_identity_card(admins[i], &m);
        if (cdx_roster_add_admin(f->roster, m.id, m.sign_pk, &eb) != CDX_OK)
            exit(2);
    }
    if (cdx_roster_sign(f->roster, NULL, f->ee, &eb) != CDX_OK ||
        cdx_roster_sign(f->roster, NULL, f->fr, &eb) != CDX_OK ||
        cdx_roster_verify(f->roster, NULL, &eb) != CDX_OK) {
        fprintf(stderr, "fixture: roster: %s\n", eb.msg);
        exit(2);
    }
}

fixture *fixture_static(void)
{
    static fixture f;
    static bool ready;
    if (!ready) {
        fixture_init(&f);
        ready = true;
    }
    return &f;
}

void fixture_free(fixture *f)
{
    cdx_identity_destroy(&f->ee);
    cdx_identity_destroy(&f->fr);
    cdx_identity_destroy(&f->de);
    cdx_identity_destroy(&f->broker);
    cdx_identity_destroy(&f->beta);
    cdx_identity_destroy(&f->lv);
    cdx_identity_destroy(&f->lt);
    cdx_identity_destroy(&f->xx);
    cdx_roster_destroy(&f->roster);
}

static char *s_dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (!d)
        exit(2);
    strcpy(d, s);
    return d;
}

void fixture_alert(cdx_alert *a, cdx_tlp tlp, size_t desc_len)
{
    memset(a, 0, sizeof *a);
    a->id = s_dup("6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
    a->tlp = tlp;
    a->severity = CDX_SEVERITY_SEVERE;
    a->status = CDX_STATUS_ACTUAL;
    a->msg_type = CDX_MSG_ALERT;
    a->category = s_dup("ransomware");
    a->title = s_dup("Ransomware wave against hospitals");
    a->description = malloc(desc_len + 1);
    if (!a->description)
        exit(2);
    for (size_t i = 0; i < desc_len; i++)
        a->description[i] = "abcdefghijklmnopqrstuvwxyz "[i % 27];
    a->description[desc_len] = '\0';
    a->n_indicators = 2;
    a->indicators = calloc(2, sizeof *a->indicators);
    a->indicators[0].type = s_dup("ip-dst");
    a->indicators[0].value = s_dup("203.0.113.7");
    a->indicators[0].comment = s_dup("C2");
    a->indicators[1].type = s_dup("sha256");
    a->indicators[1].value =
        s_dup("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    a->indicators[1].comment = s_dup("");
    a->n_sectors = 1;
    a->sectors = calloc(1, sizeof *a->sectors);
    a->sectors[0] = s_dup("health");
    a->n_references = 1;
    a->references = calloc(1, sizeof *a->references);
    a->references[0] = s_dup("https://cert.example/advisories/2025-001");
    a->expires_at_ms = FIXTURE_T0 + 7 * FIXTURE_DAY;
}

void fixture_body(cdx_body *b, const char *sender, uint64_t seq, const uint8_t *prev,
                  const char *topic, uint64_t sent_at_ms)
{
    memset(b, 0, sizeof *b);
    b->sender = s_dup(sender);
    b->seq = seq;
    b->sent_at_ms = sent_at_ms;
    b->topic = s_dup(topic);
    if (prev) {
        b->has_prev_hash = true;
        memcpy(b->prev_hash, prev, CDX_HASH_BYTES);
    }
}

cdx_err fixture_sign_alert(const cdx_identity *who, uint64_t seq, const uint8_t *prev,
                           uint64_t sent_at_ms, size_t desc_len, cdx_bytes *out,
                           uint8_t hash[CDX_HASH_BYTES])
{
    cdx_body b;
    fixture_body(&b, cdx_identity_id(who), seq, prev, "alert.health", sent_at_ms);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, desc_len);
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_envelope_sign(who, &b, out, hash, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "fixture_sign_alert: %s\n", cdx_errbuf_msg(&eb, rc));
    cdx_body_clear(&b);
    return rc;
}

void fixture_forge(const cdx_identity *key, const char *signer, const cdx_body *b, cdx_bytes *out,
                   uint8_t hash[CDX_HASH_BYTES])
{
    cdx_bytes body = {0};
    uint8_t sig[CDX_SIG_BYTES];
    if (cdx__body_encode(b, 0, &body) != CDX_OK ||
        cdx_identity_sign(key, "envelope", body.data, body.len, sig) != CDX_OK ||
        cdx__outer_encode(signer, body.data, body.len, sig, NULL, out) != CDX_OK) {
        fprintf(stderr, "fixture: cannot forge an envelope\n");
        exit(2);
    }
    if (hash)
        cdx_hash(hash, body.data, body.len);
    cdx_bytes_free(&body);
}

void fixture_tmpdir(char out[256])
{
    const char *base = getenv("TMPDIR");
    snprintf(out, 256, "%s/cydex-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        exit(2);
    }
}

void fixture_rmtree(const char *path)
{
    /* Test folders are flat or one level deep and hold only our files. */
    char cmd[512];
    if (strchr(path, '\'') || strlen(path) > 400)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "fixture: could not remove %s\n", path);
}

pid_t fixture_fork(void (*child)(const char *dir, int fd), const char *dir, int *read_fd)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(NULL); /* or the child would write our buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        child(dir, fds[1]);
        _exit(0);
    }
    close(fds[1]);
    *read_fd = fds[0];
    return pid;
}

void fixture_read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
}

void fixture_log_use(const char *dir, uint64_t *used, uint64_t *length)
{
    char path[400];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat st;
    MDB_env *env = NULL;
    MDB_envinfo info;
    MDB_stat ms;
    if (stat(path, &st) != 0 || mdb_env_create(&env) != 0 ||
        mdb_env_open(env, dir, MDB_RDONLY, 0600) != 0 || mdb_env_info(env, &info) != 0 ||
        mdb_env_stat(env, &ms) != 0) {
        fprintf(stderr, "fixture: cannot read the use of %s\n", path);
        exit(2);
    }
    *length = (uint64_t)st.st_size;
    *used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
    mdb_env_close(env);
}

static bool s_holds(const unsigned char *buf, size_t len, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, text, n) == 0)
            return true;
    return false;
}

bool fixture_lmdb_mark_branch(const char *dir, const char *text, const char *unless, int nth)
{
    enum { PAGE = 4096, FLAGS_AT = 10, P_BRANCH = 0x01, P_LEAF = 0x02 };
    char path[512];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    FILE *f = fopen(path, "r+b");
    if (!f)
        return false;
    static unsigned char page[PAGE];
    long at = -1;
    for (long pg = 0; at < 0 && fread(page, 1, PAGE, f) == PAGE; pg++)
        if (page[FLAGS_AT] == P_LEAF && s_holds(page, PAGE, text) &&
            !(unless && s_holds(page, PAGE, unless)) && --nth == 0)
            at = pg * PAGE + FLAGS_AT;
    bool done = at >= 0 && fseek(f, at, SEEK_SET) == 0 && fputc(P_BRANCH, f) == P_BRANCH;
    return fclose(f) == 0 && done;
}
