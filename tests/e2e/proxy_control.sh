#!/usr/bin/env bash
# `faultline proxy` from curl and Python, with nginx as the upstream: the
# Toxiproxy API (version, proxies, toxics, populate, reset, enable),
# TCP and HTTP toxics measured through real clients, the heartbeat dead
# man's switch, and a clean stop on SIGINT.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
command -v nginx >/dev/null || { echo "skip: nginx not installed"; exit 77; }
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 77; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NGX_PORT=$(free_port)
API_PORT=$(free_port)
sh examples/thirdparty/nginx/run-nginx.sh "$TMP/nginx" "$NGX_PORT" off 1 >"$TMP/nginx.log" 2>&1 &
NGX_PID=$!
"$FL" proxy --listen "127.0.0.1:$API_PORT" --heartbeat 2s --seed 1 >"$TMP/proxy.out" 2>"$TMP/proxy.err" &
FLP=$!
cleanup() { kill "$FLP" 2>/dev/null || true; kill "$NGX_PID" 2>/dev/null || true; wait 2>/dev/null || true; cleanup_tmp; }
trap cleanup EXIT
API="http://127.0.0.1:$API_PORT"
for i in $(seq 50); do curl -sf "$API/version" >/dev/null && break; sleep 0.1; done
for i in $(seq 50); do curl -sf "http://127.0.0.1:$NGX_PORT/" >/dev/null && break; sleep 0.1; done

curl -sf "$API/version" | grep -q '"version":"faultline-' || fail "/version"
pass "/version answers"

code=$(curl -s -o "$TMP/p.json" -w '%{http_code}' -X POST "$API/proxies" \
  -d "{\"name\":\"web\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$NGX_PORT\",\"protocol\":\"http\"}")
[ "$code" = 201 ] || fail "create proxy: $code $(cat "$TMP/p.json")"
PX=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listen"])' "$TMP/p.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/proxies" \
  -d "{\"name\":\"web\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$NGX_PORT\"}")
