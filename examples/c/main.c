/*
 * iamgate from C: load a bundle, decide requests from several threads while another thread reloads the
 * bundle, explain a denied request, and check that errors fail closed.
 *
 *   main BUNDLE.json LOCKED-BUNDLE.json
 *
 * BUNDLE allows the Studio call through the API endpoint; LOCKED-BUNDLE denies it (the endpoint's policy
 * denies everything). The public call through Zscaler is denied by both. Exits non-zero on any surprise.
 */
#include "iamgate.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECIDERS 3
#define RELOADS 200

static iamgate_bytes str(const char *s) {
    iamgate_bytes b = {(const uint8_t *)s, strlen(s)};
    return b;
}

static const iamgate_bytes NONE = {NULL, 0};

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* The Studio call through the API endpoint: allowed by BUNDLE, denied by LOCKED-BUNDLE. */
static iamgate_request via_endpoint(void) {
    static const iamgate_pair extra[] = {{{(const uint8_t *)"aws:ViaAWSService", 17}, {(const uint8_t *)"false", 5}}};
    iamgate_request r = {
        .action = str("sagemaker:CreatePresignedDomainUrl"),
        .resource = str("arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice"),
        .principal = str("arn:aws:iam::111122223333:role/DataSci"),
        .source_ip = NONE,
        .source_ip_bytes = NONE,
        .vpc_id = str("vpc-0shared00000000001"),
        .vpce_id = str("vpce-0api0000000000001"),
        .vpc_source_ip = NONE,
        .vpc_source_ip_bytes = NONE,
        .extra = extra,
        .extra_len = 1,
    };
    static const uint8_t vpc_ip[4] = {10, 20, 1, 5};
    r.vpc_source_ip_bytes.ptr = vpc_ip;
    r.vpc_source_ip_bytes.len = 4;
    return r;
}

/* The same call over the public endpoint through Zscaler: denied by the OU SCP in both bundles. */
static iamgate_request public_call(void) {
    iamgate_request r = via_endpoint();
    r.vpc_id = NONE;
    r.vpce_id = NONE;
    r.vpc_source_ip_bytes = NONE;
    r.source_ip = str("165.225.10.1");
    return r;
}

struct shared {
    const iamgate_engine *engine;
    atomic_int stop;
    atomic_int failures;
    atomic_long decisions;
};

struct counts {
    struct shared *s;
    long allow, deny;
};

static void *decider(void *arg) {
    struct counts *c = arg;
    iamgate_request ok = via_endpoint(), pub = public_call();
    while (!atomic_load(&c->s->stop)) {
        iamgate_status st;
        iamgate_decision d = iamgate_decide(c->s->engine, &ok, &st, NULL);
        if (st != IAMGATE_STATUS_OK) {
            fprintf(stderr, "decide: status %s\n", iamgate_status_name(st));
            atomic_fetch_add(&c->s->failures, 1);
        } else if (d == IAMGATE_DECISION_ALLOW) {
            c->allow++;
        } else if (d == IAMGATE_DECISION_EXPLICIT_DENY) {
            c->deny++;
        } else {
            fprintf(stderr, "via endpoint: unexpected decision %d\n", (int)d);
            atomic_fetch_add(&c->s->failures, 1);
        }
        atomic_fetch_add(&c->s->decisions, 1);
        d = iamgate_decide(c->s->engine, &pub, &st, NULL);
        if (st != IAMGATE_STATUS_OK || d != IAMGATE_DECISION_EXPLICIT_DENY) {
            fprintf(stderr, "public: unexpected decision %d (%s)\n", (int)d, iamgate_status_name(st));
            atomic_fetch_add(&c->s->failures, 1);
        }
    }
    return NULL;
}

struct reload_arg {
    struct shared *s;
    const char *bundles[2];
    size_t lens[2];
};

static void *reloader(void *arg) {
    struct reload_arg *r = arg;
    for (int i = 0; i < RELOADS; i++) {
        int k = (i + 1) % 2;
        iamgate_error *err = NULL;
        iamgate_status st = iamgate_engine_reload(r->s->engine, (const uint8_t *)r->bundles[k], r->lens[k], &err);
        if (st != IAMGATE_STATUS_OK) {
            fprintf(stderr, "reload: %s\n", iamgate_error_message(err));
            iamgate_error_free(err);
            atomic_fetch_add(&r->s->failures, 1);
        }
        /* Let the deciders decide with this bundle before the next reload. */
        long seen = atomic_load(&r->s->decisions);
        /* A short sleep, not sched_yield: under valgrind, whose threads take turns on one lock, a yielding spin
         * can starve the deciders for minutes. */
        while (atomic_load(&r->s->decisions) < seen + DECIDERS) {
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 50000};
            nanosleep(&pause, NULL);
        }
    }
    atomic_store(&r->s->stop, 1);
    return NULL;
}

