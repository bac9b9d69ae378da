// The checks of "Forward with AF_XDP": the pinned program and map, their attachment, xsk_fwd, and the pings it carried.
import { json, sh, type CommandOutput } from '../define-lab.ts';
import { pingsAnswered } from '../namespaces.ts';
import { xdpAttachments, XDP_ATTACHED_DRV, XDP_ATTACHED_SKB } from '../xdp-attachment.ts';
import { gone, MAP, PIN_DIR, PORTS, PROG, valuesOf, XSK_LOG, type Link, type Port } from './switch.ts';

export const pinned = sh`
  prog=$(bpftool -j prog show pinned ${PROG} 2>/dev/null) || prog=null
  map=$(bpftool -j map show pinned ${MAP} 2>/dev/null) || map=null
  printf '{"prog":%s,"map":%s}' "$prog" "$map"`;

interface Pinned {
  prog: { id: number; type: string; map_ids?: number[] } | null;
  map: { id: number; type: string } | null;
}

export function checkPinned(out: CommandOutput) {
  const { prog, map } = json<Pinned>(out);
  const load = `\`mkdir -p ${PIN_DIR}\`, then \`bpftool prog load xsk_redirect.o ${PROG} type xdp pinmaps ${PIN_DIR}\``;
  if (!prog) return `Nothing is pinned at ${PROG}: compile xsk_redirect.c and load it with ${load}.`;
  if (prog.type !== 'xdp') return `${PROG} is a ${prog.type} program, not an XDP one: load it with \`type xdp\`.`;
  if (!map) return `There is no map at ${MAP}: load the program with \`pinmaps ${PIN_DIR}\`, which pins its xskmap there under its own name.`;
  if (map.type !== 'xskmap') return `${MAP} is a ${map.type} map: bpf_redirect_map() hands frames to AF_XDP sockets only through an xskmap.`;
  if (!prog.map_ids?.length) {
    return `The program at ${PROG} uses no map: it still returns XDP_PASS where the TODO is (a map the code never uses is left out when it is compiled). Finish the TODO, compile, then \`rm -r ${PIN_DIR}\` and load again.`;
  }
  if (!prog.map_ids.includes(map.id)) {
    return `The program at ${PROG} does not use the map at ${MAP} (map ${map.id}; it uses ${prog.map_ids.join(', ')}): it was loaded twice. Start again: \`rm -r ${PIN_DIR}\`, then ${load}, and attach again.`;
  }
  return true;
}

export const attached = sh`
  prog=$(bpftool -j prog show pinned ${PROG} 2>/dev/null | jq '.id') || prog=null
  printf '{"prog":%s,"port-left":%s,"port-right":%s}' "\${prog:-null}" \\
    "$(ip -n switch -j -d link show dev port-left 2>/dev/null || echo null)" \\
    "$(ip -n switch -j -d link show dev port-right 2>/dev/null || echo null)"`;

export function checkAttached(out: CommandOutput) {
  const state = json<{ prog: number | null } & Record<Port, Link[] | null>>(out);
  const missing: string[] = [];
  for (const port of PORTS) {
    const link = state[port]?.[0];
    if (!link) return gone;
    const attachments = xdpAttachments(link);
    const native = attachments.find((a) => a.mode === XDP_ATTACHED_DRV);
    if (native) {
      if (state.prog !== null && native.prog?.id !== state.prog) {
        return `${port} runs XDP program ${native.prog?.id}, not the one pinned at ${PROG} (${state.prog}): attach the pinned one, \`ip -n switch link set dev ${port} xdp pinned ${PROG}\` (after \`xdp off\`).`;
      }
      continue;
    }
    if (attachments.some((a) => a.mode === XDP_ATTACHED_SKB)) {
      return `${port}'s program is attached in generic mode (\`xdpgeneric\`), which runs only once the kernel has built an sk_buff: attach it natively, \`ip -n switch link set dev ${port} xdpgeneric off\`, then \`… xdp pinned ${PROG}\`.`;
    }
    missing.push(port);
  }
  if (missing.length === 0) return state.prog === null ? `Nothing is pinned at ${PROG}: load xsk_redirect.o there first.` : true;
  return `${missing.join(' and ')} ${missing.length === 1 ? 'has' : 'have'} no XDP program: attach the pinned one with \`ip -n switch link set dev ${missing[0]} xdp pinned ${PROG}\`.`;
}

export const forwarder = sh`
  echo "switch=$(ip netns exec switch readlink /proc/self/ns/net 2>/dev/null)"
  for pid in $(pgrep -x xsk_fwd); do echo "process=$pid $(readlink /proc/$pid/ns/net)"; done
  [ -f ${XSK_LOG} ] && echo "log=$(tail -n 2 ${XSK_LOG} | tr '\\n' ' ')"
  true`;

