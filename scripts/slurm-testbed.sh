#!/usr/bin/env bash
# A real Slurm 22.05 cluster on loopback (one node, or N nodes on this host), for tests and demos.
# Needs root.
#
#   scripts/slurm-testbed.sh start DIR [--cluster NAME] [--plugin PATH] [--plugin-args "ARGS"]
#                                      [--gpus N] [--cpus N] [--first-job-id N] [--nodes N]
#   scripts/slurm-testbed.sh stop  DIR
#   scripts/slurm-testbed.sh env   DIR      # prints `export SLURM_CONF=...` lines to eval
#   scripts/slurm-testbed.sh status DIR
#
# Everything lives under DIR: a private munged (its own socket), slurm.conf, gres.conf, the
# plugstack file, state, spool, pid and log files. Ports are chosen free at start and recorded in
# DIR/testbed.env. Several testbeds (distinct DIR and --cluster) run side by side on one host.
# --nodes 1 (the default) is one node named after this host (`hostname -s`). --nodes N > 1 gives N
# nodes HOST-n1..HOST-nN, all on this host: one `slurmd -N HOST-nI` each, with its own port
# (Port= on its NodeName line), spool dir (DIR/spool/HOST-nI), pid file and log (DIR/log/slurmd-
# HOST-nI.log); --cpus and --gpus are per node. Jobs see their node in SLURMD_NODENAME.
# `stop` ends exactly the daemons this DIR started, by the pids it recorded, never by name, then
# the step daemons (slurmstepd) its slurmd left behind and their job processes, found by this
# DIR's slurm.conf in their environment (or a file under DIR they hold open), never by name alone.
set -euo pipefail

die() { echo "slurm-testbed: $*" >&2; exit 1; }
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1; dir=$2; shift 2

cluster=rfarm
plugin=""
plugin_args=""
gpus=2
cpus=2
first_job_id=""
nodes=1
while [ $# -gt 0 ]; do
  case "$1" in
    --cluster) cluster=$2; shift 2 ;;
    --plugin) plugin=$2; shift 2 ;;
    --plugin-args) plugin_args=$2; shift 2 ;;
    --gpus) gpus=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --first-job-id) first_job_id=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    *) die "unknown option '$1' (see the usage at the top of $0)" ;;
  esac
done

# Slurm lowercases cluster names; insist on that up front so SLURM_CLUSTER_NAME matches.
[[ "$cluster" =~ ^[a-z][a-z0-9_-]{0,39}$ ]] || die "--cluster '$cluster': use lowercase letters, digits, '-' or '_'"

[[ "$nodes" =~ ^[1-9][0-9]?$ ]] || die "--nodes '$nodes': give a number of nodes from 1 to 99"

host=$(hostname -s)

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# A free TCP port on 127.0.0.1 below the ephemeral range; arguments: ports to avoid (free-port.py).
free_port() { python3 "$(dirname "${BASH_SOURCE[0]}")/free-port.py" "$@"; }

# Stops the daemons recorded under DIR/run: SIGTERM to all at once (each shuts down in parallel),
# then SIGKILL for any still alive after 10 s. Only recorded pids are signalled, never names.
do_stop() {
  [ -d "$dir/run" ] || return 0
  local pids=() f pid
  # run/slurmd.pid for one node, run/slurmd-NODE.pid for each of several.
  for f in "$dir"/run/slurmd.pid "$dir"/run/slurmd-*.pid "$dir/run/slurmctld.pid" "$dir/run/munged.pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if pid_alive "$pid"; then pids+=("$pid"); kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do pid_alive "$pid" && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if pid_alive "$pid"; then
      echo "slurm-testbed: pid $pid ignored SIGTERM, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$dir/run/slurmd.pid" "$dir"/run/slurmd-*.pid "$dir/run/slurmctld.pid" "$dir/run/munged.pid"
  stop_stepds
}

