#!/bin/sh
# run-nginx.sh DIR PORT DAEMON [WORKERS] [keep-faketime]
#
# Write DIR/nginx.conf - nginx on 127.0.0.1:PORT answering "ok" to every
# request, every file it writes under DIR - and exec nginx with it, so
# the nginx launcher is the process faultline started. DAEMON is the
# `daemon` directive: on (nginx's default: the launcher forks a master
# in a new session and exits) or off (the master stays in the foreground,
# as in a container). keep-faketime adds `env` directives for libfaketime's
# variables: nginx otherwise clears its workers' environment (all but TZ),
# and a worker without them runs on real time (docs/thirdparty.md).
set -eu
dir=$1 port=$2 daemon=$3 workers=${4:-2} keep=${5:-}
mkdir -p "$dir/tmp"
envs=""
if [ "$keep" = keep-faketime ]; then
  envs="env LD_PRELOAD; env FAKETIME_TIMESTAMP_FILE; env FAKETIME_NO_CACHE; env FAKETIME_DISABLE_SHM;"
fi
cat > "$dir/nginx.conf" <<CONF
daemon $daemon;
master_process on;
worker_processes $workers;
pid $dir/nginx.pid;
error_log stderr notice;
$envs
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\n"; }
    }
}
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -e stderr