static int expect(int ok, const char *what) {
    if (!ok) fprintf(stderr, "FAILED: %s\n", what);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s BUNDLE.json LOCKED-BUNDLE.json\n", argv[0]);
        return 2;
    }
    size_t len, locked_len;
    char *bundle = read_file(argv[1], &len);
    char *locked = read_file(argv[2], &locked_len);
    if (!bundle || !locked) return 2;
    int failed = 0;

    /* A bad bundle: no engine, an error with its place, and deciding without an engine denies. */
    const char *bad = "{\n  \"scps\": [[{\"Statement\": 1}]]\n}";
    iamgate_engine *none = NULL;
    iamgate_error *err = NULL;
    iamgate_status st = iamgate_engine_new((const uint8_t *)bad, strlen(bad), &none, &err);
    failed += expect(st == IAMGATE_STATUS_BAD_BUNDLE && none == NULL && err != NULL, "bad bundle refused");
    printf("bad bundle: %s at %s (line %zu, column %zu)\n", iamgate_error_message(err), iamgate_error_path(err),
           iamgate_error_line(err), iamgate_error_column(err));
    iamgate_error_free(err);
    iamgate_request ok = via_endpoint();
    iamgate_decision d = iamgate_decide(none, &ok, &st, NULL);
    failed += expect(d == IAMGATE_DECISION_ERROR && st == IAMGATE_STATUS_NULL_POINTER, "null engine denies");

    iamgate_engine *engine = NULL;
    st = iamgate_engine_new((const uint8_t *)bundle, len, &engine, &err);
    if (st != IAMGATE_STATUS_OK) {
        fprintf(stderr, "load %s: %s at %s\n", argv[1], iamgate_error_message(err), iamgate_error_path(err));
        iamgate_error_free(err);
        return 1;
    }
    printf("iamgate %s: loaded %s\n", iamgate_version(), argv[1]);

    /* One decision, with the deciding statement. */
    iamgate_statement why;
    d = iamgate_decide(engine, &ok, &st, &why);
    printf("via endpoint: %d, by %s statement %lld (%s)\n", (int)d, why.policy, (long long)why.index, why.sid);
    failed += expect(d == IAMGATE_DECISION_ALLOW, "via endpoint allowed");
    iamgate_request pub = public_call();
    d = iamgate_decide(engine, &pub, &st, &why);
    printf("public: %d, by %s statement %lld (%s)\n", (int)d, why.policy, (long long)why.index, why.sid);
    failed += expect(d == IAMGATE_DECISION_EXPLICIT_DENY && strcmp(why.sid, "DenyStudioUrlOnPublicPath") == 0,
                     "public denied by the OU SCP");

    /* Explain, as JSON the library owns. */
    char *json = NULL;
    size_t json_len = 0;
    st = iamgate_explain(engine, &pub, &json, &json_len);
    failed += expect(st == IAMGATE_STATUS_OK && json && strstr(json, "\"decision\":\"ExplicitDeny\""), "explain");
    printf("explain: %zu bytes of JSON\n", json_len);
    iamgate_string_free(json);

    /* A bad request fails closed. */
    iamgate_request bad_ip = public_call();
    bad_ip.source_ip = str("165.225.10.0/24");
    d = iamgate_decide(engine, &bad_ip, &st, NULL);
    failed += expect(d == IAMGATE_DECISION_ERROR && st == IAMGATE_STATUS_BAD_REQUEST, "bad source IP denies");

    /* Threads decide while another reloads between the two bundles. */
    struct shared s = {.engine = engine};
    atomic_init(&s.stop, 0);
    atomic_init(&s.failures, 0);
    atomic_init(&s.decisions, 0);
    struct counts counts[DECIDERS];
    pthread_t threads[DECIDERS + 1];
    for (int i = 0; i < DECIDERS; i++) {
        counts[i] = (struct counts){.s = &s};
        pthread_create(&threads[i], NULL, decider, &counts[i]);
    }
    struct reload_arg ra = {.s = &s, .bundles = {bundle, locked}, .lens = {len, locked_len}};
    pthread_create(&threads[DECIDERS], NULL, reloader, &ra);
    for (int i = 0; i <= DECIDERS; i++) pthread_join(threads[i], NULL);
    long allow = 0, deny = 0;
    for (int i = 0; i < DECIDERS; i++) {
        allow += counts[i].allow;
        deny += counts[i].deny;
    }
    printf("%d threads while %d reloads: %ld allowed, %ld denied (generation %llu)\n", DECIDERS, RELOADS, allow,
           deny, (unsigned long long)iamgate_engine_generation(engine));
    failed += expect(atomic_load(&s.failures) == 0, "no unexpected decision while reloading");
    failed += expect(allow > 0 && deny > 0, "both bundles decided while reloading");
    failed += expect(iamgate_engine_generation(engine) == RELOADS, "every reload took");

    /* RELOADS is even: the last reload loaded the first bundle again. */
    d = iamgate_decide(engine, &ok, &st, NULL);
    failed += expect(d == IAMGATE_DECISION_ALLOW, "after the reloads, the first bundle decides");
    st = iamgate_engine_reload(engine, (const uint8_t *)locked, locked_len, NULL);
    d = iamgate_decide(engine, &ok, &st, &why);
    failed += expect(d == IAMGATE_DECISION_EXPLICIT_DENY && strcmp(why.policy, "endpoint") == 0 &&
                         strcmp(why.sid, "Locked") == 0,
                     "the locked bundle denies by the endpoint policy");

    iamgate_engine_free(engine);
    free(bundle);
    free(locked);
    if (failed) {
        fprintf(stderr, "%d checks failed\n", failed);
        return 1;
    }
    printf("ok\n");
    return 0;
}
