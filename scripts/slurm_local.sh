#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the sweep tests (tests/sweep.rs) and for trying
# `hls-gen sweep --engine slurm` without a site cluster. Installs nothing: it needs Debian's
# `slurmctld slurmd slurm-client munge` (.ci/run installs them) and root.
#
#   scripts/slurm_local.sh start [STATE_DIR]   configure and start munged, slurmctld and slurmd;
#                                              prints the SLURM_CONF line to export
#   scripts/slurm_local.sh stop  [STATE_DIR]   stop the daemons this script started
#
# STATE_DIR (default /tmp/hls-gen-slurm) holds slurm.conf, the daemons' state, logs and pid files.
# The munge key is /etc/munge/munge.key (made with mungekey when missing). The node is this host as
# `slurmd -C` describes it, in one partition `debug`; no accounting database (sacct has nothing to
# say; `hls-gen sweep status` reads squeue and the points' result files).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

cmd=${1:-}
state=${2:-/tmp/hls-gen-slurm}
conf="$state/slurm.conf"

die() { echo "slurm_local.sh: $*" >&2; exit 1; }

stop_pidfile() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root (munged, slurmctld and slurmd run as root here)"
  for t in munged mungekey slurmctld slurmd sbatch squeue scontrol; do
    command -v "$t" >/dev/null || die "'$t' is missing: apt-get install slurmctld slurmd slurm-client munge"
  done
  mkdir -p "$state"/{ctld,spool,log}
  # munge: the key, the socket directory, the daemon.
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 600 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    if id munge >/dev/null 2>&1; then
      runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    else
      munged --force --pid-file=/run/munge/munged.pid
    fi
    for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n </dev/null | unmunge >/dev/null || die "munged did not start"
    cp /run/munge/munged.pid "$state/munged.pid"
  fi
  local host node
  host=$(hostname -s)
  node=$(slurmd -C | head -1)
  cat >"$conf" <<EOF
# Written by scripts/slurm_local.sh: one node, this host.
ClusterName=hlsgen
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=30
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  stop_pidfile "$state/slurmd.pid"
  stop_pidfile "$state/slurmctld.pid"
  slurmctld -f "$conf" -i
  slurmd -f "$conf"
  export SLURM_CONF=$conf
  for _ in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && ours_running; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.2
  done
  sinfo >&2 || true
  tail -20 "$state/log/slurmctld.log" "$state/log/slurmd.log" >&2 || true
  die "the node did not become idle"
}

# Both daemons of this STATE_DIR are alive (not another cluster answering on the same ports).
ours_running() {
  local f
  for f in "$state/slurmctld.pid" "$state/slurmd.pid"; do
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || return 1
  done
}

stop() {
  stop_pidfile "$state/slurmd.pid"
  stop_pidfile "$state/slurmctld.pid"
  stop_pidfile "$state/munged.pid"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop [STATE_DIR]" ;;
esac
