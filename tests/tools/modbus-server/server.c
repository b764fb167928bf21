/*
 * A Modbus TCP server on libmodbus, for the collector tests: a Modbus stack that is not
 * pymodbus (the collector's own library) answering as a PLC would.
 *
 * Usage: modbus-server PORT LAYOUT      (PORT 0: any free port)
 *
 * Prints "listening PORT" once it accepts connections. Serves every unit id. SIGHUP
 * reads the layout again (values, bad addresses); SIGTERM or SIGINT ends it.
 *
 * The layout file, one directive a line ('#' starts a comment):
 *   holding ADDR W...        16-bit words from ADDR on (decimal or 0x hex)
 *   input ADDR W...          likewise, input registers
 *   coil ADDR B...           bits (0 or 1) from ADDR on
 *   discrete ADDR B...       likewise, discrete inputs
 *   bad KIND FIRST [LAST]    a read touching FIRST..LAST is answered with exception 2
 *                            (illegal data address)
 *   counter KIND ADDR        the register counts the reads that covered it, counted
 *                            before each answer (so the value read is the count)
 *   delay_ms N               every answer is sent N ms late
 *   trace 1                  print "read KIND ADDR COUNT" on stdout as each read arrives
 * Addresses are protocol addresses (0-65535); anything not written reads as 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

enum { COIL, DISCRETE, HOLDING, INPUT };
static const char *KINDS[] = {"coil", "discrete", "holding", "input"};

typedef struct {
    int kind, first, last;
} span_t;

#define MAX_SPANS 1024
static span_t bad[MAX_SPANS];
static int n_bad;
static span_t counters[MAX_SPANS];
static int n_counters;
static int delay_ms;
static int trace;
static modbus_mapping_t *map;
static const char *layout_path;
static volatile sig_atomic_t reload_wanted, stop_wanted;

static int kind_of(const char *name) {
    for (int k = 0; k < 4; k++)
        if (strcmp(name, KINDS[k]) == 0) return k;
    return -1;
}

static int number(const char *text, long *out) {
    char *end;
    errno = 0;
    *out = strtol(text, &end, 0);
    return errno == 0 && end != text && *end == '\0';
}

static int set_value(int kind, long addr, long value) {
    if (addr < 0 || addr > 65535) return -1;
    switch (kind) {
    case COIL: map->tab_bits[addr] = value ? 1 : 0; break;
    case DISCRETE: map->tab_input_bits[addr] = value ? 1 : 0; break;
    case HOLDING: map->tab_registers[addr] = (uint16_t)value; break;
    case INPUT: map->tab_input_registers[addr] = (uint16_t)value; break;
    }
    return 0;
}

/* Reads the layout; on an error keeps going and says where (returns the error count). */
static int load_layout(void) {
    FILE *f = fopen(layout_path, "r");
    if (f == NULL) {
        fprintf(stderr, "modbus-server: %s: %s\n", layout_path, strerror(errno));
        return 1;
    }
    n_bad = n_counters = 0;
    delay_ms = trace = 0;
    char *line = NULL;
    size_t size = 0;
    int lineno = 0, errors = 0;
    while (getline(&line, &size, f) != -1) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *save = NULL;
        char *word = strtok_r(line, " \t\r\n", &save);
        if (word == NULL) continue;
        char *args[4] = {NULL};
        long a, b;
        if (strcmp(word, "delay_ms") == 0 || strcmp(word, "trace") == 0) {
            args[0] = strtok_r(NULL, " \t\r\n", &save);
            if (args[0] && number(args[0], &a) && a >= 0) {
                *(word[0] == 'd' ? &delay_ms : &trace) = (int)a;
                continue;
            }
        } else if (strcmp(word, "bad") == 0 || strcmp(word, "counter") == 0) {
            for (int i = 0; i < 3; i++) args[i] = strtok_r(NULL, " \t\r\n", &save);
            int kind = args[0] ? kind_of(args[0]) : -1;
            int is_bad = word[0] == 'b';
            if (kind >= 0 && args[1] && number(args[1], &a) && a >= 0 && a <= 65535) {
                b = a;
                if (args[2] == NULL || (is_bad && number(args[2], &b) && b >= a && b <= 65535)) {
                    span_t *spans = is_bad ? bad : counters;
                    int *n = is_bad ? &n_bad : &n_counters;
                    if (*n < MAX_SPANS) {
                        spans[(*n)++] = (span_t){kind, (int)a, (int)b};
                        continue;
                    }
                }
            }
        } else {
            int kind = kind_of(word);
            args[0] = strtok_r(NULL, " \t\r\n", &save);
            if (kind >= 0 && args[0] && number(args[0], &a)) {
                int ok = 1;
                char *v;
                while (ok && (v = strtok_r(NULL, " \t\r\n", &save)) != NULL)
                    ok = number(v, &b) && set_value(kind, a++, b) == 0;
                if (ok) continue;
            }
        }
        fprintf(stderr, "modbus-server: %s:%d: not understood\n", layout_path, lineno);
        errors++;
    }
    free(line);
    fclose(f);
    return errors;
}

