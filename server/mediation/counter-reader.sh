# What reads the counters of the live counters panel in your sandbox, put here and run by the
# wirelab server (server/mediation/counter-sampling.ts) as
#   bash counter-reader.sh <softnet|-> <probe command>...
# Each line on stdin asks for one sample, printed as one JSON line:
#   {"t":<$EPOCHREALTIME>,"softnet":[<lines of /proc/net/softnet_stat>],"probes":[<output of each probe as a string, or null when it failed>]}
# Paced by the server's lines rather than a sleep of its own, it forks nothing between samples, and
# it ends when the server closes its stdin or goes away.

# A probe is a command line of plain words (the server builds it from validated names): split, never globbed.
set -f
read_softnet=$1
shift

# $1 as a JSON string, in REPLY: backslashes and quotes escaped, newlines as \n, tabs as spaces.
quote() {
  local text=${1//\\/\\\\}
  text=${text//\"/\\\"}
  text=${text//$'\t'/ }
  REPLY="\"${text//$'\n'/\\n}\""
}

softnet=
while read -r _; do
  t=$EPOCHREALTIME
  if [[ $read_softnet == softnet ]]; then
    mapfile -t lines < /proc/net/softnet_stat
    printf -v softnet '"%s",' "${lines[@]}"
  fi
  probes=
  for command in "$@"; do
    if output=$($command 2>/dev/null); then quote "$output"; else REPLY=null; fi
    probes+=$REPLY,
  done
  printf '{"t":%s,"softnet":[%s],"probes":[%s]}\n' "$t" "${softnet%,}" "${probes%,}"
done
