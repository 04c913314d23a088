/* httpd.h - a loopback HTTP server for tests (libmicrohttpd, its own
 * threads), answering by path:
 *
 *   /status/NNN   status NNN, body "status NNN"
 *   /flip/N       503 to the server's first N requests, 200 afterwards
 *   /close        closes the connection without an answer
 *   anything else 200 "ok"
 *
 * Connections are kept alive between requests. Plus a listening socket that
 * never answers (connections wait in its backlog), for timeouts. */
#ifndef FL_TEST_HTTPD_H
#define FL_TEST_HTTPD_H

struct fl_test_httpd;

/* Start on a free 127.0.0.1 port; NULL when that fails. */
struct fl_test_httpd *fl_test_httpd_start(void);
int fl_test_httpd_port(const struct fl_test_httpd *s);
/* Requests answered (or closed) so far. */
unsigned fl_test_httpd_hits(struct fl_test_httpd *s);
/* Connections accepted so far. */
unsigned fl_test_httpd_connections(struct fl_test_httpd *s);
/* Stop (waits for the server's threads) and free; NULL ignored. */
void fl_test_httpd_stop(struct fl_test_httpd *s);

/* A socket listening on 127.0.0.1 that never accepts: returns the fd (close
 * it when done) and sets *port, or -1. */
int fl_test_listen_silent(int *port);

#endif
