# Shared by the compose end-to-end tests (sourced after lib.sh).
#
# compose_setup: a Docker engine (installed and started when missing, with
# its state under $TMP; exit 77 only when no engine can run here), the
# demo images (ci/compose-images.sh) and a project name of our own. On
# exit everything the test created goes: the project's containers and
# network, the images, and the daemon if this test started it.
COMPOSE_FILE_DEMO="$SRC/ci/docker-compose.yml"
PROJECT="fle2e$$"
DOCKER_DIR="$TMP/docker"
IMAGES=()

compose() {
  docker-compose -f "$COMPOSE_FILE_DEMO" -p "$PROJECT" "$@"
}

compose_cleanup() {
  local rc=$?
  set +e
  if [ -n "${DOCKER_READY:-}" ]; then
    compose down -v --remove-orphans -t 2 >/dev/null 2>&1
    left=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null)
    [ -z "$left" ] || docker rm -f $left >/dev/null 2>&1
    [ ${#IMAGES[@]} -eq 0 ] || bash "$SRC/ci/compose-images.sh" remove "${IMAGES[@]}" 2>/dev/null
  fi
  bash "$SRC/ci/docker-setup.sh" stop "$DOCKER_DIR" >/dev/null 2>&1
  cleanup_tmp
  exit $rc
}

skip() { echo "SKIP: $*"; exit 77; }

compose_setup() {
  trap compose_cleanup EXIT
  if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null; then
    bash "$SRC/ci/docker-setup.sh" install >"$TMP/install.log" 2>&1 \
      || skip "Docker cannot be installed here: $(tail -n 1 "$TMP/install.log")"
  fi
  mkdir -p "$DOCKER_DIR"
  local out rc
  set +e
  out=$(bash "$SRC/ci/docker-setup.sh" start "$DOCKER_DIR" 2>"$TMP/docker-start.err")
  rc=$?
  set -e
  [ $rc -eq 3 ] && skip "no Docker engine can run here: $(tail -n 3 "$TMP/docker-start.err" | tr '\n' ' ')"
  [ $rc -eq 0 ] || { cat "$TMP/docker-start.err" >&2; fail "ci/docker-setup.sh start: exit $rc"; }
  eval "$out"
  DOCKER_READY=1
  [ -f "$DOCKER_DIR/dockerd.started" ] && echo "started a private dockerd ($DOCKER_HOST)" \
    || echo "using the running Docker engine"
  local imgs before ref
  # The tags are digests of the binaries: a project someone runs on this
  # engine may use the same ones. Only the tags this test added go.
  before=$(docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null || true)
  imgs=$(bash "$SRC/ci/compose-images.sh" build "$BUILD") || fail "building the demo images failed"
  eval "$imgs"
  export FL_JOBSVC_IMAGE FL_REDIS_IMAGE
  for ref in "$FL_JOBSVC_IMAGE" "$FL_REDIS_IMAGE"; do
    grep -qxF "$ref" <<<"$before" || IMAGES+=("$ref")
  done
}

# compose_up PROFILE [JOBSVC_ARGS]: (re)create the project with jobsvc's
# profile (and options) and wait until every replica answers on its
# published port.
compose_up() {
  local args=()
  [ $# -lt 2 ] || args=(JOBSVC_ARGS="$2")
  env PROFILE="$1" "${args[@]}" docker-compose -f "$COMPOSE_FILE_DEMO" -p "$PROJECT" up -d \
    >"$TMP/compose-up.log" 2>&1 \
    || { cat "$TMP/compose-up.log" >&2; fail "docker-compose up failed"; }
  local i addr
  for i in 1 2 3; do
    addr=$(compose port --index=$i api 8080)
    for _ in $(seq 1 100); do
      curl -sf "http://$addr/api/store" >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -sf "http://$addr/api/store" >/dev/null || fail "api replica $i ($addr) never answered"
  done
  # The demo's dependency (upstream) answers on its published port too.
  addr=$(compose port upstream 8090)
  for _ in $(seq 1 100); do
    curl -sf "http://$addr/items" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://$addr/items" >/dev/null || fail "upstream ($addr) never answered"
}

# Every container of the project runs, none is paused, each restart
# policy is the compose file's (always), and each is on the project's
# network with its service name as an alias.
assert_project_restored() {
  local ids id state svc nets pid n=0
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
  [ -n "$ids" ] || fail "the project has no container"
  for id in $ids; do
    state=$(docker inspect -f '{{.Name}} {{.State.Status}} paused={{.State.Paused}} restart={{.HostConfig.RestartPolicy.Name}}' "$id")
    case "$state" in
      *" running paused=false restart=always") ;;
      *) fail "container not restored: $state" ;;
    esac
    svc=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")
    pid=$(docker inspect -f '{{.State.Pid}}' "$id")
    ! ps -o stat= -p "$pid" --ppid "$pid" | grep -q '^T' \
      || fail "container has stopped processes (SIGSTOP): $state"
    nets=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}:{{$v.Aliases}} {{end}}' "$id")
    case " $nets" in
      *" ${PROJECT}_default:["*"$svc"*) ;;
      *) fail "container not on its network with alias $svc: $state, networks: $nets" ;;
    esac
    n=$((n + 1))
  done
  pass "all $n containers of $PROJECT running, none paused or SIGSTOPped, restart policies as the compose file says, on their network with their aliases"
}