[ "$code" = 409 ] || fail "duplicate proxy: $code, expected 409"
[ "$(curl -s "http://$PX/")" = ok ] || fail "nginx through the proxy"
pass "proxy web on $PX relays to nginx"

# http_status: curl sees the injected answer and its marker.
curl -sf -X POST "$API/proxies/web/toxics" -d '{"name":"teapot","type":"http_status","attributes":{"status":418,"body":"short and stout","first":2}}' >/dev/null || fail "add http_status"
out=$(curl -s -i "http://$PX/a"); echo "$out" | grep -q '^HTTP/1.1 418' || fail "418 expected: $out"
echo "$out" | grep -qi '^x-faultline-injected: 1' || fail "no injected marker"
curl -s -o /dev/null -w '%{http_code}' "http://$PX/b" | grep -q 418 || fail "second 418"
[ "$(curl -s "http://$PX/c")" = ok ] || fail "first: 2 did not end"
curl -sf -X DELETE "$API/proxies/web/toxics/teapot" -o /dev/null || fail "delete toxic"
pass "http_status: 2 injected 418s with the marker, then nginx again"

# Pipelined requests to nginx with an injected answer in the middle: the
# answers come back in request order.
curl -sf -X POST "$API/proxies/web/toxics" -d '{"name":"mid","type":"http_status","attributes":{"status":503,"path":"/mid"}}' >/dev/null || fail "add mid"
python3 - "$PX" <<'PY' || fail "pipelining through the proxy to nginx"
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % p for p in (b"a", b"mid", b"b", b"mid", b"c"))
s.sendall(reqs)
data = b""
while data.count(b"HTTP/1.1 ") < 5 or not data.endswith(b"ok\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
codes = [int(part[:3]) for part in data.split(b"HTTP/1.1 ")[1:]]
assert codes == [200, 503, 200, 503, 200], codes
print("pipelined:", codes)
PY
curl -sf -X DELETE "$API/proxies/web/toxics/mid" -o /dev/null
pass "5 pipelined requests to nginx, 2 answered by faultline: order kept"

# latency (TCP toxic) measured by curl as a lower bound.
curl -sf -X POST "$API/proxies/web/toxics" -d '{"type":"latency","stream":"downstream","attributes":{"latency":300}}' >/dev/null || fail "add latency"
t=$(curl -s -o /dev/null -w '%{time_total}' "http://$PX/")
python3 -c "import sys; sys.exit(0 if float('$t') >= 0.3 else 1)" || fail "latency: $t s < 0.3 s"
curl -sf "$API/proxies/web/toxics" | grep -q '"name":"latency_downstream"' || fail "toxic listing"
pass "latency 300 ms: curl took $t s"

# reset, then the rate limit seen by Python's urllib (429 + Retry-After).
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/reset")" = 204 ] || fail "reset"
[ "$(curl -s "$API/proxies/web/toxics")" = "[]" ] || fail "reset left toxics"
curl -sf -X POST "$API/proxies/web/toxics" -d '{"type":"http_ratelimit","attributes":{"per_sec":0.01,"burst":3,"policy_headers":true}}' >/dev/null || fail "add ratelimit"
python3 - "$PX" <<'PY' || fail "python client through the rate limit"
import sys, urllib.request, urllib.error, http.client
ok = limited = 0
ra = None
for i in range(8):
    try:
        with urllib.request.urlopen("http://%s/x%d" % (sys.argv[1], i), timeout=5) as r:
            ok += r.status == 200
    except urllib.error.HTTPError as e:
        limited += e.code == 429
        ra = e.headers.get("Retry-After")
        assert e.headers.get("RateLimit-Policy"), "no RateLimit-Policy"
assert (ok, limited) == (3, 5), (ok, limited)
assert ra and int(ra) >= 1, ra
# http.client on one keep-alive connection: pipelined order is kept.
c = http.client.HTTPConnection(sys.argv[1], timeout=5)
c.request("GET", "/k")
r = c.getresponse(); r.read()
assert r.status == 429 and r.getheader("x-faultline-injected") == "1", r.status
print("urllib: 3 ok, 5 x 429, Retry-After", ra)
PY
pass "http_ratelimit: Python got 3 answers and 5 x 429 with Retry-After"

# down: refused, then back.
curl -sf -X POST "$API/proxies/web" -d '{"enabled":false}' >/dev/null || fail "disable"
set +e; curl -s -o /dev/null "http://$PX/"; rc=$?; set -e
[ $rc -eq 7 ] || fail "disabled proxy: curl exit $rc, expected 7 (refused)"
curl -sf -X POST "$API/proxies/web" -d '{"enabled":true}' >/dev/null || fail "enable"
curl -sf -X POST "$API/reset" -o /dev/null
[ "$(curl -s "http://$PX/")" = ok ] || fail "enabled again"
pass "enabled:false refuses connections, enabled:true relays again"

# populate replaces and creates.
curl -sf -X POST "$API/populate" -d "[{\"name\":\"web2\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$NGX_PORT\"}]" | grep -q '"proxies"' || fail "populate"
curl -sf "$API/proxies" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert set(d)=={"web","web2"}, d' || fail "proxy listing"
pass "populate"

# heartbeat: with no control request for 2 s, the toxic goes by itself.
curl -sf -X POST "$API/proxies/web/toxics" -d '{"type":"timeout","attributes":{"timeout":0}}' >/dev/null
sleep 3.2
grep -q 'heartbeat: no control request' "$TMP/proxy.err" || fail "heartbeat did not fire"
[ "$(curl -s -m 5 "http://$PX/")" = ok ] || fail "toxic still there after the heartbeat"
pass "heartbeat removed every toxic"

kill -INT "$FLP"
for i in $(seq 50); do kill -0 "$FLP" 2>/dev/null || break; sleep 0.1; done
kill -0 "$FLP" 2>/dev/null && fail "faultline proxy still running 5 s after SIGINT"
set +e; wait "$FLP"; rc=$?; set -e
[ $rc -eq 0 ] || { cat "$TMP/proxy.err"; fail "faultline proxy exit $rc after SIGINT"; }
grep -q 'stopped$' "$TMP/proxy.err" || fail "no clean stop message"
pass "SIGINT: stopped cleanly, exit 0"
