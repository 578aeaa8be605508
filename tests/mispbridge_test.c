/* cydex relay --from-misp-zmq, against a stand-in MISP: a ZeroMQ PUB
 * (XPUB, to see the bridge subscribe) on ipc:// sending MISP's framing,
 * one frame "<topic> <json>". EE's bridge publishes each misp_json event
 * once (the same event again is the same alert), an edited event as an
 * update, passes over heartbeats and other topics, refuses malformed JSON,
 * an event that does not map and a 5 MB event by name and goes on; it
 * rides through MISP restarting. FR's log gets each good event once. A
 * bridge without --to refuses a TLP:AMBER event. Processes by PID. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zmq.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static char s_misp[320];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

static bool s_err_has(const char *want)
{
    return bus_wait_file(s_p("bridge.out.err"), want, 15000);
}

/* A stand-in MISP: an XPUB bound on s_misp, returned once a subscriber
 * subscribed (bounded: 15 s). */
static void *s_misp_up(void *ctx)
{
    void *pub = zmq_socket(ctx, ZMQ_XPUB);
    REQUIRE(pub != NULL);
    int zero = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof zero);
    REQUIRE(zmq_bind(pub, s_misp) == 0);
    zmq_pollitem_t it = {pub, 0, ZMQ_POLLIN, 0};
    bool subscribed = false;
    for (int i = 0; i < 150 && !subscribed; i++) {
        if (zmq_poll(&it, 1, 100) > 0) {
            char buf[64];
            int n = zmq_recv(pub, buf, sizeof buf, 0);
            subscribed = n > 0 && buf[0] == 1;
        }
    }
    CHECK(subscribed);
    return pub;
}

static void s_send(void *pub, const char *topic, const char *json)
{
    size_t tl = strlen(topic), jl = strlen(json);
    char *frame = malloc(tl + 1 + jl);
    REQUIRE(frame != NULL);
    memcpy(frame, topic, tl);
    frame[tl] = ' ';
    memcpy(frame + tl + 1, json, jl);
    CHECK(zmq_send(pub, frame, tl + 1 + jl, 0) == (int)(tl + 1 + jl));
    free(frame);
}