export function checkForwarder(out: CommandOutput) {
  const processes = out.stdout.split('\n').filter((line) => line.startsWith('process=')).map((line) => line.slice('process='.length).split(' '));
  const { switch: switchNamespace, log } = valuesOf(out);
  if (!switchNamespace) return gone;
  if (processes.length === 0) {
    const said = log ? ` Its log (${XSK_LOG}) ends with: ${log.trim()}` : '';
    return `No xsk_fwd is running: build it (\`gcc -O2 -Wall xsk_fwd.c -o xsk_fwd -lxdp -lbpf\`) and start it in the switch, in the background: \`ip netns exec switch ./xsk_fwd port-left port-right > ${XSK_LOG} 2>&1 &\`.${said}`;
  }
  const inSwitch = processes.find(([, namespace]) => namespace === switchNamespace);
  if (!inSwitch) return `xsk_fwd runs (pid ${processes[0][0]}), but not in the switch namespace, where the ports are: stop it (\`kill ${processes[0][0]}\`) and start it with \`ip netns exec switch ./xsk_fwd port-left port-right > ${XSK_LOG} 2>&1 &\`.`;
  return true;
}

// The checker's pings from left to right between two readings of the ports' per-queue XDP
// counters. veth counts a frame in xdp_redirect only once the redirect succeeded (veth_xdp_rcv_one()
// in drivers/net/veth.c), here into an AF_XDP socket's RX ring, and in drops when it failed.
export const xskCrossing = sh`
  count=$((3 + RANDOM % 4))
  echo "count=$count"
  counters() {
    for port in ${PORTS.join(' ')}; do
      ip netns exec switch ethtool -S $port 2>/dev/null | awk -v p="$1_$port" '
        $1 ~ /^rx_queue_[0-9]+_xdp_packets:$/ { seen += $2 }
        $1 ~ /^rx_queue_[0-9]+_xdp_redirect:$/ { redirected += $2 }
        $1 ~ /^rx_queue_[0-9]+_drops:$/ { failed += $2 }
        END { print p "_seen=" seen + 0; print p "_redirected=" redirected + 0; print p "_failed=" failed + 0 }'
    done
  }
  counters before
  echo "received=${pingsAnswered('left', '10.0.0.2', '-c $count -i 0.2')}"
  counters after
  echo "running=$(pgrep -x xsk_fwd | wc -l)"`;

export function checkXskCrossing(out: CommandOutput) {
  const values = valuesOf(out);
  const number = (name: string) => (values[name] === undefined || values[name] === '' ? NaN : Number(values[name]));
  const rise = (port: Port, what: string) => number(`after_${port}_${what}`) - number(`before_${port}_${what}`);
  const count = number('count');
  const received = number('received') || 0;
  if (PORTS.some((port) => ['seen', 'redirected', 'failed'].some((what) => Number.isNaN(rise(port, what))))) return gone;
  const numbers = PORTS.map((port) => `${port}'s XDP program saw ${rise(port, 'seen')} frames, redirected ${rise(port, 'redirected')} to its socket and failed ${rise(port, 'failed')}`).join('; ');
  const sent = `The checker pinged right from left ${count} times and ${received} came back. Meanwhile ${numbers}.`;
  if (received < count) {
    const running = number('running') > 0;
    if (rise('port-left', 'seen') === 0) return `${sent} No XDP program ran on port-left: is the pinned program attached natively to both ports?`;
    if (rise('port-left', 'failed') > 0) return `${sent} The kernel could not put frames into xsk_fwd's socket (rx_queue_0_drops): its fill ring was empty, so xsk_fwd is not giving frames back. Restart it.`;
    if (rise('port-left', 'redirected') === 0) {
      if (!running) return `${sent} No xsk_fwd is running, so the xskmap holds no socket and bpf_redirect_map() returned its fallback (XDP_PASS): start it again (\`ip netns exec switch ./xsk_fwd port-left port-right > ${XSK_LOG} 2>&1 &\`).`;
      return `${sent} Nothing was redirected: does xsk_redirect.c return bpf_redirect_map(&xsks, ctx->ingress_ifindex, XDP_PASS)? If it keys by something else than the ingress ifindex, the lookup finds no socket: xsk_fwd writes each socket under its port's ifindex. Rebuilt it? Then \`rm -r ${PIN_DIR}\`, load and attach again, and restart xsk_fwd (its sockets went with the old map).`;
    }
    if (rise('port-right', 'redirected') === 0) return `${sent} The requests reached xsk_fwd, but no reply came back into port-right: did xsk_fwd send them out of port-right (its log, ${XSK_LOG})?`;
    return sent;
  }
  const bypassed = PORTS.find((port) => rise(port, 'redirected') < count);
  if (bypassed) return `${sent} The pings crossed, but ${bypassed}'s program redirected fewer frames than there were pings: something else carried them.`;
  return true;
}