static void on_signal(int sig) {
    if (sig == SIGHUP)
        reload_wanted = 1;
    else
        stop_wanted = 1;
}

static void answer(modbus_t *ctx, const uint8_t *query, int length) {
    int h = modbus_get_header_length(ctx);
    int function = query[h];
    if (function >= 1 && function <= 4) {
        int kind = function == 1 ? COIL : function == 2 ? DISCRETE : function == 3 ? HOLDING : INPUT;
        int addr = (query[h + 1] << 8) | query[h + 2];
        int count = (query[h + 3] << 8) | query[h + 4];
        int last = addr + count - 1;
        if (trace) {
            printf("read %s %d %d\n", KINDS[kind], addr, count);
            fflush(stdout);
        }
        for (int i = 0; i < n_bad; i++) {
            if (bad[i].kind == kind && addr <= bad[i].last && last >= bad[i].first) {
                if (delay_ms) usleep(delay_ms * 1000);
                modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
                return;
            }
        }
        for (int i = 0; i < n_counters; i++) {
            int at = counters[i].first;
            if (counters[i].kind == kind && addr <= at && at <= last) {
                if (kind == HOLDING) map->tab_registers[at]++;
                if (kind == INPUT) map->tab_input_registers[at]++;
            }
        }
    }
    if (delay_ms) usleep(delay_ms * 1000);
    modbus_reply(ctx, query, length, map);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT LAYOUT\n", argv[0]);
        return 2;
    }
    layout_path = argv[2];
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    map = modbus_mapping_new(65536, 65536, 65536, 65536);
    if (ctx == NULL || map == NULL) {
        fprintf(stderr, "modbus-server: %s\n", modbus_strerror(errno));
        return 1;
    }
    if (load_layout() != 0) return 1;
    int server = modbus_tcp_listen(ctx, 32);
    if (server == -1) {
        fprintf(stderr, "modbus-server: cannot listen: %s\n", modbus_strerror(errno));
        return 1;
    }
    struct sockaddr_in bound;
    socklen_t bound_len = sizeof bound;
    getsockname(server, (struct sockaddr *)&bound, &bound_len);
    printf("listening %d\n", ntohs(bound.sin_port));
    fflush(stdout);

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* a read resumes; select returns EINTR all the same */
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fd_set open_fds;
    FD_ZERO(&open_fds);
    FD_SET(server, &open_fds);
    int fd_max = server;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    while (!stop_wanted) {
        if (reload_wanted) {
            reload_wanted = 0;
            load_layout();
        }
        fd_set ready = open_fds;
        if (select(fd_max + 1, &ready, NULL, NULL, NULL) == -1) {
            if (errno == EINTR) continue;
            perror("modbus-server: select");
            return 1;
        }
        for (int fd = 0; fd <= fd_max; fd++) {
            if (!FD_ISSET(fd, &ready)) continue;
            if (fd == server) {
                int client = accept(server, NULL, NULL);
                if (client == -1) continue;
                FD_SET(client, &open_fds);
                if (client > fd_max) fd_max = client;
                continue;
            }
            modbus_set_socket(ctx, fd);
            int rc = modbus_receive(ctx, query);
            if (rc > 0) {
                answer(ctx, query, rc);
            } else if (rc == -1) {
                close(fd);
                FD_CLR(fd, &open_fds);
            }
        }
    }
    close(server);
    modbus_mapping_free(map);
    modbus_free(ctx);
    return 0;
}
