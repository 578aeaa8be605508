/* cydex demo: a federation, step by step; offline first, then live
 * (cmd_demo_live.c).
 *
 * Makes keys for EE, FR, DE and broker.alpha, a roster signed 2-of-3, a
 * TLP:GREEN alert signed by EE, a TLP:AMBER alert sealed to FR, an ack, and
 * three attacks that must be refused. Every step checks its outcome; the
 * exit code is 0 only if every step came out as a federation needs it to.
 * Its files stay in DIR for the reader to try `cydex verify` on.
 */
#include <ctype.h>
#include <dirent.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cydex/audit.h"
#include "cydex/log.h"
#include "demo.h"

void demo_step(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("\n== ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

void demo_expect(demo *d, bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("   %s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!ok)
        d->failures++;
}

/* Prints a set-up failure and passes its code on. */
static cdx_err s_report(cdx_err rc, const cdx_errbuf *eb)
{
    cli_fail("demo", rc, eb);
    return rc;
}

static cdx_err s_keys(demo *d, const char *id, cdx_role role, cdx_identity **out)
{
    char sub[4096];
    cdx_errbuf eb = {0};
    snprintf(sub, sizeof sub, "%s/%s", d->dir, id);
    cdx_err rc = cli_mkdirs(sub, 0700, &eb);
    if (rc == CDX_OK)
        rc = cdx_identity_generate(out, id, role);
    if (rc == CDX_OK)
        rc = cdx_identity_save(*out, sub, &eb);
    if (rc != CDX_OK)
        return s_report(rc, &eb);
    printf("   %-13s %-7s secret key %s/%s.secret (mode 0600), card %s/%s.pub\n", id,
           cdx_role_name(role), sub, id, sub, id);
    return CDX_OK;
}

static void s_short_hash(char out[17], const uint8_t *hash)
{
    cdx_hex_encode(out, hash, 8);
}

static void s_fill_alert(cdx_alert *a, const char *uuid, cdx_tlp tlp, const char *title,
                         const char *category, const char *desc)
{
    memset(a, 0, sizeof *a);
    a->id = strdup(uuid);
    a->tlp = tlp;
    a->severity = CDX_SEVERITY_SEVERE;
    a->status = CDX_STATUS_EXERCISE;
    a->msg_type = CDX_MSG_ALERT;
    a->title = strdup(title);
    a->category = strdup(category);
    a->description = strdup(desc);
    a->expires_at_ms = cdx_now_ms() + 7u * 24u * 3600u * 1000u;
}

/* Signs a body as `who` and writes it to DIR/<who>/seq-N.env. */
static cdx_err s_publish(demo *d, const cdx_identity *who, cdx_body *b, cdx_bytes *env,
                         uint8_t hash[CDX_HASH_BYTES], cdx_errbuf *eb)
{
    cdx_err rc = cdx_envelope_sign(who, b, env, hash, eb);
    if (rc != CDX_OK)
        return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/seq-%llu.env", d->dir, cdx_identity_id(who),
             (unsigned long long)b->seq);
    return cli_write_output(path, env->data, env->len, true, eb);
}

static void s_body(cdx_body *b, const char *sender, uint64_t seq, const uint8_t *prev,
                   const char *topic)
{
    memset(b, 0, sizeof *b);
    b->sender = strdup(sender);
    b->seq = seq;
    b->sent_at_ms = cdx_now_ms();
    b->topic = strdup(topic);
    if (prev) {
        b->has_prev_hash = true;
        memcpy(b->prev_hash, prev, CDX_HASH_BYTES);
    }
}

static cdx_err s_roster(demo *d)
{
    demo_step("2. The federation roster, signed 2 of 3");
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_roster_new(&d->roster, "demo-federation", 2, cdx_now_ms());
    cdx_identity *all[] = {d->ee, d->fr, d->de, d->broker, d->beta};
    for (size_t i = 0; rc == CDX_OK && i < 5; i++) {
        cdx_member m;
        cdx_identity_card(all[i], &m);
        rc = cdx_roster_add_member(d->roster, &m, &eb);
        if (rc == CDX_OK && i < 3)
            rc = cdx_roster_add_admin(d->roster, m.id, m.sign_pk, &eb);
    }
    if (rc != CDX_OK)
        return s_report(rc, &eb);
    printf("   draft v1 of demo-federation: members EE, FR, DE, broker.alpha, broker.beta; admins "
           "EE, FR, "
           "DE; threshold 2\n");
    rc = cdx_roster_sign(d->roster, NULL, d->ee, &eb);
    cdx_err v = cdx_roster_verify(d->roster, NULL, &eb);
    demo_expect(d, rc == CDX_OK && v == CDX_ERR_THRESHOLD, "signed by EE alone: refused (%s)",
                cdx_errbuf_msg(&eb, v));
    rc = cdx_roster_sign(d->roster, NULL, d->ee, &eb);
    demo_expect(d, rc == CDX_ERR_DUPLICATE_SIGNER, "EE signs a second time: refused (%s)",
                cdx_errbuf_msg(&eb, rc));
    rc = cdx_roster_sign(d->roster, NULL, d->fr, &eb);
    v = rc == CDX_OK ? cdx_roster_verify(d->roster, NULL, &eb) : rc;
    demo_expect(d, v == CDX_OK, "signed by EE and FR: valid");
    char path[4096];
    snprintf(path, sizeof path, "%s/roster.bin", d->dir);
    rc = cdx_roster_save(d->roster, path, &eb);
    if (rc != CDX_OK)
        return s_report(rc, &eb);
    printf("   written to %s\n", path);
    return v;
}

/* Audits a log folder with the demo's roster; true when it passes. */
static bool s_audit(demo *d, const char *dir, cdx_audit_report *r)
{
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    cdx_audit_opts ao = {.roster = d->roster};
    bool ran = cdx_log_new(&log, dir, &ro, NULL) == CDX_OK &&
               cdx_audit_verify(log, &ao, r, NULL) == CDX_OK;
    cdx_log_destroy(&log);
    return ran;
}

/* 7. broker.alpha logs what it relayed; an auditor checks the log. */
static void s_audit_step(demo *d, const cdx_bytes *envs, size_t n)
{
    demo_step("7. broker.alpha's tamper-evident log, checked by an auditor");
    char dir[4096], copy[4200];
    snprintf(dir, sizeof dir, "%s/offline/broker.alpha-log", d->dir);
    snprintf(copy, sizeof copy, "%s/offline/broker.alpha-log-tampered", d->dir);
    cdx_errbuf eb = {0};
    char parent[4200];
    snprintf(parent, sizeof parent, "%s/offline", d->dir);
    cli_mkdirs(parent, 0700, &eb);
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "broker.alpha"};
    cdx_envelope *got[8] = {0};
    cdx_log_append_in in[8];
    cdx_log_append_out out[8];
    cdx_err rc = cdx_log_new(&log, dir, &o, &eb);
    for (size_t i = 0; rc == CDX_OK && i < n; i++) {
        rc = cdx_envelope_verify(&got[i], d->roster, envs[i].data, envs[i].len, NULL, &eb);
        if (rc == CDX_OK)
            in[i] = (cdx_log_append_in){.env = got[i],
                                        .received_at_ms = cdx_now_ms(),
                                        .received_from = cdx_envelope_signer(got[i])};
    }
    if (rc == CDX_OK)
        rc = cdx_log_append(log, in, n, out, &eb);
    char *cp = NULL;
    if (rc == CDX_OK)
        rc = cdx_log_checkpoint(log, d->broker, cdx_now_ms(), &cp, &eb);
    demo_expect(d, rc == CDX_OK,
                "%zu envelopes appended in one durable transaction; checkpoint "
                "signed at size %zu:",
                n, n);
    if (cp) {
        for (char *line = strtok(cp, "\n"); line; line = strtok(NULL, "\n"))
            printf("        %s\n", line);
    }
    free(cp);
    for (size_t i = 0; i < n; i++)
        cdx_envelope_destroy(&got[i]);
    cdx_log_destroy(&log);
    cdx_audit_report r;
    bool ran = s_audit(d, dir, &r);
    demo_expect(d, ran && r.pass && r.checkpoints == 1,
                "an auditor re-verifies every signature, chain and the tree: %s, %llu entries",
                ran && r.pass ? "PASS" : "FAIL", (unsigned long long)r.entries);

    /* Someone with access to the disk edits FR's acknowledgement. */
    cdx_bytes db = {0};
    char path[4300];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    bool edited = false;
    if (cli_mkdirs(copy, 0700, &eb) == CDX_OK &&
        cli_read_input(path, (size_t)1 << 30, &db, &eb) == CDX_OK) {
        static const char note[] = "Checking our hospitals";
        for (size_t i = 0; i + sizeof note - 1 <= db.len && !edited; i++)
            if (memcmp(db.data + i, note, sizeof note - 1) == 0) {
                db.data[i] = 'W'; /* "Whecking": a one-letter edit */
                edited = true;
            }
        snprintf(path, sizeof path, "%s/data.mdb", copy);
        edited = edited && cli_write_output(path, db.data, db.len, true, &eb) == CDX_OK;
    }
    cdx_bytes_free(&db);
    ran = edited && s_audit(d, copy, &r);
    demo_expect(d, ran && !r.pass && r.has_bad && r.first_bad == n - 1,
                "one letter of FR's ack changed on disk: FAIL at entry %llu (%s)",
                (unsigned long long)r.first_bad, ran ? r.reason : "could not run");
}

static int s_run(demo *d, bool live)
{
    cdx_errbuf eb = {0};
    cdx_err rc;
    demo_step("1. Keys for three states and two brokers");
    if (s_keys(d, "EE", CDX_ROLE_STATE, &d->ee) || s_keys(d, "FR", CDX_ROLE_STATE, &d->fr) ||
        s_keys(d, "DE", CDX_ROLE_STATE, &d->de) ||
        s_keys(d, "broker.alpha", CDX_ROLE_BROKER, &d->broker) ||
        s_keys(d, "broker.beta", CDX_ROLE_BROKER, &d->beta))
        return CLI_SOFTWARE;
    if (s_roster(d) != CDX_OK)
        return CLI_SOFTWARE;

    /* 3. a TLP:GREEN alert from EE, verified by FR */
    demo_step("3. EE publishes a TLP:GREEN alert to every member");
    cdx_body b1, b2, b3;
    cdx_bytes env1 = {0}, env2 = {0}, env3 = {0};
    uint8_t h1[CDX_HASH_BYTES], h2[CDX_HASH_BYTES], h3[CDX_HASH_BYTES];
    char sh[17];
    s_body(&b1, "EE", 1, NULL, "alert.health");
    b1.kind = CDX_PAYLOAD_ALERT;
    s_fill_alert(&b1.alert, "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41", CDX_TLP_GREEN,
                 "Ransomware wave against hospitals", "ransomware",
                 "Hospitals in three counties report encrypted patient-record systems. "
                 "Initial access through an unpatched VPN concentrator.");
    b1.alert.n_indicators = 1;
    b1.alert.indicators = calloc(1, sizeof *b1.alert.indicators);
    b1.alert.indicators[0].type = strdup("ip-dst");
    b1.alert.indicators[0].value = strdup("203.0.113.7");
    b1.alert.indicators[0].comment = strdup("command and control");
    rc = s_publish(d, d->ee, &b1, &env1, h1, &eb);
    if (rc != CDX_OK)
        return cli_fail("demo", rc, &eb);
    s_short_hash(sh, h1);
    printf("   \"%s\": seq 1, %zu bytes, hash %s…\n", b1.alert.title, env1.len, sh);
    cdx_envelope *got = NULL;
    cdx_verify_opts now_opts = {.topic = "alert.health", .now_ms = cdx_now_ms()};
    rc = cdx_envelope_verify(&got, d->roster, env1.data, env1.len, &now_opts, &eb);
    demo_expect(d, rc == CDX_OK, "FR verifies it: signed by %s, TLP:%s, severity %s",
                rc == CDX_OK ? cdx_envelope_signer(got) : "?", cdx_tlp_name(b1.alert.tlp),
                cdx_severity_name(b1.alert.severity));
    cdx_envelope_destroy(&got);

    /* 4. a TLP:AMBER alert sealed to FR */
    demo_step("4. EE seals a TLP:AMBER alert to FR only");
    cdx_alert amber, opened = {0};
    s_fill_alert(&amber, "a3d9e0b2-71c4-4f0e-8b6a-5c2d1e9f7a30", CDX_TLP_AMBER,
                 "Compromised supplier: update server of a grid-control vendor", "supply-chain",
                 "Signed updates from the vendor's server carry a backdoor since 12 November.");
    s_body(&b2, "EE", 2, h1, "alert.energy");
    b2.kind = CDX_PAYLOAD_SEALED;
    cdx_member fr_card;
    cdx_identity_card(d->fr, &fr_card);
    rc = cdx_seal_alert(&b2.sealed, &amber, "EE", 2, "alert.energy", &fr_card, 1, &eb);
    if (rc == CDX_OK)
        rc = s_publish(d, d->ee, &b2, &env2, h2, &eb);
    if (rc != CDX_OK)
        return cli_fail("demo", rc, &eb);
    s_short_hash(sh, h2);
    printf("   seq 2, %zu bytes, hash %s…, sealed for FR\n", env2.len, sh);
    rc = cdx_envelope_verify(&got, d->roster, env2.data, env2.len, NULL, &eb);
    demo_expect(d, rc == CDX_OK, "broker.alpha verifies EE's signature without reading the alert");
    cdx_err o = rc == CDX_OK ? cdx_envelope_open(got, d->fr, &opened, &eb) : rc;
    demo_expect(d, o == CDX_OK && strcmp(opened.title, amber.title) == 0, "FR opens it: \"%s\"",
                o == CDX_OK ? opened.title : cdx_errbuf_msg(&eb, o));
    cdx_alert_clear(&opened);
    o = rc == CDX_OK ? cdx_envelope_open(got, d->de, &opened, &eb) : rc;
    demo_expect(d, o == CDX_ERR_NOT_RECIPIENT, "DE tries to open it: refused (%s)",
                cdx_errbuf_msg(&eb, o));
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&got);

    /* 5. FR acknowledges */
    demo_step("5. FR acknowledges EE's alert");
    s_body(&b3, "FR", 1, NULL, "ack");
    b3.kind = CDX_PAYLOAD_ACK;
    memcpy(b3.ack.alert_hash, h1, CDX_HASH_BYTES);
    b3.ack.alert_id = strdup(b1.alert.id);
    b3.ack.stage = CDX_ACK_INVESTIGATING;
    b3.ack.note = strdup("Checking our hospitals' VPN concentrators.");
    rc = s_publish(d, d->fr, &b3, &env3, h3, &eb);
    if (rc == CDX_OK)
        rc = cdx_envelope_verify(&got, d->roster, env3.data, env3.len, NULL, &eb);
    s_short_hash(sh, h1);
    demo_expect(d, rc == CDX_OK, "verified: FR is '%s' on alert %s…",
                cdx_ack_stage_name(b3.ack.stage), sh);
    cdx_envelope_destroy(&got);

    /* 6. attacks */
    demo_step("6. Forgeries and rule-breaking, all refused");
    cdx_identity *impostor = NULL;
    cdx_bytes forged = {0};
    rc = cdx_identity_generate(&impostor, "EE", CDX_ROLE_STATE);
    cdx_body bf;
    s_body(&bf, "EE", 3, h2, "alert.health");
    bf.kind = CDX_PAYLOAD_ALERT;
    s_fill_alert(&bf.alert, "0b7f3c1d-2e4a-4d6b-8c9e-1f2a3b4c5d6e", CDX_TLP_GREEN,
                 "False alarm: ignore the hospital alert", "hoax", "Written by an impostor.");
    if (rc == CDX_OK)
        rc = cdx_envelope_sign(impostor, &bf, &forged, NULL, &eb);
    cdx_err f = rc == CDX_OK
                    ? cdx_envelope_verify(&got, d->roster, forged.data, forged.len, NULL, &eb)
                    : rc;
    demo_expect(d, f == CDX_ERR_BAD_SIGNATURE, "an impostor with its own key claims to be EE: %s",
                cdx_errbuf_msg(&eb, f));
    cdx_envelope_destroy(&got);
    cdx_identity_destroy(&impostor);
    cdx_bytes_free(&forged);

    env1.data[env1.len / 2] ^= 0x01;
    f = cdx_envelope_verify(&got, d->roster, env1.data, env1.len, NULL, &eb);
    demo_expect(d, f != CDX_OK, "one bit of EE's alert flipped in transit: %s",
                cdx_errbuf_msg(&eb, f));
    cdx_envelope_destroy(&got);
    env1.data[env1.len / 2] ^= 0x01;

    cdx_body_clear(&bf);
    s_body(&bf, "EE", 3, h2, "alert.health");
    bf.kind = CDX_PAYLOAD_ALERT;
    s_fill_alert(&bf.alert, "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716", CDX_TLP_RED,
                 "Names of affected officials", "espionage", "Must never travel in clear.");
    f = cdx_envelope_sign(d->ee, &bf, &forged, NULL, &eb);
    demo_expect(d, f == CDX_ERR_TLP_NOT_SEALED, "EE tries to send a TLP:RED alert unsealed: %s",
                cdx_errbuf_msg(&eb, f));
    cdx_bytes_free(&forged);

    f = cdx_envelope_verify(&got, d->roster, env3.data, env3.len,
                            &(cdx_verify_opts){.topic = "alert.health"}, &eb);
    demo_expect(d, f == CDX_ERR_TOPIC_MISMATCH, "FR's ack replayed under another topic: %s",
                cdx_errbuf_msg(&eb, f));
    cdx_envelope_destroy(&got);

    cdx_bytes logged[] = {env1, env2, env3};
    s_audit_step(d, logged, 3);

    cdx_body_clear(&bf);
    cdx_body_clear(&b1);
    cdx_body_clear(&b2);
    cdx_body_clear(&b3);
    cdx_alert_clear(&amber);
    cdx_bytes_free(&env1);
    cdx_bytes_free(&env2);
    cdx_bytes_free(&env3);

    if (live)
        demo_live(d);

    const char *q = d->qdir;
    printf("\n%s. Files are in %s; try:\n"
           "   %s verify --roster %s/roster.bin --pretty %s/EE/seq-1.env\n"
           "   %s verify --roster %s/roster.bin --open %s/FR/FR.secret %s/EE/seq-2.env\n"
           "   %s roster show %s/roster.bin\n",
           d->failures ? "SOME STEPS FAILED" : "Every step came out as it must", q, d->cydex, q, q,
           d->cydex, q, q, q, d->cydex, q);
    if (live)
        printf("   %s verify %s/broker.alpha/log --roster %s/roster.bin\n"
               "   %s replay %s/FR/log --format text --key %s/FR/FR.secret\n",
               d->audit, q, q, d->audit, q, q);
    else
        printf("   %s verify %s/offline/broker.alpha-log --roster %s/roster.bin\n"
               "   %s verify %s/offline/broker.alpha-log-tampered --roster %s/roster.bin\n",
               d->audit, q, q, d->audit, q, q);
    printf("   %s demo --dir NEWDIR --keep   (the federation stays up for tail, list, show)\n",
           d->cydex);
    return d->failures ? CLI_REFUSED : CLI_OK;
}

