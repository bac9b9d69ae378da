#!/bin/bash
# lab: ask wirelab, from inside a lab sandbox, to check your work, trace for you, or set a knob
# only the host may turn.   lab list | lab check [exercise] | lab hint <exercise> | lab trace … | lab set …
# The sandbox has no network: wirelab listens on a Unix socket it places in /run/wirelab.
socket=/run/wirelab/lab.sock
if [ ! -S "$socket" ]; then
  echo "lab: wirelab is not reachable from this sandbox (no $socket); use the Check button in the page" >&2
  exit 2
fi
# setsid: the connection runs outside the terminal's process group, so Ctrl+C does not reach it
# (socat would handle SIGINT itself, even when told to ignore it) and the answer still arrives.
ask() { setsid socat -t 120 - "UNIX-CONNECT:$socket"; }
# The network namespace this shell is in, for lab set: its name, nothing for the sandbox's own,
# or ? for one that has no name (made with unshare, say), which lab set cannot reach.
namespace=$(ip netns identify 2>/dev/null)
if [ -z "$namespace" ] && [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ]; then
  namespace='?'
fi
# Ctrl+C during a trace asks the server to stop it, and the counts so far are still printed.
if [ "$1" = trace ]; then
  trap 'printf "\nstop-trace\n" | ask >/dev/null' INT
fi
status=1
while :; do
  if IFS= read -r line; then
    case "$line" in
      "__wirelab_exit__ "*) status=${line#__wirelab_exit__ } ;;
      *) printf '%s\n' "$line" ;;
    esac
  else
    # A read cut short by Ctrl+C (status above 128) goes on reading; the end of the answer stops.
    [ $? -gt 128 ] && continue
    break
  fi
done < <(printf '%s\n%s\n' "$namespace" "$*" | ask)
exit "$status"
