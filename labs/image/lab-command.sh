#!/bin/bash
# lab: ask wirelab, from inside a lab sandbox, to check your work, trace for you, or set a knob
# only the host may turn.   lab list | lab check [exercise] | lab hint <exercise> | lab trace … | lab set …
# The sandbox has no network: wirelab listens on a Unix socket it places in /run/wirelab.
socket=/run/wirelab/lab.sock
if [ ! -S "$socket" ]; then
  echo "lab: wirelab is not reachable from this sandbox (no $socket); use the Check button in the page" >&2
  exit 2
fi
ask() { socat -t 120 - "UNIX-CONNECT:$socket"; }
# Ctrl+C during a trace asks the server to stop it, and the counts so far are still printed:
# the connection itself ignores the signal, so the answer still arrives.
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
done < <(trap '' INT; printf '%s\n%s\n' "$(ip netns identify 2>/dev/null)" "$*" | ask)
exit "$status"