/* The test event, with uuid, timestamp, title and TLP tag set. */
static char *s_event(const char *uuid, const char *ts, const char *info, const char *tlp)
{
    char path[512];
    snprintf(path, sizeof path, "%s/misp-event-ransomware.json", CDX_FORMATS_DATA);
    json_t *doc = json_load_file(path, 0, NULL);
    REQUIRE(doc != NULL);
    json_t *ev = json_object_get(doc, "Event");
    json_object_set_new(ev, "uuid", json_string(uuid));
    json_object_set_new(ev, "timestamp", json_string(ts));
    json_object_set_new(ev, "publish_timestamp", json_string(ts));
    json_object_set_new(ev, "info", json_string(info));
    json_t *tags = json_object_get(ev, "Tag");
    size_t i;
    json_t *tag;
    json_array_foreach(tags, i, tag)
    {
        const char *name = json_string_value(json_object_get(tag, "name"));
        if (name && strncmp(name, "tlp:", 4) == 0)
            json_object_set_new(tag, "name", json_string(tlp));
    }
    char *out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    REQUIRE(out != NULL);
    return out;
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    char ee_ctl[320];
    snprintf(ee_ctl, sizeof ee_ctl, "ipc://%s", s_p("ee-control"));
    snprintf(s_misp, sizeof s_misp, "ipc://%s", s_p("misp"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "");
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack",
                                   "[node]\nheartbeat_ms = 0");
    pid_t fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.",
                                   "[node]\nheartbeat_ms = 0");

    void *ctx = zmq_ctx_new();
    REQUIRE(ctx != NULL);
    char *argv[] = {"cydex", "relay",   "--from-misp-zmq", s_misp, "--node",
                    ee_ctl,  "--topic", "alert.misp",      "--to", "all",
                    NULL};
    pid_t bridge = bus_run_bg(s_p("bridge.out"), "cydex", argv);
    void *pub = s_misp_up(ctx);

    const char *u1 = "4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63";
    char *amber = s_event(u1, "1764003600", "Ransomware wave against hospitals", "tlp:amber");
    /* Passed over: a heartbeat, and misp_json_event (misp_json is its prefix). */
    s_send(pub, "misp_json_self", "{\"status\":\"alive\",\"uptime\":12}");
    s_send(pub, "misp_json_event",
           "{\"action\":\"edit\",\"Event\":{\"uuid\":\"0c9d6c0e-8d3e-4b55-9c1a-5d2b7e8f1a33\"}}");
    s_send(pub, "misp_json", amber);
    CHECK(s_err_has("{\"event\":1,\"hash\":\""));
    CHECK(bus_wait_log(s_p("fr-log"), "EE", 1, 1, SIZE_MAX));
    /* The same event again: the same alert, nothing new on the bus. */
    s_send(pub, "misp_json", amber);
    CHECK(s_err_has("{\"event\":2,\"hash\":\""));
    /* Malformed, unmappable, too big: refused by name; the bridge goes on. */
    s_send(pub, "misp_json", "{\"Event\": {\"uuid\": ");
    CHECK(s_err_has("{\"event\":3,\"exit\":65,\"error\":\"not JSON"));
    {
        char path[512];
        snprintf(path, sizeof path, "%s/misp-event-lossy.json", CDX_FORMATS_DATA);
        char *lossy = proc_slurp(path);
        REQUIRE(lossy != NULL);
        s_send(pub, "misp_json", lossy);
        free(lossy);
    }
    CHECK(s_err_has("{\"event\":4,\"exit\":1,\"error\":\"Event.Tag"));
    {
        size_t big = 5u * 1024u * 1024u;
        char *huge = malloc(big + 64);
        REQUIRE(huge != NULL);
        int n = snprintf(huge, 64, "{\"Event\":{\"info\":\"");
        memset(huge + n, 'x', big);
        strcpy(huge + n + big, "\"}}");
        s_send(pub, "misp_json", huge);
        free(huge);
    }
    CHECK(s_err_has("{\"event\":5,\"exit\":65,\"error\":\"the event is 5242"));
    /* An edit of the first event: an update of it. */
    char *edit =
        s_event(u1, "1764007200", "Ransomware wave against hospitals (more IPs)", "tlp:amber");
    s_send(pub, "misp_json", edit);
    CHECK(s_err_has("\"seq\":2,\"update\":true,\"uuid\":\"4f1f9b3e"));
    CHECK(bus_wait_log(s_p("fr-log"), "EE", 2, 2, SIZE_MAX));

    /* MISP restarts: the bridge connects again by itself. */
    zmq_close(pub);
    pub = s_misp_up(ctx);
    char *green = s_event("9a0c3f5e-1b2d-4e6f-8a7b-c9d0e1f2a3b4", "1764010800",
                          "Phishing wave, public indicators", "tlp:green");
    s_send(pub, "misp_json", green);
    CHECK(s_err_has("{\"event\":7,\"hash\":\""));
    CHECK(bus_wait_log(s_p("fr-log"), "EE", 3, 3, SIZE_MAX));
    CHECK(s_err_has("\"seq\":3,"));
    CHECK_EQ(bus_stop(bridge), 0);
    zmq_close(pub);

    /* Without --to, a TLP:AMBER event is refused (it must be sealed); a
     * GREEN one goes (it is never sealed). */
    char *argv2[] = {"cydex", "relay",   "--from-misp-zmq", s_misp, "--node",
                     ee_ctl,  "--topic", "alert.misp",      NULL};
    bridge = bus_run_bg(s_p("bridge.out"), "cydex", argv2);
    pub = s_misp_up(ctx);
    char *amber2 = s_event("3e5f7a9b-2c4d-4e6f-9a1b-d3e5f7a9b1c2", "1764014400",
                           "Another amber event", "tlp:amber");
    s_send(pub, "misp_json", amber2);
    CHECK(s_err_has("must be sealed"));
    CHECK_EQ(bus_stop(bridge), 0);
    zmq_close(pub);
    zmq_ctx_term(ctx);

    uint64_t max, count;
    bus_log_sender(s_p("fr-log"), "EE", &max, &count, NULL);
    CHECK_EQ(max, 3);
    CHECK_EQ(count, 3); /* the three good events, each once */

    free(amber);
    free(edit);
    free(green);
    free(amber2);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(broker), 0);
    int rc = check_done("mispbridge_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
