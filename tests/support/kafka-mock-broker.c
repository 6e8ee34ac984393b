/*
 * A real Kafka wire-protocol broker for the tests: librdkafka's mock cluster (rdkafka_mock.h,
 * Debian package librdkafka-dev) listening on 127.0.0.1. Clients reach it over TCP like any
 * broker; nothing in the code under test is mocked.
 *
 *   kafka-mock-broker [--port N] [--brokers N] [TOPIC:PARTITIONS ...]
 *
 * Prints "BOOTSTRAP host:port[,host:port...]" on stdout once the cluster is up, then reads
 * commands from stdin, one per line, answering "OK <command>" or "ERR <reason>":
 *
 *   create TOPIC PARTITIONS   create a topic
 *   down [BROKER_ID]          close connections and refuse new ones (-1 / none: all brokers)
 *   up [BROKER_ID]            accept connections again
 *   leader TOPIC PARTITION ID set a partition's leader (-1: no leader, as during an election)
 *   fail API_KEY COUNT ERROR  answer the next COUNT requests of that API key with that error code
 *   clear API_KEY             answer them normally again
 *
 * Exits when stdin closes or on SIGTERM/SIGINT.
 *
 * --port N: the mock binds its listeners to ephemeral ports (port 0). To let a test point a
 * client at an address before the broker exists, this program interposes bind(): the first
 * listening socket bound to 127.0.0.1:0 gets port N instead. Linked with -rdynamic so
 * librdkafka's call to bind() resolves to the one below.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int wanted_port = 0;
static int port_used = 0;

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*real_bind)(int, const struct sockaddr *, socklen_t) = NULL;
  if (!real_bind) real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
  if (wanted_port > 0 && !port_used && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in sin;
    memcpy(&sin, addr, sizeof sin);
    if (sin.sin_port == 0) {
      port_used = 1;
      sin.sin_port = htons((uint16_t)wanted_port);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      return real_bind(fd, (const struct sockaddr *)&sin, sizeof sin);
    }
  }
  return real_bind(fd, addr, len);
}

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec) {
  char name[512];
  const char *colon = strrchr(spec, ':');
  int parts = 1;
  size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
  if (n == 0 || n >= sizeof name) return -1;
  memcpy(name, spec, n);
  name[n] = 0;
  if (colon) parts = atoi(colon + 1);
  if (parts <= 0) return -1;
  return rd_kafka_mock_topic_create(mc, name, parts, 1) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

int main(int argc, char **argv) {
  int brokers = 1;
  int first_topic = argc;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) wanted_port = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--brokers") && i + 1 < argc) brokers = atoi(argv[++i]);
    else {
      first_topic = i;
      break;
    }
  }
  if (brokers < 1) brokers = 1;

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed%s\n", wanted_port ? " (is the port free?)" : "");
    return 1;
  }
  if (wanted_port > 0 && !port_used) {
    fprintf(stderr, "could not bind port %d\n", wanted_port);
    return 1;
  }
  for (int i = first_topic; i < argc; i++) {
    if (create_topic(mc, argv[i]) != 0) {
      fprintf(stderr, "cannot create topic '%s' (expected NAME:PARTITIONS)\n", argv[i]);
      return 1;
    }
  }

  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[1024];
  while (!stop && fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    char cmd[32] = "", arg1[512] = "";
    int n = sscanf(line, "%31s %511s", cmd, arg1);
    int ok = 0;
    if (n >= 1 && !strcmp(cmd, "create") && n == 2) {
      char spec[600];
      int parts = 1;
      char *sp = strchr(line + 7, ' ');
      if (sp) parts = atoi(sp + 1);
      snprintf(spec, sizeof spec, "%s:%d", arg1, parts);
      ok = create_topic(mc, spec) == 0;
    } else if (n >= 1 && !strcmp(cmd, "leader")) {
      int part = -1, id = -1;
      ok = sscanf(line, "%*s %*s %d %d", &part, &id) == 2 &&
           rd_kafka_mock_partition_set_leader(mc, arg1, part, id) == RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (n >= 1 && !strcmp(cmd, "fail")) {
      int count = 0, code = 0;
      ok = sscanf(line, "%*s %*s %d %d", &count, &code) == 2 && count > 0 && count <= 100000;
      if (ok) {
        rd_kafka_resp_err_t *errs = calloc((size_t)count, sizeof *errs);
        for (int i = 0; i < count; i++) errs[i] = (rd_kafka_resp_err_t)code;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(arg1), (size_t)count, errs);
        free(errs);
      }
    } else if (n == 2 && !strcmp(cmd, "clear")) {
      rd_kafka_mock_clear_request_errors(mc, (int16_t)atoi(arg1));
      ok = 1;
    } else if (n >= 1 && !strcmp(cmd, "down")) {
      ok = rd_kafka_mock_broker_set_down(mc, n == 2 ? atoi(arg1) : -1) == RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (n >= 1 && !strcmp(cmd, "up")) {
      ok = rd_kafka_mock_broker_set_up(mc, n == 2 ? atoi(arg1) : -1) == RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (n < 1) {
      continue;
    }
    printf(ok ? "OK %s\n" : "ERR %s\n", line);
    fflush(stdout);
  }

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