/* Whether dir holds nothing (or cannot be read: then mkdir and the
 * steps say why). */
static bool s_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return true;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* `word` as one shell word: as it is if it needs no quotes, else in
 * single quotes. */
static void s_shell_word(char *out, size_t cap, const char *word)
{
    bool plain = word[0] != '\0';
    for (const char *c = word; *c && plain; c++)
        plain = isalnum((unsigned char)*c) || strchr("/._-+:=@%,", *c) != NULL;
    if (plain) {
        snprintf(out, cap, "%s", word);
        return;
    }
    size_t n = 0;
    out[n++] = '\'';
    for (const char *c = word; *c && n + 6 < cap; c++) {
        if (*c == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *c;
        }
    }
    out[n++] = '\'';
    out[n] = '\0';
}

/* How the user runs `prog`, a program beside this one, from where they
 * stand: its name if their PATH finds this very file, else its path
 * (relative to the current folder when it is inside it), quoted for a
 * shell. */
static void s_how_to_run(char *out, size_t cap, const char *prog)
{
    char self[4096], path[4200], here[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
    if (!slash) {
        snprintf(out, cap, "%s", prog);
        return;
    }
    *slash = '\0';
    snprintf(path, sizeof path, "%s/%s", self, prog);
    struct stat mine, found;
    const char *env = getenv("PATH");
    char dirs[8192];
    snprintf(dirs, sizeof dirs, "%s", env ? env : "");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d && stat(path, &mine) == 0;
         d = strtok_r(NULL, ":", &save)) {
        char candidate[8400];
        snprintf(candidate, sizeof candidate, "%s/%s", d, prog);
        if (stat(candidate, &found) == 0) { /* the first the shell would run */
            if (found.st_dev == mine.st_dev && found.st_ino == mine.st_ino) {
                snprintf(out, cap, "%s", prog);
                return;
            }
            break;
        }
    }
    size_t hl = getcwd(here, sizeof here) ? strlen(here) : 0;
    if (hl > 1 && strncmp(path, here, hl) == 0 && path[hl] == '/') {
        char rel[4200]; /* "./cydex" if here: a bare name would be looked up in the PATH */
        snprintf(rel, sizeof rel, "%s%s", strchr(path + hl + 1, '/') ? "" : "./", path + hl + 1);
        s_shell_word(out, cap, rel);
    } else
        s_shell_word(out, cap, path);
}