# True when pid $1 is a slurmstepd of THIS testbed: slurmd execs its step daemons with its own
# environment (SLURM_CONF=DIR/etc/slurm.conf, set by do_start) and they keep their slurmd's log
# (under DIR/log) open. Never by name alone: another testbed's step daemons run beside ours.
own_stepd() {
  local p=$1 f comm=""
  { read -r comm <"/proc/$p/comm"; } 2>/dev/null || return 1  # a builtin: this runs for every pid
  [ "$comm" = slurmstepd ] || return 1
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$dir/etc/slurm.conf" && return 0
  for f in /proc/"$p"/fd/*; do
    case "$(readlink "$f" 2>/dev/null)" in "$dir"/*) return 0 ;; esac
  done
  return 1
}

# Alive and not a zombie (pid 1 here need not reap the orphans it inherits).
running() {
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The step daemons slurmd leaves behind when it stops (they are re-parented to pid 1 and outlive
# it, waiting for the job's tasks), and those tasks: each stepd of this testbed with all its
# descendants is stopped (SIGSTOP, so nothing forks past the scan; rescanned until no new pid
# appears), then killed, and waited for (5 s at most). Runs after slurmd is gone, so no new
# stepd can start meanwhile.
stop_stepds() {
  local -A victim=() ppid_of=()
  local p pp changed pid
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    own_stepd "$p" && victim[$p]=1
  done
  [ ${#victim[@]} -gt 0 ] || return 0
  for _ in $(seq 1 20); do
    for pid in "${!victim[@]}"; do kill -STOP "$pid" 2>/dev/null || true; done
    changed=0
    ppid_of=()
    while read -r p pp; do ppid_of[$p]=$pp; done < <(ps -e -o pid=,ppid=)
    for p in "${!ppid_of[@]}"; do
      # Walk up from p: a descendant of a victim is a victim.
      pp=${ppid_of[$p]}
      while [ -n "$pp" ] && [ "$pp" -gt 1 ] && [ -z "${victim[$p]:-}" ]; do
        if [ -n "${victim[$pp]:-}" ]; then victim[$p]=1; changed=1; break; fi
        pp=${ppid_of[$pp]:-}
      done
    done
    [ $changed = 0 ] && break
  done
  echo "slurm-testbed: killing ${#victim[@]} leftover step daemon(s) and job process(es) of $dir" >&2
  for pid in "${!victim[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${!victim[@]}"; do running "$pid" && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  echo "slurm-testbed: some step processes of $dir are still running after SIGKILL" >&2
}

do_env() {
  [ -f "$dir/testbed.env" ] || die "$dir is not a started testbed (no $dir/testbed.env)"
  cat "$dir/testbed.env"
}

do_status() {
  local ok=0
  local d pid daemons=(munged slurmctld slurmd)
  # Several nodes: one slurmd-NODE per node, as do_start listed them.
  [ -s "$dir/etc/slurmd-daemons" ] && mapfile -t daemons < <(printf '%s\n' munged slurmctld; cat "$dir/etc/slurmd-daemons")
  for d in "${daemons[@]}"; do
    pid=$(cat "$dir/run/$d.pid" 2>/dev/null || true)
    if pid_alive "$pid"; then echo "$d running (pid $pid)"; else echo "$d not running"; ok=1; fi
  done
  return $ok
}

do_start() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (slurmd needs it)"
  for b in munged slurmctld slurmd sinfo python3; do
    command -v "$b" >/dev/null || die "'$b' not found: run scripts/install-deps.sh"
  done
  [ -r /etc/munge/munge.key ] || die "/etc/munge/munge.key missing: install the 'munge' package"
  if [ -f "$dir/run/slurmctld.pid" ] && pid_alive "$(cat "$dir/run/slurmctld.pid")"; then
    die "a testbed is already running in $dir (stop it first)"
  fi

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # The munge socket path must stay under ~107 bytes.
  [ ${#dir} -lt 80 ] || die "DIR path too long for a unix socket (${#dir} chars): use a shorter one"
  mkdir -p "$dir"/{munge,state,spool,run,log,etc,jobs}
  chmod 700 "$dir/munge"

  # --- munged, private to this testbed ---
  install -m 0400 /etc/munge/munge.key "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" 2>>"$dir/log/munged.stderr"
  for _ in $(seq 1 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
  [ -S "$dir/munge/munge.socket" ] || die "munged did not start (see $dir/log/munged.log)"

  # One node: named after this host. Several: HOST-n1..HOST-nN, each slurmd on a port of its own.
  local ctld_port slurmd_port node_names=() node_ports=() used i p
  if [ "$nodes" -eq 1 ]; then
    node_names=("$host")
  else
    for i in $(seq 1 "$nodes"); do node_names+=("$host-n$i"); done
  fi
  ctld_port=$(free_port)
  used=$ctld_port
  slurmd_port=$(free_port $used)
  used+=" $slurmd_port"
  if [ "$nodes" -gt 1 ]; then
    for _ in "${node_names[@]}"; do
      # shellcheck disable=SC2086 # $used: the ports taken so far, one argument each
      p=$(free_port $used)
      used+=" $p"
      node_ports+=("$p")
    done
  fi
  local node_expr=$host
  [ "$nodes" -gt 1 ] && node_expr="$host-n[1-$nodes]"
  [ -n "$first_job_id" ] || first_job_id=$(( (RANDOM % 900 + 100) * 1000 ))

  # --- plugstack: the rfarm SPANK plugin when given ---
  : > "$dir/etc/plugstack.conf"
  if [ -n "$plugin" ]; then
    [ -f "$plugin" ] || die "--plugin $plugin: no such file"
    echo "required $(realpath "$plugin") $plugin_args" > "$dir/etc/plugstack.conf"
  fi

  # --- GPUs: Slurm 22.05 drops a file-less GPU ("Removing file-less GPU"), so each one gets a
  # stand-in file under DIR/dev. With task/none nothing opens them; --gres=gpu:N schedules, counts
  # and sets CUDA_VISIBLE_DEVICES as on a real GPU node.
  local gres_node=""
  if [ "$gpus" -gt 0 ]; then
    mkdir -p "$dir/dev"
    for i in $(seq 0 $((gpus - 1))); do : > "$dir/dev/gpu$i"; done
    # Several nodes on one host share the stand-in files (nothing opens them).
    echo "NodeName=$node_expr Name=gpu File=$dir/dev/gpu[0-$((gpus - 1))]" > "$dir/etc/gres.conf"
    gres_node="Gres=gpu:$gpus"
  else
    : > "$dir/etc/gres.conf"
  fi

  # Several slurmd on one host each need their own spool (step sockets are named by job id), pid
  # file and log: Slurm expands %n in these paths to the node's name (slurmd -N NAME).
  local spool_dir=$dir/spool node_suffix="" node_lines=""
  if [ "$nodes" -eq 1 ]; then
    node_lines="NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=4000 $gres_node State=UNKNOWN"
  else
    spool_dir="$dir/spool/%n"
    node_suffix="-%n"
    for i in "${!node_names[@]}"; do
      mkdir -p "$dir/spool/${node_names[$i]}"
      node_lines+="NodeName=${node_names[$i]} NodeHostname=$host NodeAddr=127.0.0.1 Port=${node_ports[$i]} CPUs=$cpus RealMemory=4000 $gres_node State=UNKNOWN"$'\n'
    done
    node_lines=${node_lines%$'\n'}
  fi
  cat > "$dir/etc/slurm.conf" <<EOF
# Generated by rfarm scripts/slurm-testbed.sh for a loopback test cluster.
ClusterName=$cluster
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$spool_dir
SlurmctldPidFile=$dir/run/slurmctld.pid.daemon
SlurmdPidFile=$dir/run/slurmd$node_suffix.pid.daemon
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd$node_suffix.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
PriorityType=priority/multifactor
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
FirstJobId=$first_job_id
MaxArraySize=100001
MaxJobCount=200000
GresTypes=gpu
PlugStackConfig=$dir/etc/plugstack.conf
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
$node_lines
PartitionName=batch Nodes=$node_expr Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  # slurm.conf and gres.conf must sit side by side (Slurm finds gres.conf next to slurm.conf).

  export SLURM_CONF="$dir/etc/slurm.conf"
  # Foreground daemons under nohup keep their pid ours to record and to stop.
  nohup slurmctld -D -i -f "$SLURM_CONF" >"$dir/log/slurmctld.stdout" 2>&1 &
  echo $! > "$dir/run/slurmctld.pid"
  if [ "$nodes" -eq 1 ]; then
    nohup slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.stdout" 2>&1 &
    echo $! > "$dir/run/slurmd.pid"
    rm -f "$dir/etc/slurmd-daemons"
  else
    : > "$dir/etc/slurmd-daemons"
    for n in "${node_names[@]}"; do
      nohup slurmd -D -N "$n" -f "$SLURM_CONF" >"$dir/log/slurmd-$n.stdout" 2>&1 &
      echo $! > "$dir/run/slurmd-$n.pid"
      echo "slurmd-$n" >> "$dir/etc/slurmd-daemons"
    done
  fi

  cat > "$dir/testbed.env" <<EOF
export SLURM_CONF=$dir/etc/slurm.conf
export RFARM_TESTBED_DIR=$dir
export RFARM_TESTBED_CLUSTER=$cluster
EOF

  # Wait until every node is idle (a few seconds on these machines). `state` is the nodes' states,
  # one word per node ("idle" for one node, "idle idle" for two).
  local state="" want d
  want=$(printf 'idle %.0s' "${node_names[@]}"); want=${want% }
  local daemons=(slurmd)
  [ "$nodes" -gt 1 ] && mapfile -t daemons <"$dir/etc/slurmd-daemons"
  node_states() { sinfo -h -N -o '%t' 2>/dev/null | tr '\n' ' ' | sed 's/ $//' || true; }
  for _ in $(seq 1 150); do
    pid_alive "$(cat "$dir/run/slurmctld.pid")" || { tail -20 "$dir/log/slurmctld.log" >&2 || true; do_stop; die "slurmctld exited (log above)"; }
    for d in "${daemons[@]}"; do
      pid_alive "$(cat "$dir/run/$d.pid")" || { tail -20 "$dir/log/$d.log" >&2 || true; do_stop; die "$d exited (log above)"; }
    done
    state=$(node_states)
    [ "$state" = "$want" ] && break
    case "$state" in *inval*|*drain*|*down*) sleep 0.5; state=$(node_states)
      [ "$state" = "$want" ] || break ;; esac
    sleep 0.2
  done
  if [ "$state" != "$want" ]; then
    tail -20 "$dir/log/slurmctld.log" >&2 || true
    do_stop
    die "node(s) not idle after 30 s (state '$state'; logs in $dir/log)"
  fi
  if [ "$nodes" -eq 1 ]; then
    echo "slurm-testbed: cluster '$cluster' up in $dir (ctld port $ctld_port, slurmd port $slurmd_port)"
  else
    echo "slurm-testbed: cluster '$cluster' up in $dir with nodes ${node_names[*]} (ctld port $ctld_port, slurmd ports ${node_ports[*]})"
  fi
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  env) do_env ;;
  status) do_status ;;
  *) usage ;;
esac