int cmd_demo(int argc, char **argv)
{
    static const char usage[] = "cydex demo --dir DIR [--offline] [--keep]";
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"offline", no_argument, NULL, 'o'},
                                         {"keep", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    demo d = {0};
    bool live = true;
    int c;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': d.dir = optarg; break;
        case 'o': live = false; break;
        case 'k': d.keep = true; break;
        case 'h':
            printf("usage: %s\n\nWalks through what CyDEx guarantees: keys, a roster signed 2 "
                   "of 3, a signed\nalert, a sealed alert, an ack, forgeries refused, an audit "
                   "log checked; then,\nunless --offline, a live federation on this machine: "
                   "two brokers and three\nnodes, a broker killed, every log audited. DIR must "
                   "not exist yet or be\nempty; its files stay for you to inspect; every "
                   "process it starts, it stops,\nunless --keep: then the federation keeps "
                   "running for you to try the node\ncommands (tail, list, show, publish, ack), "
                   "and the demo says how to stop it.\nExit codes: 0 every step came out as it "
                   "must; 1 a step did not (it says\nwhich); 64 usage; 73 DIR is not empty, or "
                   "not a folder (nothing is done);\n74 DIR cannot be made or written; 70 "
                   "internal error.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("demo", usage, "bad option");
        }
    }
    if (!d.dir || optind != argc)
        return cli_usage("demo", usage, "--dir is required");
    /* A folder in use is refused before anything is made in it: the demo's
     * keys, logs and sockets would mix with what is there. */
    struct stat st;
    if (stat(d.dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cydex demo: %s exists and is not a folder: give a new or empty one\n",
                d.dir);
        return CLI_CANTCREAT;
    }
    if (stat(d.dir, &st) == 0 && !s_empty_dir(d.dir)) {
        fprintf(stderr,
                "cydex demo: %s is not empty: give a new or empty folder (the demo writes "
                "keys, logs and sockets there)\n",
                d.dir);
        return CLI_CANTCREAT;
    }
    cdx_errbuf eb = {0};
    cdx_err rc = cli_mkdirs(d.dir, 0700, &eb);
    if (rc != CDX_OK)
        return cli_fail("demo", rc, &eb);
    s_how_to_run(d.cydex, sizeof d.cydex, "cydex");
    s_how_to_run(d.audit, sizeof d.audit, "cydex-audit");
    s_shell_word(d.qdir, sizeof d.qdir, d.dir);
    printf("CyDEx demo in %s\n", d.dir);
    int ec = s_run(&d, live);
    cdx_identity_destroy(&d.ee);
    cdx_identity_destroy(&d.fr);
    cdx_identity_destroy(&d.de);
    cdx_identity_destroy(&d.broker);
    cdx_identity_destroy(&d.beta);
    cdx_roster_destroy(&d.roster);
    return ec;
}
